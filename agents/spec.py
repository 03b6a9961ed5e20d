"""What a learner's network needs to know of a world's spaces, as a typed value.

`env_spec(env)` reads it off a `BatchedEnv`; checkpoints and policy files store
`EnvSpec.to_plain()` (plain values that `torch.load(weights_only=True)` reads back) and
`EnvSpec.from_plain` rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np

from envs.core import BatchedEnv


@dataclass(frozen=True)
class EnvSpec:
    """One agent's observation and action spaces, the number of agents and the episode length."""

    num_agents: int
    """A."""
    obs_shape: tuple[int, ...]
    """One agent's observation shape."""
    image: bool
    """Observations are uint8 (H, W, C) images (convolutional torso)."""
    episode_length: int
    """Steps after which every copy of the world has ended its episode."""
    continuous: bool
    """Box actions (a diagonal Gaussian policy) rather than Discrete ones (a categorical)."""
    action_dim: int
    """The number of discrete actions, or the size D of a Box action."""
    low: tuple[float, ...] = ()
    """(D,) lower bounds of a Box action; () for discrete actions."""
    high: tuple[float, ...] = ()
    """(D,) upper bounds of a Box action; () for discrete actions."""

    def __post_init__(self) -> None:
        bounds = self.action_dim if self.continuous else 0
        if len(self.low) != bounds or len(self.high) != bounds:
            raise ValueError(
                f"EnvSpec: {len(self.low)}/{len(self.high)} action bounds for "
                f"{'Box' if self.continuous else 'Discrete'} actions of size {self.action_dim}"
            )

    def to_plain(self) -> dict[str, Any]:
        """Plain values for files: the format `agents.ppo` and `agents.rllib_ppo` have always
        written ("n_actions" for discrete actions, "low"/"high" for Box ones)."""
        plain: dict[str, Any] = {
            "num_agents": self.num_agents,
            "obs_shape": list(self.obs_shape),
            "image": self.image,
            "episode_length": self.episode_length,
        }
        if self.continuous:
            plain.update(low=list(self.low), high=list(self.high))
        else:
            plain["n_actions"] = self.action_dim
        return plain

    @classmethod
    def from_plain(cls, raw: dict[str, Any]) -> EnvSpec:
        """The spec `to_plain` wrote."""
        continuous = "low" in raw
        return cls(
            num_agents=int(raw["num_agents"]),
            obs_shape=tuple(int(n) for n in raw["obs_shape"]),
            image=bool(raw["image"]),
            episode_length=int(raw["episode_length"]),
            continuous=continuous,
            action_dim=len(raw["low"]) if continuous else int(raw["n_actions"]),
            low=tuple(float(v) for v in raw["low"]) if continuous else (),
            high=tuple(float(v) for v in raw["high"]) if continuous else (),
        )


def env_spec(env: BatchedEnv) -> EnvSpec:
    """The spec of `env`'s spaces.

    Raises:
        ValueError: a space the learners do not handle (allowed: Box observations; Discrete
            or 1-D Box actions).
    """
    obs_space, action_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gymnasium.spaces.Box):
        raise ValueError(f"ppo: observation space {obs_space}; only Box is supported")
    common = {
        "num_agents": int(env.num_agents),
        "obs_shape": tuple(int(n) for n in obs_space.shape),
        "image": bool(obs_space.dtype == np.uint8 and len(obs_space.shape) == 3),
        "episode_length": int(env.max_steps),
    }
    if isinstance(action_space, gymnasium.spaces.Discrete):
        return EnvSpec(**common, continuous=False, action_dim=int(action_space.n))
    if isinstance(action_space, gymnasium.spaces.Box) and len(action_space.shape) == 1:
        return EnvSpec(
            **common,
            continuous=True,
            action_dim=int(action_space.shape[0]),
            low=tuple(float(v) for v in action_space.low),
            high=tuple(float(v) for v in action_space.high),
        )
    raise ValueError(f"ppo: action space {action_space}; allowed: Discrete, 1-D Box")
