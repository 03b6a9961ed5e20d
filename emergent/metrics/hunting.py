"""Hunting metrics of Wolfpack episodes: how often the prey is caught, and by how many wolves.

Ref: Leibo et al. 2017, "Multi-agent reinforcement learning in sequential social dilemmas"
(AAMAS; arXiv:1702.03037), the Wolfpack game, where lone-wolf and team captures are compared
as the capture radius and the team reward change.

Inputs are the per-wolf events of `envs.wolfpack` with shape (..., T, A): "team_captures"
and "lone_captures" are 1 for every wolf rewarded in a capture with n >= 2 (resp. n = 1)
wolves within the capture radius.

Counting per capture, not per wolf: a team capture by n wolves sets n per-wolf events, so
summing events over wolves would count it n times and inflate the team share (one lone and
one two-wolf capture would give 2/3 instead of 1/2). There is one prey per copy, so at most
one capture per step: with c_t = 1[sum_i (team_t^i + lone_t^i) > 0] the capture indicator
and m_t = 1[sum_i team_t^i > 0] the team indicator, captures are counted as sum_t c_t.
"""

from __future__ import annotations

import numpy as np


def _rewarded(events: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(wolves rewarded per step (..., T), team capture indicator (..., T))."""
    team = np.asarray(events["team_captures"]) > 0
    lone = np.asarray(events["lone_captures"]) > 0
    return (team | lone).sum(axis=-1), team.any(axis=-1)


def captures_per_episode(events: dict[str, np.ndarray]) -> np.ndarray:
    """Captures in each episode: C = sum_t c_t.

    Args:
        events: {"team_captures", "lone_captures"}, each (..., T, A).
    Returns:
        (...,) integers.
    """
    wolves, _ = _rewarded(events)
    return (wolves > 0).sum(axis=-1)


def team_capture_share(events: dict[str, np.ndarray]) -> np.ndarray:
    """Share of the captures made by a team: sum_t m_t / sum_t c_t, per episode.

    1 - share is the share of lone-wolf captures. NaN for an episode without captures.

    Args:
        events: {"team_captures", "lone_captures"}, each (..., T, A).
    Returns:
        (...,), in [0, 1] or NaN.
    """
    wolves, team = _rewarded(events)
    captures = (wolves > 0).sum(axis=-1)
    out = np.full(captures.shape, np.nan)
    return np.divide(team.sum(axis=-1), captures, out=out, where=captures > 0)


def wolves_per_capture(events: dict[str, np.ndarray]) -> np.ndarray:
    """Mean number of wolves rewarded per capture (those within the capture radius):
    sum_t sum_i (team_t^i + lone_t^i) / sum_t c_t, per episode; NaN without captures.

    Args:
        events: {"team_captures", "lone_captures"}, each (..., T, A).
    Returns:
        (...,), in [1, A] or NaN.
    """
    wolves, _ = _rewarded(events)
    captures = (wolves > 0).sum(axis=-1)
    out = np.full(captures.shape, np.nan)
    return np.divide(wolves.sum(axis=-1), captures, out=out, where=captures > 0)


def hunting_summary(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    """Scalars of a batch of episodes for metrics.jsonl.

    Ratios pool the captures of all episodes (sum over episodes of the numerator over the sum
    of the denominator), so every capture weighs the same and episodes without captures do
    not make the result NaN; a ratio is NaN only if no episode has a capture.

    Args:
        rewards: (B, T, A).
        events: {"team_captures", "lone_captures"}, each (B, T, A).
    Returns:
        {"captures_per_episode", "team_captures_per_episode", "lone_captures_per_episode",
        "team_capture_share", "wolves_per_capture", "reward_per_capture"}: the last is the
        wolves' total reward per capture (r_lone alone, n * r_team * n / 2 by n wolves).
    """
    wolves, team = _rewarded(events)
    episodes = max(int(np.prod(wolves.shape[:-1])), 1)
    captures = int((wolves > 0).sum())
    teams = int(team.sum())

    def per_capture(total: float) -> float:
        return total / captures if captures else float("nan")

    return {
        "captures_per_episode": captures / episodes,
        "team_captures_per_episode": teams / episodes,
        "lone_captures_per_episode": (captures - teams) / episodes,
        "team_capture_share": per_capture(teams),
        "wolves_per_capture": per_capture(float(wolves.sum())),
        "reward_per_capture": per_capture(float(np.asarray(rewards, dtype=np.float64).sum())),
    }
