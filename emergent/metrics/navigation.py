"""Cooperative navigation (Spread): do the agents divide the landmarks among themselves?

In Spread (Lowe et al. 2017, "Multi-agent actor-critic for mixed cooperative-competitive
environments", the `simple_spread` scenario of MPE) N agents must cover N landmarks without
colliding; the shared reward is -sum_l min_i ||x_i - l||. Covering every landmark needs each
agent to pick a different one: an implicit division of targets, without communication.

Inputs are the per-agent events of `envs.spread`, each (..., T, N): "covered" (landmarks
within 0.1 of agent i of which i is the nearest agent) and "collisions" (other agents
overlapping agent i).
"""

from __future__ import annotations

import numpy as np


def coverage(covered: np.ndarray, final_steps: int | None = None) -> np.ndarray:
    """Share of the landmarks occupied, averaged over steps: mean_t sum_i covered_t^i / N.

    Args:
        covered: (..., T, N) counts; N agents and N landmarks.
        final_steps: average over the last `final_steps` steps only (the settled formation);
            None averages over the whole episode.
    Returns:
        (...,) in [0, 1].
    """
    covered = np.asarray(covered, dtype=np.float64)
    if final_steps is not None:
        covered = covered[..., -final_steps:, :]
    return covered.sum(axis=-1).mean(axis=-1) / covered.shape[-1]


def collisions_per_step(collisions: np.ndarray) -> np.ndarray:
    """Colliding pairs per step: mean_t sum_i collisions_t^i / 2 (each pair counts twice).

    Args:
        collisions: (..., T, N).
    Returns:
        (...,) non-negative.
    """
    return np.asarray(collisions, dtype=np.float64).sum(axis=-1).mean(axis=-1) / 2


def navigation_summary(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    """Scalars for metrics.jsonl: coverage over the episode and over its last fifth,
    colliding pairs per step.

    Args:
        rewards: (B, T, N) (unused: the return is logged by the runner).
        events: {"covered", "collisions"}, each (B, T, N).
    """
    steps = events["covered"].shape[-2]
    return {
        "coverage": float(coverage(events["covered"]).mean()),
        "final_coverage": float(coverage(events["covered"], max(1, steps // 5)).mean()),
        "collisions_per_step": float(collisions_per_step(events["collisions"]).mean()),
    }
