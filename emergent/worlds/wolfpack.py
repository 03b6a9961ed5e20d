"""Wolfpack (Leibo et al. 2017): lone and team captures, and pack hunting against the capture
radius."""

from __future__ import annotations

from emergent.metrics.hunting import hunting_summary
from emergent.worlds.base import WorldAnalysis, final_rows, fmt_or_dash


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
            f"average (random play: {fmt_or_dash(share_random)} team share). Part of the team "
            "share is geometry: the larger the radius, the likelier a second wolf is near by "
            "chance, which the random policy's share measures."
        )
    return text


ANALYSIS = WorldAnalysis(
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
