"""Social-outcome metrics of a multi-agent episode.

Ref: Perolat et al. 2017, "A multi-agent reinforcement learning model of common-pool resource
appropriation" (NeurIPS), section 3 "Social outcome metrics".

Every function takes per-step arrays of one or many episodes with shape (..., T, A): T time
steps, A agents, any leading batch dimensions, and returns one value per episode (...).
With r_t^i agent i's reward at step t and R_i = sum_t r_t^i its return.
"""

from __future__ import annotations

import numpy as np


def efficiency(rewards: np.ndarray) -> np.ndarray:
    """Utilitarian efficiency: total reward per time step.

    U = sum_i R_i / T

    Args:
        rewards: (..., T, A).
    Returns:
        (...,).
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    return rewards.sum(axis=(-2, -1)) / rewards.shape[-2]


def equality(rewards: np.ndarray) -> np.ndarray:
    """Equality: one minus the Gini coefficient of the agents' returns.

    E = 1 - sum_i sum_j |R_i - R_j| / (2 A sum_i R_i)

    Episodes in which nobody earned anything count as perfectly equal (E = 1), the limit of
    the formula for equal returns.

    Args:
        rewards: (..., T, A); returns must be non-negative for E to lie in [1/A, 1].
    Returns:
        (...,).
    """
    returns = np.asarray(rewards, dtype=np.float64).sum(axis=-2)  # (..., A)
    n_agents = returns.shape[-1]
    spread = np.abs(returns[..., :, None] - returns[..., None, :]).sum(axis=(-2, -1))
    total = returns.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gini = spread / (2 * n_agents * total)
    return np.where(total > 0, 1.0 - gini, 1.0)


def sustainability(rewards: np.ndarray) -> np.ndarray:
    """Sustainability: the average time at which rewards are collected.

    S = (1/A) sum_i t_i,  t_i = mean { t : r_t^i > 0 }   (steps counted from 1)

    A late average means the resource still yielded late in the episode. Agents that never
    received a positive reward have no t_i and are left out of the mean; an episode where no
    agent did gives NaN.

    Args:
        rewards: (..., T, A).
    Returns:
        (...,).
    """
    positive = np.asarray(rewards) > 0  # (..., T, A)
    t = np.arange(1, positive.shape[-2] + 1, dtype=np.float64)[:, None]  # (T, 1)
    counts = positive.sum(axis=-2)  # (..., A)
    t_sum = (positive * t).sum(axis=-2)  # (..., A)
    agents_rewarded = (counts > 0).sum(axis=-1)  # (...,)
    t_i = np.divide(t_sum, counts, out=np.zeros_like(t_sum), where=counts > 0)
    mean = np.divide(
        t_i.sum(axis=-1),
        agents_rewarded,
        where=agents_rewarded > 0,
        out=np.full(agents_rewarded.shape, np.nan),
    )
    return mean


def peace(removed: np.ndarray) -> np.ndarray:
    """Peace: the average number of agents in the game (not tagged out) per step.

    P = (A T - sum_i sum_t 1[i tagged out at t]) / T

    Args:
        removed: (..., T, A) truthy while an agent is tagged out.
    Returns:
        (...,), in [0, A].
    """
    removed = np.asarray(removed).astype(bool)
    steps, n_agents = removed.shape[-2:]
    return (n_agents * steps - removed.sum(axis=(-2, -1))) / steps


def social_outcomes(rewards: np.ndarray, removed: np.ndarray) -> dict[str, float]:
    """The four metrics averaged over a batch of episodes: rewards, removed (B, T, A).

    Sustainability averages over the episodes where anyone was rewarded (NaN if none was).
    """
    s = sustainability(rewards)
    return {
        "efficiency": float(np.mean(efficiency(rewards))),
        "equality": float(np.mean(equality(rewards))),
        "sustainability": float(np.mean(s[~np.isnan(s)])) if (~np.isnan(s)).any() else np.nan,
        "peace": float(np.mean(peace(removed))),
    }
