"""PettingZoo `ParallelEnv` shell over any `BatchedEnv` with batch_size 1.

Agents are "player_0" .. "player_{A-1}"; each step's `infos[agent]` holds that agent's events
of the step (e.g. {"apples": 1, "beams": 0, ...}). After the episode is truncated (or
terminated) `agents` is empty until the next `reset`.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv

import envs
from envs.core import BatchedEnv

AgentID = str


class PettingZooParallelEnv(ParallelEnv[AgentID, np.ndarray, int]):
    """A batch-of-one `BatchedEnv` as a PettingZoo parallel environment.

    Args:
        env: the core, with `batch_size == 1`.
        name: the environment's registry name (goes into `metadata["name"]`).
        render_mode: None or "rgb_array".
    """

    metadata = {"render_modes": ["rgb_array"], "name": "batched_env", "is_parallelizable": True}

    def __init__(self, env: BatchedEnv, name: str = "batched_env", render_mode: str | None = None):
        if env.batch_size != 1:
            raise ValueError(f"PettingZoo shell needs batch_size=1, got {env.batch_size}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}; allowed: None, 'rgb_array'")
        self.env = env
        self.render_mode = render_mode
        self.metadata = {**type(self).metadata, "name": name}
        self.possible_agents = [f"player_{k}" for k in range(env.num_agents)]
        self.agents: list[AgentID] = []
        self._index = {agent: k for k, agent in enumerate(self.possible_agents)}

    def observation_space(self, agent: AgentID) -> gymnasium.spaces.Space:
        return self.env.observation_space  # one shared object for every agent

    def action_space(self, agent: AgentID) -> gymnasium.spaces.Space:
        return self.env.action_space

    def reset(
        self, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[AgentID, np.ndarray], dict[AgentID, dict]]:
        obs = self.env.reset(seed=seed)  # (1, A, ...)
        self.agents = list(self.possible_agents)
        return self._per_agent(obs[0]), {agent: {} for agent in self.agents}

    def step(self, actions: dict[AgentID, int]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise ValueError("step after the episode ended; call reset() first")
        missing = [agent for agent in self.agents if agent not in actions]
        if missing:
            raise ValueError(f"step needs an action for every live agent; missing {missing}")
        act = np.array([[actions[agent] for agent in self.possible_agents]])  # (1, A)
        obs, rewards, terminated, truncated, events = self.env.step(act)
        infos = {
            agent: {name: int(count[0, k]) for name, count in events.items()}
            for agent, k in self._index.items()
        }
        out = (
            self._per_agent(obs[0]),
            {agent: float(rewards[0, k]) for agent, k in self._index.items()},
            dict.fromkeys(self.agents, bool(terminated[0])),
            dict.fromkeys(self.agents, bool(truncated[0])),
            infos,
        )
        if terminated[0] or truncated[0]:
            self.agents = []
        return out

    def render(self) -> np.ndarray:
        """RGB frame (H, W, 3) uint8 of the current state."""
        return self.env.render(0)

    def _per_agent(self, values: np.ndarray) -> dict[AgentID, np.ndarray]:
        return {agent: values[k] for agent, k in self._index.items()}


def parallel_env(
    name: str = "commons", render_mode: str | None = None, **kwargs: object
) -> PettingZooParallelEnv:
    """`envs.make(name, batch_size=1, **kwargs)` wrapped as a PettingZoo parallel env."""
    return PettingZooParallelEnv(envs.make(name, batch_size=1, **kwargs), name, render_mode)
