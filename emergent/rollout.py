"""Play whole episodes of a batched world with a policy and keep the episode log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium
import numpy as np

from envs.core import BatchedEnv

ActFn = Callable[[np.ndarray], np.ndarray]  # obs (N, *obs_shape) -> actions (N,)


@dataclass
class EpisodeLog:
    """Everything analysis may read of B episodes: rewards and events, each (B, T, A)."""

    rewards: np.ndarray
    events: dict[str, np.ndarray]
    frames: list[np.ndarray] = field(default_factory=list)  # RGB frames of copy 0

    @property
    def returns(self) -> np.ndarray:
        """(B, A) episode return of every agent."""
        return self.rewards.sum(axis=1)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path, rewards=self.rewards, **{f"event_{k}": v for k, v in self.events.items()}
        )

    @classmethod
    def load(cls, path: str | Path) -> EpisodeLog:
        with np.load(path) as data:
            events = {k[len("event_") :]: data[k] for k in data.files if k.startswith("event_")}
            return cls(rewards=data["rewards"], events=events)


def run_episodes(env: BatchedEnv, act: ActFn, seed: int, record_frames: bool = False) -> EpisodeLog:
    """One episode in each of the env's B copies, from `reset(seed)` to the end."""
    obs = env.reset(seed=seed)
    batch, agents = env.batch_size, env.num_agents
    rewards, events, frames = [], {name: [] for name in env.event_names}, []
    if record_frames:
        frames.append(env.render(0))
    while True:
        actions = act(obs.reshape(batch * agents, *obs.shape[2:]))
        actions = actions.reshape(batch, agents, *actions.shape[1:])  # (B, A[, *action_shape])
        result = env.step(actions)
        rewards.append(result.rewards)
        for name in events:
            events[name].append(result.events[name])
        if record_frames:
            frames.append(env.render(0))
        if (result.terminated | result.truncated).all():
            break
        obs = result.obs
    return EpisodeLog(
        rewards=np.stack(rewards, axis=1),  # (B, T, A)
        events={k: np.stack(v, axis=1) for k, v in events.items()},
        frames=frames,
    )


def random_policy(space: gymnasium.spaces.Space, rng: np.random.Generator) -> ActFn:
    """Uniformly random actions (Discrete or bounded Box): the baseline every learned return
    is compared with."""
    if isinstance(space, gymnasium.spaces.Discrete):
        return lambda obs: space.start + rng.integers(0, space.n, size=len(obs))
    if isinstance(space, gymnasium.spaces.Box) and space.is_bounded():
        return lambda obs: rng.uniform(space.low, space.high, (len(obs), *space.shape)).astype(
            space.dtype
        )
    raise ValueError(f"no uniform random policy for action space {space}")
