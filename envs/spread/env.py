"""`SpreadEnv`: the stateful shell around the pure Spread rules."""

from __future__ import annotations

import gymnasium
import numpy as np

from envs.core import RulesEnv, make_env
from envs.spread import render as _render
from envs.spread import rules
from envs.spread.config import SpreadConfig


class SpreadEnv(RulesEnv):
    """B copies of Spread; holds the state and the random generator of resets.

    Actions (B, N) in 0..4, or (B, N, 5) continuous ones (clipped to [0, 1]); obs (B, N, 6N);
    truncated once t == max_cycles, never terminated.

    Args:
        cfg: the game settings.
        batch_size: B, copies stepped together.
        seed: seed of the generator (None: fresh entropy).
    """

    name = "spread"
    rules = rules
    event_names = rules.EVENT_NAMES

    def _setup(self, cfg: SpreadConfig) -> None:
        self.num_agents = cfg.num_agents
        self.max_steps = cfg.max_cycles
        inf = np.float32(np.inf)
        self.observation_space = gymnasium.spaces.Box(-inf, inf, (cfg.obs_size,), np.float32)
        if cfg.continuous_actions:
            self.action_space = gymnasium.spaces.Box(0.0, 1.0, (rules.NUM_ACTIONS,), np.float32)
            self._action_shape = (self.batch_size, cfg.num_agents, rules.NUM_ACTIONS)
        else:
            self.action_space = gymnasium.spaces.Discrete(rules.NUM_ACTIONS)
            self._action_shape = (self.batch_size, cfg.num_agents)

    def set_state(self, state: rules.SpreadState) -> np.ndarray:
        """Continue from a given state (e.g. `rules.make_state(...)`); return its observations."""
        if state.pos.shape != (self.batch_size, self.num_agents, 2):
            raise ValueError(
                f"spread: state pos shape {state.pos.shape}; expected "
                f"{(self.batch_size, self.num_agents, 2)}"
            )
        self.state = state
        return rules.observe(self.cfg, state)

    def _check_actions(self, actions: np.ndarray) -> None:
        if actions.shape != self._action_shape:
            raise ValueError(
                f"spread: actions shape {actions.shape}; expected {self._action_shape}"
            )
        if not self.cfg.continuous_actions and (
            actions.dtype.kind not in "iu" or actions.min() < 0 or actions.max() >= 5
        ):
            raise ValueError("spread: discrete actions must be integers in [0, 5)")

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        self.state, obs, rewards, events = rules.step(self.cfg, self.state, actions)
        return obs, rewards, events

    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame (H, W, 3) uint8 of copy `index`."""
        return _render.render(self.state, index)


def make(batch_size: int = 1, seed: int | None = None, **kwargs: object) -> SpreadEnv:
    """Build `SpreadEnv` from keyword settings of `SpreadConfig`.

    Raises:
        ValueError: an unknown or invalid setting.
    """
    return make_env(SpreadEnv, SpreadConfig, batch_size, seed, kwargs)
