"""Cooperative navigation (Lowe et al. 2017): whether the agents divide the landmarks."""

from __future__ import annotations

from emergent.metrics.navigation import navigation_summary
from emergent.worlds.base import WorldAnalysis, final_rows

DIVIDED = 0.8
"""Final coverage from which the agents divide the landmarks among themselves."""
EMERGING = 0.1
"""Final coverage from which a division is emerging, if also EMERGING_OVER_CHANCE times random
play's."""
EMERGING_OVER_CHANCE = 3


def navigation_note(rows: list[dict]) -> str:
    """Whether the agents spread over the landmarks, against random play."""
    last, rand = final_rows(rows)
    if not last or not rand:
        return ""
    cover, cover_random = last.get("final_coverage"), rand.get("final_coverage")
    if cover is None or cover_random is None:
        return ""
    if cover >= DIVIDED:
        verdict = "**the agents divide the landmarks among themselves**: nearly every landmark "
        verdict += "has its own agent"
    elif cover >= max(EMERGING, EMERGING_OVER_CHANCE * cover_random):
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


ANALYSIS = WorldAnalysis(
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
