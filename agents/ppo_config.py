"""Hyper-parameters of `agents.ppo` (CleanRL's names, one docstring per field)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from agents.rllib_ppo_config import RLlibPPOConfig

ACTIVATIONS = ("tanh", "relu")
"""Activations of the dense layers (`agents.ppo_networks.ACTIVATIONS` implements them; RLlib
knows them by the same names)."""


@dataclass(frozen=True)
class PPOConfig:
    """PPO on a batched world. The number of copies B is the env's `batch_size`."""

    learning_rate: float = 3e-4
    """Adam step size (at the start, when annealed)."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over the `steps` given to `train`."""
    num_steps: int = 128
    """T: steps of every copy in one rollout (a rollout holds T·B·A agent-steps)."""
    num_minibatches: int = 4
    """Minibatches per epoch: slices of the T·B copy-steps (all agents of a copy-step kept
    together), or with `recurrent`, of the B copies (whole T-step sequences)."""
    update_epochs: int = 4
    """Passes over each rollout."""
    gamma: float = 0.99
    """Discount factor γ."""
    gae_lambda: float = 0.95
    """λ of generalised advantage estimation."""
    norm_adv: bool = True
    """Normalise advantages to zero mean and unit std in each minibatch."""
    clip_coef: float = 0.2
    """ε of the clipped surrogate objective."""
    clip_vloss: bool = True
    """Clip the value update to ±clip_coef around the old value estimate."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    target_kl: float | None = None
    """Stop the epochs of an update early once the approximate KL exceeds this (None: never)."""
    reward_sharing: float = 0.0
    """alpha: each agent learns from (1 - alpha) r_i + alpha mean_j r_j, its own reward mixed
    with its copy's mean reward (1: the collective reward of prosocial agents, Peysakhovich &
    Lerer 2018; 0: selfish). Returns in logs and reports stay the environment's own rewards."""
    share_parameters: bool = True
    """One network for all agents (True) or one network per agent (weights batched, not looped)."""
    recurrent: bool = False
    """Add a GRU after the torso; trained by BPTT over whole rollout sequences."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Dense layers of the torso (after the convs for image observations)."""
    conv_channels: tuple[int, ...] = (16, 32)
    """3×3 conv layers for uint8 (H, W, C) observations (stride 1, then 2)."""
    activation: Literal["tanh", "relu"] = "tanh"
    """Activation of the dense layers for vector observations (convs always use ReLU)."""
    rnn_size: int = 64
    """Width of the GRU state when `recurrent`."""

    def __post_init__(self) -> None:
        for name in ("learning_rate", "num_steps", "num_minibatches", "update_epochs", "rnn_size"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)}; must be positive")
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)}; must lie in [0, 1]")
        if not 0.0 <= self.reward_sharing <= 1.0:
            raise ValueError(f"reward_sharing={self.reward_sharing}; must lie in [0, 1]")
        for name in ("clip_coef", "ent_coef", "vf_coef", "max_grad_norm"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}={getattr(self, name)}; must be non-negative")
        if self.target_kl is not None and not self.target_kl > 0:
            raise ValueError(f"target_kl={self.target_kl}; must be positive or None")
        check_network(self)


def check_network(cfg: PPOConfig | RLlibPPOConfig) -> None:
    """The policy network settings both PPO configs share: layer sizes and activation."""
    for name in ("hidden_sizes", "conv_channels"):
        sizes = getattr(cfg, name)
        if not sizes or min(sizes) < 1:
            raise ValueError(f"{name}={list(sizes)}; need at least one positive size")
    if cfg.activation not in ACTIVATIONS:
        allowed = ", ".join(map(repr, ACTIVATIONS))
        raise ValueError(f"activation={cfg.activation!r}; allowed: {allowed}")
