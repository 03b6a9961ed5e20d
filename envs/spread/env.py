"""`SpreadEnv`: the stateful shell around the pure Spread rules."""

from __future__ import annotations

from dataclasses import fields

import gymnasium
import numpy as np

from envs.core import BatchedEnv, StepResult
from envs.spread import render as _render
from envs.spread import rules
from envs.spread.config import SpreadConfig


class SpreadEnv(BatchedEnv):
    """B copies of Spread; holds the state and the random generator of resets.

    Args:
        cfg: the game settings.
        batch_size: B, copies stepped together.
        seed: seed of the generator (None: fresh entropy).
    """

    event_names = rules.EVENT_NAMES

    def __init__(self, cfg: SpreadConfig, batch_size: int = 1, seed: int | None = None) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"spread: batch_size={batch_size!r}; must be an integer >= 1")
        self.cfg = cfg
        self.num_agents = cfg.num_agents
        self.batch_size = batch_size
        self.max_steps = cfg.max_cycles
        inf = np.float32(np.inf)
        self.observation_space = gymnasium.spaces.Box(-inf, inf, (cfg.obs_size,), np.float32)
        if cfg.continuous_actions:
            self.action_space = gymnasium.spaces.Box(0.0, 1.0, (rules.NUM_ACTIONS,), np.float32)
            self._action_shape = (batch_size, cfg.num_agents, rules.NUM_ACTIONS)
        else:
            self.action_space = gymnasium.spaces.Discrete(rules.NUM_ACTIONS)
            self._action_shape = (batch_size, cfg.num_agents)
        self._rng = np.random.default_rng(seed)
        self.state = rules.reset(cfg, batch_size, self._rng)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start every copy afresh (re-seeding when `seed` is given); obs (B, N, 6N)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state = rules.reset(self.cfg, self.batch_size, self._rng)
        return rules.observe(self.cfg, self.state)

    def set_state(self, state: rules.SpreadState) -> np.ndarray:
        """Continue from a given state (e.g. `rules.make_state(...)`); return its observations."""
        if state.pos.shape != (self.batch_size, self.num_agents, 2):
            raise ValueError(
                f"spread: state pos shape {state.pos.shape}; expected "
                f"{(self.batch_size, self.num_agents, 2)}"
            )
        self.state = state
        return rules.observe(self.cfg, state)

    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every copy with actions (B, N) in 0..4, or (B, N, 5) continuous ones
        (clipped to [0, 1]); truncated once t == max_cycles, never terminated."""
        actions = np.asarray(actions)
        if actions.shape != self._action_shape:
            raise ValueError(
                f"spread: actions shape {actions.shape}; expected {self._action_shape}"
            )
        if not self.cfg.continuous_actions and (
            actions.dtype.kind not in "iu" or actions.min() < 0 or actions.max() >= 5
        ):
            raise ValueError("spread: discrete actions must be integers in [0, 5)")
        self.state, obs, rewards, events = rules.step(self.cfg, self.state, actions)
        truncated = self.state.t >= self.max_steps
        return StepResult(obs, rewards, np.zeros_like(truncated), truncated, events)

    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame (H, W, 3) uint8 of copy `index`."""
        return _render.render(self.state, index)


def make(batch_size: int = 1, seed: int | None = None, **kwargs: object) -> SpreadEnv:
    """Build `SpreadEnv` from keyword settings of `SpreadConfig`.

    Raises:
        ValueError: an unknown or invalid setting.
    """
    allowed = [f.name for f in fields(SpreadConfig)]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"spread: unknown option(s) {unknown}; allowed: {', '.join(allowed)}")
    try:
        cfg = SpreadConfig(**kwargs)
    except TypeError as err:
        raise ValueError(f"spread: invalid option value ({err})") from None
    return SpreadEnv(cfg, batch_size=batch_size, seed=seed)
