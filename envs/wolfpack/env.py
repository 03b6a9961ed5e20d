"""`WolfpackEnv`: the stateful shell around the pure Wolfpack rules."""

from __future__ import annotations

from dataclasses import fields

import gymnasium
import numpy as np

from envs.core import BatchedEnv, StepResult
from envs.wolfpack import render as _render
from envs.wolfpack import rules
from envs.wolfpack.config import WolfpackConfig


class WolfpackEnv(BatchedEnv):
    """B copies of Wolfpack; the agents are the wolves. Holds the state and the generator.

    Args:
        cfg: the game settings.
        batch_size: B, copies stepped together.
        seed: seed of the generator (None: fresh entropy).
    """

    event_names = rules.EVENT_NAMES

    def __init__(self, cfg: WolfpackConfig, batch_size: int = 1, seed: int | None = None) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"wolfpack: batch_size={batch_size!r}; must be an integer >= 1")
        self.cfg = cfg
        self.num_agents = cfg.num_wolves
        self.batch_size = batch_size
        self.max_steps = cfg.max_steps
        V = cfg.view_size
        self.observation_space = gymnasium.spaces.Box(0, 255, (V, V, 3), np.uint8)
        self.action_space = gymnasium.spaces.Discrete(len(rules.ACTIONS))
        self._rng = np.random.default_rng(seed)
        self.state = rules.reset(cfg, batch_size, self._rng)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start every copy afresh (re-seeding when `seed` is given); obs (B, A, V, V, 3)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.state = rules.reset(self.cfg, self.batch_size, self._rng)
        return rules.observe(self.cfg, self.state)

    def step(self, actions: np.ndarray) -> StepResult:
        """Advance every copy with actions (B, A) in [0, 7); truncated once t == max_steps."""
        actions = np.asarray(actions)
        shape = (self.batch_size, self.num_agents)
        if actions.shape != shape:
            raise ValueError(f"wolfpack: actions shape {actions.shape}; expected {shape}")
        if actions.size and (actions.min() < 0 or actions.max() >= len(rules.ACTIONS)):
            raise ValueError(f"wolfpack: actions must be in [0, {len(rules.ACTIONS)})")
        self.state, rewards, events = rules.step(self.cfg, self.state, actions, self._rng)
        obs = rules.observe(self.cfg, self.state)
        truncated = self.state.t >= self.max_steps
        return StepResult(obs, rewards, np.zeros_like(truncated), truncated, events)

    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame (H*8, W*8, 3) uint8 of copy `index`."""
        return _render.render(self.cfg, self.state, index)


def make(batch_size: int = 1, seed: int | None = None, **kwargs: object) -> WolfpackEnv:
    """Build `WolfpackEnv` from keyword settings of `WolfpackConfig`.

    Raises:
        ValueError: an unknown or invalid setting.
    """
    allowed = [f.name for f in fields(WolfpackConfig)]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"wolfpack: unknown option(s) {unknown}; allowed: {', '.join(allowed)}")
    try:
        cfg = WolfpackConfig(**kwargs)
    except TypeError as err:  # e.g. a value of the wrong type compared with a number
        raise ValueError(f"wolfpack: invalid option value ({err})") from None
    return WolfpackEnv(cfg, batch_size=batch_size, seed=seed)
