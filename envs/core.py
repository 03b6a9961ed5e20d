"""The batched environment interface every world in `envs` implements.

A batched environment advances B independent copies of a world with A agents at once. Its
state lives in NumPy arrays with a leading batch dimension, and the rules are pure functions
of (state, actions, rng); the class here is only the stateful shell that holds the current
state and the random generator, so adapters (PettingZoo, SB3, RLlib) stay thin.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

import gymnasium
import numpy as np


class StepResult(NamedTuple):
    """What one batched step returns.

    obs: (B, A, *obs_shape), rewards: (B, A) float32, terminated / truncated: (B,) bool,
    events: per-agent counters of what happened this step, each (B, A).
    """

    obs: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    events: dict[str, np.ndarray]


class BatchedEnv(ABC):
    """B copies of an A-agent world stepped together with vectorised code.

    Copies do not reset themselves: after a step reports `terminated | truncated` for every
    copy, the caller calls `reset`. All copies of a fixed-length world end on the same step.
    """

    num_agents: int
    batch_size: int
    max_steps: int
    observation_space: gymnasium.spaces.Space  # one agent's observation
    action_space: gymnasium.spaces.Space  # one agent's action
    event_names: tuple[str, ...]
    render_mode: str | None = "rgb_array"

    @abstractmethod
    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start a new episode in every copy; return observations (B, A, *obs_shape)."""

    @abstractmethod
    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every copy by one step with actions (B, A)."""

    @abstractmethod
    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame (H, W, 3) uint8 of copy `index`."""
