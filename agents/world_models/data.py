"""Experience for world models, recorded from a world's batched core.

`collect` plays B copies of a world with a policy (uniform random play by default, as World
Models' first data; or any `Policy`, for the iterative mode's later rounds) and cuts every
agent's stream into segments of T transitions (`Segments`). Segments never cross a reset: an
episode of M steps gives floor(M / T) segments per agent, so T must not exceed max_steps.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium
import numpy as np

from agents.world_models.base import Segments
from envs.core import BatchedEnv

__all__ = ["ActFn", "collect", "random_actions"]

ActFn = Callable[[np.ndarray], np.ndarray]
"""observations (N, *obs_shape) -> actions (N,), N = B x A rows copy-major."""


def random_actions(space: gymnasium.spaces.Space, rng: np.random.Generator) -> ActFn:
    """Uniform actions of a Discrete space, drawn from `rng`."""
    if not isinstance(space, gymnasium.spaces.Discrete):
        raise ValueError(f"world models need Discrete actions, got {space}")
    n = int(space.n)
    return lambda obs: rng.integers(0, n, size=len(obs))


def collect(
    env: BatchedEnv, steps: int, length: int, seed: int, act: ActFn | None = None
) -> Segments:
    """At least `steps` agent-steps of experience in segments of `length` transitions.

    Plays whole episodes of the env's B copies (reset with seeds seed, seed + 1, ...) until the
    segments hold `steps` agent-steps or more; the last episode may stop early once enough are
    recorded (whole segments only).

    Args:
        env: a world whose agents see images (H, W, C) uint8 and act in a Discrete space.
        steps: agent-steps to record (segments x length), at least one segment.
        length: T, transitions per segment, 1 to the world's max_steps.
        seed: seeds the resets and the random actions.
        act: the policy; uniform random actions when None.
    """
    space = env.observation_space
    if len(space.shape or ()) != 3 or space.dtype != np.uint8:
        raise ValueError(f"{env.name}: world models need (H, W, C) uint8 views, got {space}")
    if not 1 <= length <= env.max_steps:
        raise ValueError(
            f"length={length}; must be from 1 to the world's max_steps {env.max_steps}"
        )
    act = act or random_actions(env.action_space, np.random.default_rng([seed, 17]))
    B, A = env.batch_size, env.num_agents
    per_segment_batch = B * A * length
    parts: list[Segments] = []
    recorded, episode = 0, 0
    while recorded < max(steps, length):
        obs = env.reset(seed=seed + episode)
        episode += 1
        views, actions, rewards, ends = [obs], [], [], []
        while True:
            a = np.asarray(act(obs.reshape(B * A, *obs.shape[2:]))).reshape(B, A)
            res = env.step(a)
            views.append(res.obs)
            actions.append(a)
            rewards.append(res.rewards)
            ends.append(np.broadcast_to(res.terminated[:, None], (B, A)))
            obs = res.obs
            t = len(actions)
            if t % length == 0:
                parts.append(
                    _segment(
                        views[t - length :],
                        actions[t - length :],
                        rewards[t - length :],
                        ends[t - length :],
                    )
                )
                recorded += per_segment_batch
                if recorded >= steps:
                    break
            if (res.terminated | res.truncated).all():
                break
    return Segments.concatenate(parts)


def _segment(views: list, actions: list, rewards: list, ends: list) -> Segments:
    """Stacked (T+1 or T, B, A, ...) lists -> Segments of B x A streams (copy-major)."""

    def streams(xs: list) -> np.ndarray:
        x = np.stack(xs, axis=2)  # (B, A, T, ...)
        return x.reshape(-1, *x.shape[2:])

    return Segments(
        streams(views),
        streams(actions).astype(np.int64),
        streams(rewards).astype(np.float32),
        streams(ends).astype(bool),
    )
