"""What `agents.ppo` holds while it trains on one world: the session and the current episode.

`start_session` builds everything that depends on the world (its spaces, B and A): the
network, the optimiser, the trainer's random generator, the rollout buffers. `Episode` is
where the world stands in the current training episode; a trainer starts a new one at every
episode end and rebuilds one from a checkpoint on resume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from agents.ppo_buffer import Rollout
from agents.ppo_config import PPOConfig
from agents.ppo_networks import ActorCritic
from agents.ppo_policy import build_network
from agents.spec import EnvSpec, env_spec
from envs.core import BatchedEnv


@dataclass
class Session:
    """The learner built for one world (its tensors change in place as it trains)."""

    spec: EnvSpec
    net: ActorCritic
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    """Network-independent randomness: action sampling and minibatch order."""
    buffer: Rollout
    action_low: Tensor | None
    """(D,) lower bounds the Box actions sent to the world are clipped to; None if discrete."""
    action_high: Tensor | None
    """(D,) upper bounds; None for discrete actions."""
    episode_actions: np.ndarray
    """(max_steps, B, A) int64, or (max_steps, B, A, D) float32: what the world received
    in the current episode (its first `Episode.t` rows), replayed on resume."""


@dataclass
class Episode:
    """Where the current training episode stands (changed step by step by the trainer)."""

    index: int
    """k: the episode started from `reset(seed=episode_seed(seed, k))`."""
    t: int
    """Steps taken in it."""
    obs: Tensor
    """(B, A, *obs_shape) the observation to act on next."""
    start: bool
    """`obs` begins the episode (the recurrent state is zeroed before it)."""
    h: Tensor | None
    """(B, A, rnn_size) recurrent state before `obs`, or None without a recurrent core."""
    returns: np.ndarray
    """(B, A) float64 rewards of the episode so far."""


def start_session(env: BatchedEnv, cfg: PPOConfig, seed: int, device: torch.device) -> Session:
    """Build the learner for `env`, its network initialised from `seed`.

    Raises:
        ValueError: a space the learner does not handle, or fewer minibatch slices than
            `num_minibatches`.
    """
    B, A = env.batch_size, env.num_agents
    spec = env_spec(env)
    batches = B if cfg.recurrent else cfg.num_steps * B
    if batches < cfg.num_minibatches:
        what = "copies (batch_size)" if cfg.recurrent else "num_steps × copies"
        raise ValueError(f"ppo: {batches} {what} < num_minibatches={cfg.num_minibatches}")
    net = build_network(spec, cfg, seed).to(device)
    buffer = Rollout.allocate(
        cfg.num_steps,
        B,
        A,
        env.observation_space.shape,
        env.observation_space.dtype,
        spec.action_dim if spec.continuous else None,
        cfg.rnn_size if cfg.recurrent else None,
        device,
    )
    action_shape = (spec.action_dim,) if spec.continuous else ()
    return Session(
        spec=spec,
        net=net,
        optimizer=make_optimizer(net, cfg),
        generator=torch.Generator(device).manual_seed(seed),
        buffer=buffer,
        action_low=torch.tensor(spec.low, device=device) if spec.continuous else None,
        action_high=torch.tensor(spec.high, device=device) if spec.continuous else None,
        episode_actions=np.zeros(
            (env.max_steps, B, A, *action_shape),
            dtype=np.float32 if spec.continuous else np.int64,
        ),
    )


def make_optimizer(net: ActorCritic, cfg: PPOConfig) -> torch.optim.Optimizer:
    """Adam with CleanRL's eps (the learning rate is set again before every update)."""
    return torch.optim.Adam(net.parameters(), lr=cfg.learning_rate, eps=1e-5)
