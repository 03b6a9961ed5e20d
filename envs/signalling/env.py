"""`SignallingEnv`: the stateful shell around the pure Lewis signalling game rules."""

from __future__ import annotations

import gymnasium
import numpy as np

from envs.core import RulesEnv, make_env
from envs.signalling import render as _render
from envs.signalling import rules
from envs.signalling.config import SignallingConfig


class SignallingEnv(RulesEnv):
    """B copies of the Lewis signalling game; holds the state and the random generator.

    Actions (B, A) in [0, max(V, K)); obs (B, A, D); each reset draws new objects. The game
    is over (terminated, never truncated) after the listeners' choice at step L + 1.

    Args:
        cfg: the game settings.
        batch_size: B, copies stepped together.
        seed: seed of the generator (None: fresh entropy).
    """

    name = "signalling"
    rules = rules
    terminates = True

    def __init__(self, cfg: SignallingConfig, batch_size: int = 1, seed: int | None = None) -> None:
        if isinstance(batch_size, bool):  # an int to Python, but not a batch size
            raise ValueError(f"signalling: batch_size={batch_size!r}; must be an integer >= 1")
        super().__init__(cfg, batch_size, seed)

    def _setup(self, cfg: SignallingConfig) -> None:
        self.num_agents = cfg.num_agents
        self.max_steps = cfg.max_steps
        self.event_names = rules.event_names(cfg)
        self.observation_space = gymnasium.spaces.Box(0.0, 1.0, (rules.obs_size(cfg),), np.float32)
        self.action_space = gymnasium.spaces.Discrete(cfg.num_actions)

    def _check_actions(self, actions: np.ndarray) -> None:
        super()._check_actions(actions)
        if (self.state.t >= self.max_steps).any():
            raise ValueError("signalling: step after the game ended; call reset() first")

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        self.state, rewards, events = rules.step(self.cfg, self.state, actions)  # no chance
        return rules.observe(self.cfg, self.state), rewards, events

    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame (H, W, 3) uint8 of copy `index`, see `render.render`."""
        return _render.render(self.cfg, self.state, index)


def make(batch_size: int = 1, seed: int | None = None, **kwargs: object) -> SignallingEnv:
    """Build `SignallingEnv` from keyword settings of `SignallingConfig`.

    Raises:
        ValueError: an unknown or invalid setting.
    """
    return make_env(SignallingEnv, SignallingConfig, batch_size, seed, kwargs)
