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

from emergent.metrics.communication import communication_summary
from emergent.metrics.hunting import hunting_summary
from emergent.metrics.labour import labour_summary
from emergent.metrics.navigation import navigation_summary
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
    per_agent: dict[str, str] = field(default_factory=dict)
    """Bar title -> event: per-agent episode totals plotted for the final evaluation (roles)."""
    counted_events: tuple[str, ...] | None = None
    """Events whose per-agent episode totals are logged (None: all; codes such as tokens are
    not counts)."""


def _social(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    return social_outcomes(rewards, events["removed"])


def _cleanup(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    # NaN (undefined, e.g. shares when nobody cleaned) is written as null by the logger
    return {**social_outcomes(rewards, events["removed"]), **labour_summary(rewards, events)}


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


def final_rows(rows: list[dict]) -> tuple[dict, dict]:
    """The last evaluation row of the learned policy and of random play ({} if none)."""
    learned, randoms = eval_rows(rows, "learned"), eval_rows(rows, "random")
    return (learned[-1] if learned else {}), (randoms[-1] if randoms else {})


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


def labour_note(rows: list[dict]) -> str:
    """Who cleans and who eats at the end of training, against random play."""
    last, rand = final_rows(rows)
    if not last or not rand:
        return ""
    cleaned, cleaned_random = last.get("cleaned_per_agent"), rand.get("cleaned_per_agent")
    if cleaned is None or cleaned_random is None:
        return ""
    if not cleaned:
        return (
            "**Nobody cleans:** the learned agents removed no waste, so apples stop growing "
            "once the river is polluted. This is the free-riding outcome Hughes et al. 2018 "
            "report for selfish agents in Cleanup."
        )
    spec, spec_random = last.get("specialisation"), rand.get("specialisation")
    top = last.get("top_cleaner_share")
    parts = [
        f"Learned agents clean {cleaned:.1f} waste cells each per episode "
        f"(random play: {cleaned_random:.1f}) and eat {last.get('apples_per_agent') or 0:.1f} "
        f"apples each (random: {rand.get('apples_per_agent') or 0:.1f})."
    ]
    if spec is not None and top is not None:
        split = (
            "**a division of labour has emerged**"
            if spec >= 0.3 and (spec_random is None or spec > spec_random + 0.1)
            else "no clear division of labour"
        )
        parts.append(
            f"On average {last.get('cleaners') or 0:.1f} agents mostly clean; the top cleaner "
            f"does {top:.0%} of the group's cleaning; specialisation {spec:.2f} against "
            f"{_fmt_or_dash(spec_random)} for random play (0: everyone does both, 1: pure "
            f"cleaners and pure eaters): {split}."
        )
    return " ".join(parts)


def _fmt_or_dash(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


LABOUR_LABELS = {
    "specialisation": "Specialisation (0 none – 1 complete)",
    "top_cleaner_share": "Top cleaner's share of cleaning",
    "cleaners": "Agents who mostly clean",
    "waste_cleaned_per_agent": "Waste cleaned per agent",
}

CLEANUP = WorldAnalysis(
    heading="Division of labour and social outcomes (Hughes et al. 2018)",
    explanation=(
        "With c_i the waste agent i cleaned and e_i the apples it ate: specialisation = "
        "I(agent; task) / H(task) with both tasks weighted equally (Gorelick et al. 2004), "
        "0 when everyone cleans and eats in equal shares, 1 for pure cleaners and pure eaters; "
        "an agent 'mostly cleans' when c_i / Σc > e_i / Σe. " + SOCIAL_EXPLANATION
    ),
    metrics=("waste_cleaned_per_agent", "specialisation", "top_cleaner_share", *SOCIAL),
    labels={**LABOUR_LABELS, **SOCIAL_LABELS},
    summarize=_cleanup,
    learned="learned to clean and harvest",
    verdict=labour_note,
    per_agent={"waste cleaned": "cleaned", "apples eaten": "apples"},
    counted_events=("apples", "beams", "clean_beams", "tagged", "removed"),
)


def hunting_note(rows: list[dict]) -> str:
    """How often and how the learned wolves catch the prey, against random play."""
    last, rand = final_rows(rows)
    if not last or not rand:
        return ""
    caught, caught_random = last.get("captures_per_episode"), rand.get("captures_per_episode")
    if caught is None or caught_random is None:
        return ""
    text = (
        f"Learned wolves catch the prey {caught:.1f} times per episode "
        f"(random play: {caught_random:.1f})."
    )
    share, share_random = last.get("team_capture_share"), rand.get("team_capture_share")
    if share is not None:
        text += (
            f" {share:.0%} of their captures are team captures, with "
            f"{last.get('wolves_per_capture') or 0:.2f} wolves within the capture radius on "
            f"average (random play: {_fmt_or_dash(share_random)} team share). Part of the team "
            "share is geometry: the larger the radius, the likelier a second wolf is near by "
            "chance, which the random policy's share measures."
        )
    return text


HUNTING = WorldAnalysis(
    heading="Lone and team captures (Leibo et al. 2017)",
    explanation=(
        "Counted per capture, not per wolf: a capture is a step at which a wolf touches the "
        "prey; it is a team capture when two or more wolves are within the capture radius "
        "(each is rewarded), a lone capture otherwise. Team share = team captures / captures; "
        "wolves per capture = rewarded wolves / captures."
    ),
    metrics=("captures_per_episode", "team_capture_share", "wolves_per_capture"),
    labels={
        "captures_per_episode": "Captures per episode",
        "team_capture_share": "Team-capture share",
        "wolves_per_capture": "Wolves within radius per capture",
    },
    summarize=hunting_summary,
    learned="learned to hunt",
    verdict=hunting_note,
    literature={
        "env.capture_radius": {
            "team_capture_share": (
                +1,
                "Leibo et al. 2017 report more cooperative (pack-hunting) policies as the capture "
                "radius grows, since a larger radius makes team capture easier to coordinate",
            ),
        }
    },
)


def navigation_note(rows: list[dict]) -> str:
    """Whether the agents spread over the landmarks, against random play."""
    last, rand = final_rows(rows)
    if not last or not rand:
        return ""
    cover, cover_random = last.get("final_coverage"), rand.get("final_coverage")
    if cover is None or cover_random is None:
        return ""
    if cover >= 0.8:
        verdict = "**the agents divide the landmarks among themselves**: nearly every landmark "
        verdict += "has its own agent"
    elif cover >= max(0.1, 3 * cover_random):
        verdict = "**a division of the landmarks is emerging**: agents settle on distinct "
        verdict += "landmarks far more often than by chance, though not yet on all of them"
    else:
        verdict = "the agents do not yet settle on distinct landmarks"
    return (
        f"Over the last fifth of the episode {cover:.0%} of the landmarks are occupied "
        f"(random play: {cover_random:.0%}), with {last.get('collisions_per_step') or 0:.2f} "
        f"colliding pairs per step (random: {rand.get('collisions_per_step') or 0:.2f}): "
        f"{verdict}."
    )


NAVIGATION = WorldAnalysis(
    heading="Coverage of the landmarks (Lowe et al. 2017)",
    explanation=(
        "A landmark is occupied when an agent is within 0.1 of it (counted once, for its "
        "nearest agent). Coverage = mean over steps of occupied landmarks / N; final "
        "coverage averages the last fifth of the episode; collisions = overlapping pairs per "
        "step (each costs both agents the local penalty)."
    ),
    metrics=("final_coverage", "coverage", "collisions_per_step"),
    labels={
        "final_coverage": "Landmarks occupied (last fifth)",
        "coverage": "Landmarks occupied (episode)",
        "collisions_per_step": "Colliding pairs per step",
    },
    summarize=navigation_summary,
    learned="learned to navigate",
    verdict=navigation_note,
)


def communication_note(rows: list[dict]) -> str:
    """Whether a shared code emerged, and how structured it is, against random play."""
    last, rand = final_rows(rows)
    if not last or not rand:
        return ""
    success, chance = last.get("success_rate"), rand.get("success_rate")
    if success is None or chance is None:
        return ""
    mi, mi_random = last.get("mutual_information"), rand.get("mutual_information")
    topsim = last.get("topographic_similarity")
    verdict = (
        "**a shared code has emerged**"
        if success > chance + 0.25 and (mi or 0) > (mi_random or 0) + 0.5
        else "no shared code yet"
    )
    text = (
        f"The listener picks the target in {success:.0%} of games (random play: {chance:.0%}); "
        f"messages carry {_fmt_or_dash(mi)} bits about the target (random: "
        f"{_fmt_or_dash(mi_random)}, the plug-in estimate's bias): {verdict}."
    )
    if topsim is not None:
        structure = (
            "compositional: similar objects get similar messages"
            if topsim >= 0.5
            else "partly structured"
            if topsim >= 0.2
            else "holistic: message similarity does not follow object similarity"
        )
        text += f" Topographic similarity {topsim:.2f}: the code is {structure}."
    return text


COMMUNICATION = WorldAnalysis(
    heading="Emergent communication (Lewis 1969; Lazaridou et al. 2018)",
    explanation=(
        "Success = share of games won; H(M) = entropy of the messages; I(M; S) = H(S) + H(M) − "
        "H(S, M) between messages and targets, in bits (plug-in estimates); topographic "
        "similarity = Spearman correlation between the Hamming distances of target pairs and "
        "the edit distances of their messages (Brighton & Kirby 2006)."
    ),
    metrics=("success_rate", "mutual_information", "message_entropy", "topographic_similarity"),
    labels={
        "success_rate": "Games won",
        "mutual_information": "I(message; target) (bits)",
        "message_entropy": "Message entropy H(M) (bits)",
        "topographic_similarity": "Topographic similarity",
    },
    summarize=communication_summary,
    learned="learned to communicate",
    verdict=communication_note,
    counted_events=("success",),
)

WORLDS: dict[str, WorldAnalysis] = {
    "commons": COMMONS,
    "cleanup": CLEANUP,
    "wolfpack": HUNTING,
    "spread": NAVIGATION,
    "signalling": COMMUNICATION,
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
