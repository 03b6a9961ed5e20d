"""`SignallingEnv`: the stateful shell around the pure Lewis signalling game rules."""

from __future__ import annotations

from dataclasses import fields

import gymnasium
import numpy as np

from envs.core import BatchedEnv, StepResult
from envs.signalling import render as _render
from envs.signalling import rules
from envs.signalling.config import SignallingConfig


class SignallingEnv(BatchedEnv):
    """B copies of the Lewis signalling game; holds the state and the random generator.

    Args:
        cfg: the game settings.
        batch_size: B, copies stepped together.
        seed: seed of the generator (None: fresh entropy).
    """

    def __init__(self, cfg: SignallingConfig, batch_size: int = 1, seed: int | None = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"signalling: batch_size={batch_size!r}; must be an integer >= 1")
        self.cfg = cfg
        self.num_agents = cfg.num_agents
        self.batch_size = batch_size
        self.max_steps = cfg.max_steps
        self.event_names = rules.event_names(cfg)
        self.observation_space = gymnasium.spaces.Box(0.0, 1.0, (rules.obs_size(cfg),), np.float32)
        self.action_space = gymnasium.spaces.Discrete(cfg.num_actions)
        self._rng = np.random.default_rng(seed)
        self.state = rules.reset(cfg, batch_size, self._rng)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Draw new objects in every copy (re-seeding when `seed` is given); obs (B, A, D)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state = rules.reset(self.cfg, self.batch_size, self._rng)
        return rules.observe(self.cfg, self.state)

    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every copy with actions (B, A) in [0, max(V, K)); the game is over
        (terminated, never truncated) after the listeners' choice at step L + 1."""
        actions = np.asarray(actions)
        shape = (self.batch_size, self.num_agents)
        if actions.shape != shape:
            raise ValueError(f"signalling: actions shape {actions.shape}; expected {shape}")
        n = self.cfg.num_actions
        if actions.size and (actions.min() < 0 or actions.max() >= n):
            raise ValueError(f"signalling: actions must be in [0, {n})")
        if (self.state.t >= self.max_steps).any():
            raise ValueError("signalling: step after the game ended; call reset() first")
        self.state, rewards, events = rules.step(self.cfg, self.state, actions)
        obs = rules.observe(self.cfg, self.state)
        terminated = self.state.t >= self.max_steps
        return StepResult(obs, rewards, terminated, np.zeros_like(terminated), events)

    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame (H, W, 3) uint8 of copy `index`, see `render.render`."""
        return _render.render(self.cfg, self.state, index)


def make(batch_size: int = 1, seed: int | None = None, **kwargs: object) -> SignallingEnv:
    """Build `SignallingEnv` from keyword settings of `SignallingConfig`.

    Raises:
        ValueError: an unknown or invalid setting.
    """
    allowed = [f.name for f in fields(SignallingConfig)]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"signalling: unknown option(s) {unknown}; allowed: {', '.join(allowed)}")
    try:
        cfg = SignallingConfig(**kwargs)
    except TypeError as err:  # e.g. a value of the wrong type compared with a number
        raise ValueError(f"signalling: invalid option value ({err})") from None
    return SignallingEnv(cfg, batch_size=batch_size, seed=seed)
