"""RLlib `MultiAgentEnv` shell over any `BatchedEnv` with batch_size 1 (RLlib's new API stack).

Agents are "player_0" .. "player_{A-1}", as in the PettingZoo shell. Every agent acts on every
step and all of them end together, so `agents` always equals `possible_agents`; the episode's
end is in `terminateds["__all__"]` / `truncateds["__all__"]`. Each step's `infos[agent]` holds
that agent's events of the step (e.g. {"apples": 1, "beams": 0, ...}).

RLlib builds environments itself, from a registered creator and a config dict: `env_creator`
is that creator (`{"name": world, **options}` -> `RLlibEnv`). `import envs` does not import
this module, so Ray is imported only by code that asks for RLlib.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

import envs
from envs.core import BatchedEnv

AgentID = str


class RLlibEnv(MultiAgentEnv):
    """A batch-of-one `BatchedEnv` as an RLlib multi-agent environment.

    Args:
        env: the core, with `batch_size == 1`.
        name: the environment's registry name (goes into `metadata["name"]`).
    """

    metadata = {"render_modes": ["rgb_array"], "name": "batched_env"}
    render_mode = "rgb_array"

    def __init__(self, env: BatchedEnv, name: str = "batched_env") -> None:
        if env.batch_size != 1:
            raise ValueError(f"RLlib shell needs batch_size=1, got {env.batch_size}")
        super().__init__()
        self.env = env
        self.metadata = {**type(self).metadata, "name": name}
        self.possible_agents = [f"player_{k}" for k in range(env.num_agents)]
        self.agents = list(self.possible_agents)
        self.observation_spaces = dict.fromkeys(self.possible_agents, env.observation_space)
        self.action_spaces = dict.fromkeys(self.possible_agents, env.action_space)
        self._index = {agent: k for k, agent in enumerate(self.possible_agents)}

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[AgentID, np.ndarray], dict[AgentID, dict]]:
        """Start a new episode (re-seeding the core when `seed` is given)."""
        obs = self.env.reset(seed=seed)  # (1, A, ...)
        return self._per_agent(obs[0]), {agent: {} for agent in self.agents}

    def step(self, actions: dict[AgentID, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """One step of every agent; each needs an action."""
        missing = [agent for agent in self.possible_agents if agent not in actions]
        if missing:
            raise ValueError(f"step needs an action for every agent; missing {missing}")
        act = np.array([[actions[agent] for agent in self.possible_agents]])  # (1, A[, D])
        obs, rewards, terminated, truncated, events = self.env.step(act)
        infos = {
            agent: {name: int(count[0, k]) for name, count in events.items()}
            for agent, k in self._index.items()
        }
        return (
            self._per_agent(obs[0]),
            {agent: float(rewards[0, k]) for agent, k in self._index.items()},
            {**dict.fromkeys(self.agents, bool(terminated[0])), "__all__": bool(terminated[0])},
            {**dict.fromkeys(self.agents, bool(truncated[0])), "__all__": bool(truncated[0])},
            infos,
        )

    def render(self) -> np.ndarray:
        """RGB frame (H, W, 3) uint8 of the current state."""
        return self.env.render(0)

    def _per_agent(self, values: np.ndarray) -> dict[AgentID, np.ndarray]:
        return {agent: values[k] for agent, k in self._index.items()}


def rllib_env(name: str = "commons", seed: int | None = None, **kwargs: object) -> RLlibEnv:
    """`envs.make(name, batch_size=1, seed=seed, **kwargs)` wrapped as an RLlib env."""
    return RLlibEnv(envs.make(name, batch_size=1, seed=seed, **kwargs), name)


def env_creator(env_config: Mapping[str, Any]) -> RLlibEnv:
    """The creator to pass to `ray.tune.registry.register_env`: `{"name": ..., **options}`.

    RLlib hands it an `EnvContext` (a dict that also knows the env runner and the vector
    index); the first `reset` of each copy is seeded by RLlib from the algorithm's seed.
    """
    options = dict(env_config)
    name = options.pop("name", None)
    if name is None:
        raise ValueError("RLlib env config needs 'name', one of: " + ", ".join(sorted(envs.WORLDS)))
    return rllib_env(name, **options)
