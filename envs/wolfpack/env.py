"""`WolfpackEnv`: the stateful shell around the pure Wolfpack rules."""

from __future__ import annotations

import gymnasium
import numpy as np

from envs.core import RulesEnv, make_env
from envs.wolfpack import render as _render
from envs.wolfpack import rules
from envs.wolfpack.config import WolfpackConfig


class WolfpackEnv(RulesEnv):
    """B copies of Wolfpack; the agents are the wolves. Holds the state and the generator.

    Actions (B, A) in [0, 7); obs (B, A, V, V, 3); truncated once t == max_steps.

    Args:
        cfg: the game settings.
        batch_size: B, copies stepped together.
        seed: seed of the generator (None: fresh entropy).
    """

    name = "wolfpack"
    rules = rules
    event_names = rules.EVENT_NAMES

    def _setup(self, cfg: WolfpackConfig) -> None:
        self.num_agents = cfg.num_wolves
        self.max_steps = cfg.max_steps
        V = cfg.view_size
        self.observation_space = gymnasium.spaces.Box(0, 255, (V, V, 3), np.uint8)
        self.action_space = gymnasium.spaces.Discrete(len(rules.ACTIONS))

    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame (H*8, W*8, 3) uint8 of copy `index`."""
        return _render.render(self.cfg, self.state, index)


def make(batch_size: int = 1, seed: int | None = None, **kwargs: object) -> WolfpackEnv:
    """Build `WolfpackEnv` from keyword settings of `WolfpackConfig`.

    Raises:
        ValueError: an unknown or invalid setting.
    """
    return make_env(WolfpackEnv, WolfpackConfig, batch_size, seed, kwargs)
