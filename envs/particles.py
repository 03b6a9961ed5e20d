"""MPE particle physics without contact, shared by the worlds whose agents never collide
(speaker-listener, reference): batched point masses, discrete moves, one-hot messages.

The constants are Spread's (`envs.spread.rules`), which follow MPE2 1.1 (`mpe2/_mpe_utils/
core.py` World.integrate_state and `simple_env.py` _set_action). One step, for unit mass:

    p' = p + v dt,   v' = (1 - damping) v + u dt        (dt = 0.1, damping = 0.25)

with u = SENSITIVITY * (x, y) of the discrete move (5 * (0, 0), (-1, 0), (+1, 0), (0, -1),
(0, +1)). In these scenarios no entity collides, so there is no contact force, and no agent
has a speed cap. Positions and velocities are float64, as in mpe2.
"""

from __future__ import annotations

import numpy as np

from envs.messages import SILENT
from envs.spread.rules import DAMPING, DT, MOVES, NUM_ACTIONS

__all__ = ["DAMPING", "DT", "MOVES", "NUM_ACTIONS", "integrate", "scattered", "split_action"]


def integrate(
    pos: np.ndarray, vel: np.ndarray, moves: np.ndarray, movable: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One semi-implicit Euler step of every agent (mpe2 World.integrate_state).

    Args:
        pos, vel: (B, A, 2) float64.
        moves: (B, A) integers in 0..4, the discrete move of each agent.
        movable: (A,) bool; agents that are not movable keep their position and velocity
            (mpe2 skips them). None: all move.
    Returns:
        new (pos, vel), (B, A, 2) float64 each.
    """
    new_pos = pos + vel * DT
    new_vel = vel * (1 - DAMPING) + MOVES[moves] * DT  # mass 1
    if movable is None:
        return new_pos, new_vel
    keep = ~movable[:, None]  # (A, 1)
    return np.where(keep, pos, new_pos), np.where(keep, vel, new_vel)


def split_action(actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mpe2's discrete action of a mover that speaks, a = move + 5 * token (simple_env
    `_execute_world_step`: move = a % 5, then token = a // 5); returns (move, token)."""
    return actions % NUM_ACTIONS, actions // NUM_ACTIONS


def scattered(
    batch_size: int, goal_shape: tuple[int, ...], landmarks: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """The fields of B fresh episodes of two agents (mpe2 `reset_world`, in its order of draws):
    goals uniform in 0..landmarks-1, shaped (B, *goal_shape); the two agents, then the
    landmarks, uniform in [-1, 1]^2 (pos (B, 2, 2), landmarks (B, landmarks, 2)), at rest;
    nothing said or heard yet (SILENT, shaped as the goals); t = 0."""
    B = batch_size
    goal = rng.integers(0, landmarks, size=(B, *goal_shape))
    xy = rng.uniform(-1.0, 1.0, size=(B, 2 + landmarks, 2))  # agents, then landmarks
    silent = np.full(goal.shape, SILENT, dtype=np.int64)
    return {
        "pos": xy[:, :2],
        "vel": np.zeros((B, 2, 2)),
        "landmarks": xy[:, 2:],
        "goal": goal,
        "said": silent,
        "heard": silent.copy(),
        "t": np.zeros(B, dtype=np.int32),
    }
