"""What each world's report measures and says: its emergence metrics, their meaning, and the
literature its trends are compared with.

The runner calls `analysis(env).summarize(rewards, events)` on every evaluation's episode log
(the scalars go to metrics.jsonl); the report plots `metrics` over training and against a
swept value, and writes `verdict(rows)`, a paragraph computed from the measured numbers.
A world without an entry gets returns and per-event counts only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from emergent.metrics.social import social_outcomes

Summary = Callable[[np.ndarray, dict[str, np.ndarray]], dict[str, float]]


@dataclass(frozen=True)
class WorldAnalysis:
    """How one world's emergent behaviour is measured and described."""

    heading: str
    """Title of the report's metric section, with its reference."""
    explanation: str
    """The metrics' definitions (formulas), shown above the table."""
    metrics: tuple[str, ...]
    """Keys of `summarize`'s output plotted over training and against a swept value."""
    labels: dict[str, str]
    """Axis label of each metric."""
    summarize: Summary
    """(rewards (B, T, A), events {name: (B, T, A)}) -> scalar metrics of the episodes."""
    learned: str = "learned"
    """Verb phrase for a clear improvement over random ('learned to harvest')."""
    verdict: Callable[[list[dict]], str] | None = None
    """A paragraph on the emergent behaviour, from the metrics rows (may be empty)."""
    literature: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)
    """Swept key -> metric -> (expected sign of the trend as the value grows, the claim)."""


def _social(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    return social_outcomes(rewards, events["removed"])


SOCIAL = ("efficiency", "equality", "sustainability", "peace")
SOCIAL_LABELS = {
    "efficiency": "Efficiency U (reward / step)",
    "equality": "Equality E (1 − Gini)",
    "sustainability": "Sustainability S (mean reward time)",
    "peace": "Peace P (agents in play / step)",
}
SOCIAL_EXPLANATION = (
    "Efficiency U = Σ_i R_i / T; equality E = 1 − Σ_i Σ_j |R_i − R_j| / (2N Σ_i R_i); "
    "sustainability S = mean over agents of the mean time step of their rewards; "
    "peace P = (N·T − Σ_i Σ_t 1[i tagged out at t]) / T. Measured on the evaluation episodes."
)

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


def eval_rows(rows: list[dict], policy: str) -> list[dict]:
    """Evaluation rows of one policy ('learned' or 'random'), by step."""
    found = [r for r in rows if r.get("kind") == "eval" and r.get("policy") == policy]
    return sorted(found, key=lambda r: r["step"])


def tragedy_note(rows: list[dict]) -> str:
    """Says, from the numbers, whether learning exhausted the resource earlier in the episode."""
    learned, randoms = eval_rows(rows, "learned"), eval_rows(rows, "random")
    if not learned or not randoms:
        return ""
    s_random, s_final = randoms[-1].get("sustainability"), learned[-1].get("sustainability")
    if not s_random or not s_final:
        return ""
    peak = max(learned, key=lambda r: r.get("return") or 0.0)
    if s_final < 0.8 * s_random:
        final = learned[-1]["return"] or 0.0
        course = (
            f"the return peaks at {peak['return']:.1f} ({peak['step']:,} agent-steps) before "
            f"greed lowers it to {final:.1f}"
            if final < 0.9 * (peak["return"] or 0.0)
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


COMMONS = WorldAnalysis(
    heading="Social outcomes (Perolat et al. 2017)",
    explanation=SOCIAL_EXPLANATION,
    metrics=SOCIAL,
    labels=SOCIAL_LABELS,
    summarize=_social,
    learned="learned to harvest",
    verdict=tragedy_note,
    literature={"env.regrowth_scale": SCARCITY_LITERATURE},
)

WORLDS: dict[str, WorldAnalysis] = {
    "commons": COMMONS,
}

PLAIN = WorldAnalysis(
    heading="Metrics",
    explanation="Returns and per-agent event counts of the evaluation episodes.",
    metrics=(),
    labels={},
    summarize=lambda rewards, events: {},
)


def analysis(env_name: str) -> WorldAnalysis:
    """The world's analysis, or returns and event counts only for a world without one."""
    return WORLDS.get(env_name, PLAIN)
