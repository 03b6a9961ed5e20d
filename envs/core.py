"""The batched environment interface every world in `envs` implements, and its one shell.

A batched environment advances B independent copies of a world with A agents at once. Its
state lives in NumPy arrays with a leading batch dimension, and the rules are pure functions
of (state, actions, rng); the class here is only the stateful shell that holds the current
state and the random generator, so adapters (PettingZoo, SB3, RLlib) stay thin.

A world supplies its pure functions as one `Rules` record; `RulesEnv` is the shell that drives
any such record, and `config_from` builds the world's typed config from keyword settings.
A world's config exposes `num_agents` and `max_steps` (fields or properties) and bounds every
size in it (`envs.checks`); the shell bounds B (`check_batch_size`). `World` is an entry of
the registry `envs.WORLDS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, NamedTuple, TypeVar

import gymnasium
import numpy as np

C = TypeVar("C")

MAX_BATCH_SIZE = 1_000_000
"""Largest B `RulesEnv` accepts whatever the world: about 1000 times the largest B the
experiments and benchmarks use (1024)."""
MAX_BATCH_BYTES = 8 * 2**30
"""Largest estimated state + observations of B copies (8 GiB); a step makes temporaries of a
similar size on top, so this is about what a large machine can step."""


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


@dataclass(frozen=True)
class Rules:
    """A world's pure functions, as the shell `RulesEnv` drives them; `cfg` is the world's
    config, `state` its frozen state of B copies (with `t`, (B,) steps since reset).

    Attributes:
        name: the registry name, also the prefix of the shell's error messages.
        reset: reset(cfg, B, rng) -> state.
        step: step(cfg, state, actions, rng) -> (state, rewards (B, A) float32, events); a
            shell subclass that overrides `_advance` calls it in its own form (Spread's step
            returns the observations too).
        observe: observe(cfg, state) -> obs (B, A, *obs_shape).
        render: render(cfg, state, index) -> (H, W, 3) uint8 frame of copy `index`.
        spaces: spaces(cfg) -> (observation space, action space) of one agent.
        event_names: event_names(cfg) -> the keys of `step`'s events.
        terminates: True if the game ends by itself at max_steps (terminated), False if it
            is cut off there (truncated).
    """

    name: str
    reset: Callable[[Any, int, np.random.Generator], Any]
    step: Callable[..., tuple]
    observe: Callable[[Any, Any], np.ndarray]
    render: Callable[[Any, Any, int], np.ndarray]
    spaces: Callable[[Any], tuple[gymnasium.spaces.Space, gymnasium.spaces.Space]]
    event_names: Callable[[Any], tuple[str, ...]]
    terminates: bool = False


class RulesEnv(BatchedEnv):
    """The stateful shell around a world's pure rules: holds cfg, the generator and the state.

    Actions are checked against the action space: (B, A, *action_shape), and integers in
    [0, n) for a Discrete(n) space. Copies end together when `state.t` reaches max_steps:
    truncated, or terminated where `rules.terminates` (then stepping on is an error). A world
    whose step differs in shape subclasses this and overrides `_advance` (Spread).

    Args:
        rules: the world's functions.
        cfg: the game settings (with `num_agents` and `max_steps`).
        batch_size: B, copies stepped together: 1 to MAX_BATCH_SIZE, and no more than fit
            MAX_BATCH_BYTES of state and observations (`copy_bytes` per copy).
        seed: seed of the generator (None: fresh entropy).
    """

    def __init__(
        self, rules: Rules, cfg: Any, batch_size: int = 1, seed: int | None = None
    ) -> None:
        check_batch_size(rules, cfg, batch_size)
        self.name = rules.name
        self.rules = rules
        self.cfg = cfg
        self.batch_size = batch_size
        self.num_agents = cfg.num_agents
        self.max_steps = cfg.max_steps
        self.observation_space, self.action_space = rules.spaces(cfg)
        self.event_names = rules.event_names(cfg)
        self._rng = np.random.default_rng(seed)
        self.state = rules.reset(cfg, batch_size, self._rng)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start every copy afresh (re-seeding when `seed` is given); obs (B, A, *obs_shape)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state = self.rules.reset(self.cfg, self.batch_size, self._rng)
        return self.rules.observe(self.cfg, self.state)

    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every copy with actions (B, A, *action_shape)."""
        actions = np.asarray(actions)
        self._check_actions(actions)
        obs, rewards, events = self._advance(actions)
        done = self.state.t >= self.max_steps
        if self.rules.terminates:
            return StepResult(obs, rewards, done, np.zeros_like(done), events)
        return StepResult(obs, rewards, np.zeros_like(done), done, events)

    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame (H, W, 3) uint8 of copy `index`."""
        return self.rules.render(self.cfg, self.state, index)

    def _check_actions(self, actions: np.ndarray) -> None:
        """Raise a one-line ValueError unless `actions` fit B, A and the action space."""
        space = self.action_space
        shape = (self.batch_size, self.num_agents, *(space.shape or ()))
        if actions.shape != shape:
            raise ValueError(f"{self.name}: actions shape {actions.shape}; expected {shape}")
        if isinstance(space, gymnasium.spaces.Discrete) and (
            actions.dtype.kind not in "iu" or actions.min() < 0 or actions.max() >= space.n
        ):
            raise ValueError(f"{self.name}: actions must be integers in [0, {space.n})")
        if self.rules.terminates and (self.state.t >= self.max_steps).any():
            raise ValueError(f"{self.name}: step after the game ended; call reset() first")

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """Apply the rules to the held state; return (obs, rewards, events)."""
        self.state, rewards, events = self.rules.step(self.cfg, self.state, actions, self._rng)
        return self.rules.observe(self.cfg, self.state), rewards, events


def copy_bytes(rules: Rules, cfg: Any) -> int:
    """Bytes of one copy's state arrays and observations, measured on a one-copy reset drawn
    from a throwaway generator (the shell's own stream is untouched)."""
    state = rules.reset(cfg, 1, np.random.default_rng(0))
    arrays = [getattr(state, f.name) for f in fields(state)]
    obs = rules.observe(cfg, state)
    return obs.nbytes + sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def check_batch_size(rules: Rules, cfg: Any, batch_size: object) -> None:
    """Raise a one-line ValueError, before anything of size B is made, unless `batch_size` is
    an int (not a bool) from 1 to MAX_BATCH_SIZE whose state and observations, estimated as
    B * `copy_bytes`, stay within MAX_BATCH_BYTES."""
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or not 1 <= batch_size <= MAX_BATCH_SIZE
    ):
        raise ValueError(
            f"{rules.name}: batch_size={batch_size!r}; must be an integer from 1 to "
            f"{MAX_BATCH_SIZE:,}"
        )
    estimate, limit = batch_size * copy_bytes(rules, cfg), MAX_BATCH_BYTES
    if estimate > limit:
        raise ValueError(
            f"{rules.name}: batch_size={batch_size}; its state and observations would take "
            f"about {estimate:,} bytes, over the limit of {limit:,} ({limit / 2**30:g} GiB)"
        )


