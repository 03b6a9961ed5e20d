"""The batched environment interface every world in `envs` implements.

A batched environment advances B independent copies of a world with A agents at once. Its
state lives in NumPy arrays with a leading batch dimension, and the rules are pure functions
of (state, actions, rng); the class here is only the stateful shell that holds the current
state and the random generator, so adapters (PettingZoo, SB3, RLlib) stay thin.

`RulesEnv` is that shell, shared by every world: a world's `env.py` subclasses it, names its
rules module and spaces, and overrides a hook only where it differs. `make_env` builds a world
from keyword settings of its typed config.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import fields
from types import ModuleType
from typing import Any, ClassVar, NamedTuple, TypeVar

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


class RulesEnv(BatchedEnv):
    """The stateful shell around a world's pure rules: holds cfg, the generator and the state.

    A subclass sets `name` (the prefix of its error messages) and `rules`, a module with
    `reset(cfg, B, rng) -> state` and `observe(cfg, state) -> obs`, and `step(cfg, state,
    actions, rng) -> (state, rewards, events)` unless it overrides `_advance`; `_setup` sets
    num_agents, max_steps and the spaces. Copies end together when `state.t` reaches
    max_steps: truncated, or terminated where `terminates` is set.

    Args:
        cfg: the game settings.
        batch_size: B, copies stepped together.
        seed: seed of the generator (None: fresh entropy).
    """

    name: ClassVar[str]
    rules: ClassVar[ModuleType]
    terminates: ClassVar[bool] = False

    def __init__(self, cfg: Any, batch_size: int = 1, seed: int | None = None) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"{self.name}: batch_size={batch_size!r}; must be an integer >= 1")
        self.cfg = cfg
        self.batch_size = batch_size
        self._setup(cfg)
        self._rng = np.random.default_rng(seed)
        self.state = self.rules.reset(cfg, batch_size, self._rng)

    @abstractmethod
    def _setup(self, cfg: Any) -> None:
        """Set num_agents, max_steps, observation_space and action_space from `cfg`."""

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start every copy afresh (re-seeding when `seed` is given); obs (B, A, *obs_shape)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state = self.rules.reset(self.cfg, self.batch_size, self._rng)
        return self.rules.observe(self.cfg, self.state)

    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every copy with actions (B, A[, ...]), checked by `_check_actions`."""
        actions = np.asarray(actions)
        self._check_actions(actions)
        obs, rewards, events = self._advance(actions)
        done = self.state.t >= self.max_steps
        if self.terminates:
            return StepResult(obs, rewards, done, np.zeros_like(done), events)
        return StepResult(obs, rewards, np.zeros_like(done), done, events)

    def _check_actions(self, actions: np.ndarray) -> None:
        """Raise ValueError unless `actions` is (B, A) in [0, n) of a Discrete(n) action space."""
        shape = (self.batch_size, self.num_agents)
        if actions.shape != shape:
            raise ValueError(f"{self.name}: actions shape {actions.shape}; expected {shape}")
        n = self.action_space.n  # type: ignore[attr-defined]  # Discrete unless overridden
        if actions.size and (actions.min() < 0 or actions.max() >= n):
            raise ValueError(f"{self.name}: actions must be in [0, {n})")

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """Apply the rules to the held state; return (obs, rewards, events)."""
        self.state, rewards, events = self.rules.step(self.cfg, self.state, actions, self._rng)
        return self.rules.observe(self.cfg, self.state), rewards, events


E = TypeVar("E", bound=RulesEnv)


def make_env(
    env_cls: type[E], config_cls: type, batch_size: int, seed: int | None, kwargs: dict
) -> E:
    """Build `env_cls` from keyword settings of the config dataclass `config_cls`.

    Raises:
        ValueError: an unknown option (the message lists the allowed ones) or an invalid value.
    """
    name = env_cls.name
    allowed = [f.name for f in fields(config_cls)]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"{name}: unknown option(s) {unknown}; allowed: {', '.join(allowed)}")
    try:
        cfg = config_cls(**kwargs)
    except TypeError as err:  # e.g. a value of the wrong type compared with a number
        raise ValueError(f"{name}: invalid option value ({err})") from None
    return env_cls(cfg, batch_size=batch_size, seed=seed)
