"""Stable-Baselines3 `VecEnv` shell over a batched environment.

The B copies × A agents become B·A single-agent environments sharing one policy (parameter
sharing), with no SuperSuit in between. Index `b * A + a` is agent `a` of copy `b`. All copies
of a fixed-length world end together, so the shell resets the whole batch at once and reports
each agent's last observation as `terminal_observation`, as SB3 expects.

Any action space the core accepts works: SB3's (B·A, *action_shape) actions (e.g. (B·A,) for
Discrete, (B·A, 5) for a Box) reach the core as (B, A, *action_shape).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from envs.core import BatchedEnv


class SB3VecEnv(VecEnv):
    """B copies × A agents of a `BatchedEnv` as B·A SB3 environments.

    :param env: the batched environment (its `batch_size` copies are all used).
    :param seed: seed of the first reset; later resets continue the env's random stream.
    """

    def __init__(self, env: BatchedEnv, seed: int | None = None) -> None:
        self.env = env
        self.copies, self.agents = env.batch_size, env.num_agents
        super().__init__(self.copies * self.agents, env.observation_space, env.action_space)
        self._first_seed = seed
        self._action_shape = env.action_space.shape or ()  # () for Discrete
        self._actions = np.zeros(
            (self.copies, self.agents, *self._action_shape), dtype=env.action_space.dtype
        )
        self.last_events: dict[str, np.ndarray] = {}

    def _flat(self, array: np.ndarray) -> np.ndarray:
        return array.reshape(self.copies * self.agents, *array.shape[2:])

    def reset(self) -> VecEnvObs:
        """Reset every copy; the first reset uses the construction seed (or `seed()`'s)."""
        seed = self._seeds[0] if self._seeds[0] is not None else self._first_seed
        self._reset_seeds()
        self._first_seed = None
        return self._flat(self.env.reset(seed=seed))

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.copies, self.agents, *self._action_shape)

    def step_wait(self) -> VecEnvStepReturn:
        result = self.env.step(self._actions)
        self.last_events = result.events
        done_copy = result.terminated | result.truncated  # (B,)
        dones = np.repeat(done_copy, self.agents)  # (B*A,)
        obs = self._flat(result.obs)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if done_copy.any():
            if not done_copy.all():
                raise RuntimeError("SB3VecEnv expects every copy of the batch to end together")
            truncated = np.repeat(result.truncated & ~result.terminated, self.agents)
            for i, info in enumerate(infos):
                info["terminal_observation"] = obs[i]
                info["TimeLimit.truncated"] = bool(truncated[i])
            obs = self._flat(self.env.reset())
        rewards = self._flat(result.rewards).astype(np.float32)
        return obs, rewards, dones, infos

    def close(self) -> None:
        pass

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [self.env.render(b) for b in range(self.copies)]

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self.env, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list:
        result = getattr(self.env, method_name)(*args, **kwargs)
        return [result] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))
