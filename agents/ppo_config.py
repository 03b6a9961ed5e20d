"""Hyper-parameters of `agents.ppo` (CleanRL's names, one docstring per field).

Also the bounds the three learner configs share. Every size and count has an upper bound, so a
typo (a rollout of 10**12 steps, a layer of 10**7 units) fails at once with a one-line message
naming the key instead of a PyTorch traceback, an exhausted memory or a run that never ends.
The bounds are sized for a machine with 24 GiB of memory; network sizes use the generative
configs' (`generative.config_checks`). Every float must be finite.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from generative.config_checks import (
    MAX_CHANNELS,
    MAX_CONV_LEVELS,
    MAX_WEIGHTS,
    MAX_WIDTH,
    check_float,
    check_int,
    check_widths,
)

if TYPE_CHECKING:
    from agents.rllib_ppo_config import RLlibPPOConfig

ACTIVATIONS = ("tanh", "relu")
"""Activations of the dense layers (`agents.ppo_networks.ACTIVATIONS` implements them; RLlib
knows them by the same names)."""

MAX_ROLLOUT_STEPS = 100_000
"""Steps of every copy in one rollout (`num_steps`, SB3's `n_steps`): the longest episode any
world allows (`envs.checks.MAX_STEPS`). The rollout keeps T·B·A observations: 100,000 steps of
one copy of 64 agents with 15×15×3 uint8 views are 4 GiB."""
MAX_EPOCHS = 1_000
"""Passes over one rollout: PPO uses 3 to 30 (Schulman et al. 2017); a thousand passes already
overfit the one rollout, and more only make each update slower."""
MAX_MINIBATCHES = 1_000_000
"""Minibatches per epoch: a million optimiser steps already take hours per epoch at a
millisecond each, and each minibatch needs at least one copy-step of the rollout."""
MAX_SAMPLES = 1_000_000
"""Agent-steps in one batch (SB3's `batch_size`, RLlib's `train_batch_size` and
`minibatch_size`): a million 15×15×3 views as float32 are 2.5 GiB, and a minibatch's
activations through the default networks a few GiB more, within 24 GiB."""


@dataclass(frozen=True)
class PPOConfig:
    """PPO on a batched world. The number of copies B is the env's `batch_size`."""

    learning_rate: float = 3e-4
    """Adam step size (at the start, when annealed): finite, > 0."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over the `steps` given to `train`."""
    num_steps: int = 128
    """T: steps of every copy in one rollout (a rollout holds T·B·A agent-steps); 1 to 100,000,
    the longest episode a world allows (`MAX_ROLLOUT_STEPS`)."""
    num_minibatches: int = 4
    """Minibatches per epoch: slices of the T·B copy-steps (all agents of a copy-step kept
    together), or with `recurrent`, of the B copies (whole T-step sequences); 1 to 1,000,000
    (`MAX_MINIBATCHES`: a million optimiser steps per epoch), and at most the slices there are
    (checked when `train` gets the world)."""
    update_epochs: int = 4
    """Passes over each rollout; 1 to 1,000 (`MAX_EPOCHS`: PPO uses 3 to 30)."""
    gamma: float = 0.99
    """Discount factor γ, in [0, 1]."""
    gae_lambda: float = 0.95
    """λ of generalised advantage estimation, in [0, 1]."""
    norm_adv: bool = True
    """Normalise advantages to zero mean and unit std in each minibatch."""
    clip_coef: float = 0.2
    """ε of the clipped surrogate objective: finite, >= 0."""
    clip_vloss: bool = True
    """Clip the value update to ±clip_coef around the old value estimate."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus: finite, >= 0."""
    vf_coef: float = 0.5
    """Weight of the value loss: finite, >= 0."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip: finite, >= 0."""
    target_kl: float | None = None
    """Stop the epochs of an update early once the approximate KL exceeds this (None: never);
    finite, > 0."""
    reward_sharing: float = 0.0
    """alpha: each agent learns from (1 - alpha) r_i + alpha mean_j r_j, its own reward mixed
    with its copy's mean reward (1: the collective reward of prosocial agents, Peysakhovich &
    Lerer 2018; 0: selfish), in [0, 1]. Returns in logs and reports stay the environment's own
    rewards."""
    share_parameters: bool = True
    """One network for all agents (True) or one network per agent (weights batched, not looped)."""
    recurrent: bool = False
    """Add a GRU after the torso; trained by BPTT over whole rollout sequences."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Dense layers of the torso (after the convs for image observations): 1 to 64 layers of 1
    to 16,384 units, at most 2**30 weights between them in the actor and critic torsos together
    (`check_network`: what trains in 24 GiB; per agent without `share_parameters`)."""
    conv_channels: tuple[int, ...] = (16, 32)
    """3×3 conv layers for uint8 (H, W, C) observations (stride 1, then 2): 1 to 8 layers (each
    stride-2 layer halves the view) of 1 to 4,096 channels (a 4,096 to 4,096 conv is 151M
    weights, 2.3 GiB to train)."""
    activation: Literal["tanh", "relu"] = "tanh"
    """Activation of the dense layers for vector observations (convs always use ReLU)."""
    rnn_size: int = 64
    """Width of the GRU state when `recurrent`: 1 to 16,384 (the widest dense layer), with the
    torso at most 2**30 weights (a 16,384-wide GRU after a 64-wide torso is 0.8 billion)."""

    def __post_init__(self) -> None:
        check_float("learning_rate", self.learning_rate, 0.0, open_low=True)
        check_int("num_steps", self.num_steps, 1, MAX_ROLLOUT_STEPS)
        check_int("num_minibatches", self.num_minibatches, 1, MAX_MINIBATCHES)
        check_int("update_epochs", self.update_epochs, 1, MAX_EPOCHS)
        check_int("rnn_size", self.rnn_size, 1, MAX_WIDTH)
        for name in ("gamma", "gae_lambda", "reward_sharing"):
            check_fraction(name, getattr(self, name))
        for name in ("clip_coef", "ent_coef", "vf_coef", "max_grad_norm"):
            check_float(name, getattr(self, name), 0.0)
        if self.target_kl is not None:
            check_float("target_kl", self.target_kl, 0.0, open_low=True)
        check_network(self)
        if self.recurrent:  # one torso (no critic torso), then the GRU
            size, last = self.rnn_size, self.hidden_sizes[-1]
            torso = sum(a * b for a, b in pairwise(self.hidden_sizes))
            weights = torso + 3 * size * (last + size)  # 3 gates, from input and state
            if weights > MAX_WEIGHTS:
                raise ValueError(
                    f"rnn_size={size}; a GRU after hidden_sizes[-1]={last} and its torso have "
                    f"{weights:,} weights, at most {MAX_WEIGHTS:,} (16 GiB to train)"
                )


def check_fraction(name: str, value: object) -> None:
    """Raise a one-line ValueError unless `value` is a number in [0, 1] (nan is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name}={value}; must lie in [0, 1]")


def check_network(cfg: PPOConfig | RLlibPPOConfig) -> None:
    """The policy network settings both PPO configs share: layer sizes and activation.

    `hidden_sizes` builds two networks (actor and critic torsos, or policy and value heads), so
    both together must have at most `MAX_WEIGHTS` weights between hidden layers.
    """
    check_widths("hidden_sizes", cfg.hidden_sizes, copies=2)
    check_conv_channels(cfg.conv_channels)
    if cfg.activation not in ACTIVATIONS:
        allowed = ", ".join(map(repr, ACTIVATIONS))
        raise ValueError(f"activation={cfg.activation!r}; allowed: {allowed}")


def check_conv_channels(channels: tuple[int, ...]) -> None:
    """1 to `MAX_CONV_LEVELS` conv layers of 1 to `MAX_CHANNELS` channels (all three configs)."""
    check_widths("conv_channels", channels, MAX_CHANNELS, max_len=MAX_CONV_LEVELS, copies=0)
