"""`SpreadEnv`: the generic shell, with Spread's fused step and a way to start from a state."""

from __future__ import annotations

import numpy as np

from envs.core import RulesEnv
from envs.spread import rules


class SpreadEnv(RulesEnv):
    """B copies of Spread (`envs.core.RulesEnv`, built by `envs.spread.make`).

    Spread's step returns the new observations too: the relative positions it computes serve
    both the rewards and the observations (observing separately costs about 65% more at
    B = 1024). Actions (B, N) in 0..4, or (B, N, 5) continuous ones (clipped to [0, 1]).
    """

    def set_state(self, state: rules.SpreadState) -> np.ndarray:
        """Continue from a given state (e.g. `rules.make_state(...)`); return its observations."""
        if state.pos.shape != (self.batch_size, self.num_agents, 2):
            raise ValueError(
                f"spread: state pos shape {state.pos.shape}; expected "
                f"{(self.batch_size, self.num_agents, 2)}"
            )
        self.state = state
        return rules.observe(self.cfg, state)

    def _advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        self.state, obs, rewards, events = rules.step(self.cfg, self.state, actions)
        return obs, rewards, events