def config_from(world: str, config_cls: type[C], settings: dict[str, Any]) -> C:
    """The config dataclass `config_cls` built from keyword settings.

    Raises:
        ValueError: an unknown option (the message lists the allowed ones) or an invalid value,
            in one line prefixed with `world`.
    """
    allowed = [f.name for f in fields(config_cls)]
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(f"{world}: unknown option(s) {unknown}; allowed: {', '.join(allowed)}")
    try:
        return config_cls(**settings)
    except TypeError as err:  # e.g. a value of the wrong type compared with a number
        raise ValueError(f"{world}: invalid option value ({err})") from None


@dataclass(frozen=True)
class World:
    """One entry of the registry `envs.WORLDS`: a world's rules, its settings, one line."""

    rules: Rules
    """The world's pure batched functions."""
    config: type
    """The world's typed, frozen config dataclass."""
    doc: str
    """One line for listings: the first line of the world's package docstring (its doc page)."""
    shell: type[RulesEnv] = RulesEnv
    """The `BatchedEnv` that drives the rules (a world may fuse steps in a subclass)."""

    def make(self, batch_size: int = 1, seed: int | None = None, **settings: object) -> RulesEnv:
        """B = `batch_size` copies of the world from keyword settings of `config`.

        Raises:
            ValueError: an unknown or invalid setting, in one line.
        """
        cfg = config_from(self.rules.name, self.config, settings)
        return self.shell(self.rules, cfg, batch_size, seed)
