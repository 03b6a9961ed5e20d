"""Commons Harvest (Perolat et al. 2017): the social outcomes, and whether learning brings the
tragedy of the commons (the resource exhausted earlier in the episode than under random play);
with cheap talk, what the agents say (`social.talk`)."""

from __future__ import annotations

import numpy as np

from emergent.metrics import transitions
from emergent.worlds.base import WorldAnalysis, eval_rows
from emergent.worlds.social import (
    SOCIAL,
    SOCIAL_EXPLANATION,
    SOCIAL_LABELS,
    TALK_LABELS,
    social,
    talk,
)

EARLIER_EXHAUSTION = 0.8
"""Learned sustainability below this fraction of random play's: the resource is exhausted
earlier in the episode (the tragedy of the commons)."""
GREED_DROP = 0.9
"""A detected peak of the return (`metrics.transitions.peak`: a rise and a decline each beyond
the noise) whose fitted end lies below this fraction of its height: greed has lowered it."""

# Expected direction of each social metric as the resource becomes more abundant, from the
# literature the scarcity experiment is compared with.
SCARCITY_LITERATURE = {
    "return": (+1, "more apples regrow, so more can be eaten (Perolat et al. 2017)"),
    "efficiency": (+1, "total reward per step grows with the resource (Perolat et al. 2017)"),
    "sustainability": (
        +1,
        "a scarce resource is exhausted early in the episode, an abundant one keeps yielding "
        "(Perolat et al. 2017)",
    ),
    "peace": (
        +1,
        "agents tag each other more when apples are scarce: 'aggressive policies in environments "
        "that combine a scarcity of resources with the possibility of costly action' "
        "(Leibo et al. 2017)",
    ),
    "equality": (
        +1,
        "under scarcity, tagging excludes some agents from the resource, so returns are less "
        "equal (Perolat et al. 2017)",
    ),
}


def summarize(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    """The social outcomes and, with cheap talk, the tokens and what they say of eating."""
    return {**social(rewards, events), **talk(events, "apples")}


def tragedy_note(rows: list[dict]) -> str:
    """Says, from the numbers, whether learning exhausted the resource earlier in the episode."""
    learned, randoms = eval_rows(rows, "learned"), eval_rows(rows, "random")
    if not learned or not randoms:
        return ""
    s_random, s_final = randoms[-1].get("sustainability"), learned[-1].get("sustainability")
    if not s_random or not s_final:
        return ""
    if s_final < EARLIER_EXHAUSTION * s_random:
        final = learned[-1]["return"] or 0.0
        points = [(r["step"], r["return"]) for r in learned if r.get("return") is not None]
        top = transitions.peak(*map(np.asarray, zip(*points, strict=True)))
        course = (
            f"the return peaks at {top.height:.1f} ({top.x:,.0f} agent-steps) before greed "
            f"lowers it to {final:.1f}"
            if top is not None and top.final < GREED_DROP * top.height
            else f"the return still reaches {final:.1f}"
        )
        return (
            f"**The tragedy of the commons:** learned agents collect their apples earlier "
            f"(sustainability {s_final:.0f} against {s_random:.0f} for random play): they "
            f"harvest faster than the apples regrow and exhaust the patches; {course}. This is "
            f"the first phase of learning that Perolat et al. 2017 describe."
        )
    return (
        f"Sustainability {s_final:.0f} against {s_random:.0f} for random play: at this budget "
        f"the learned agents do not exhaust the resource earlier than random play."
    )


ANALYSIS = WorldAnalysis(
    heading="Social outcomes (Perolat et al. 2017)",
    explanation=SOCIAL_EXPLANATION,
    metrics=SOCIAL,
    labels={**SOCIAL_LABELS, **TALK_LABELS},
    summarize=summarize,
    learned="learned to harvest",
    verdict=tragedy_note,
    literature={"env.regrowth_scale": SCARCITY_LITERATURE},
    counted_events=("apples", "beams", "tagged", "removed"),  # not "token", a code
    peaks=("return",),
)
