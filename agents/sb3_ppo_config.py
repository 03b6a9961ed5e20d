"""Hyper-parameters of `agents.sb3_ppo` (SB3's names), importable without Stable-Baselines3.

Sizes and counts are bounded as in `agents.ppo_config` (what trains in 24 GiB); floats must be
finite.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.ppo_config import (
    MAX_EPOCHS,
    MAX_ROLLOUT_STEPS,
    MAX_SAMPLES,
    check_conv_channels,
    check_fraction,
)
from generative.config_checks import MAX_WIDTH, check_float, check_int


@dataclass(frozen=True)
class SB3PPOConfig:
    """PPO hyper-parameters (SB3 names); defaults close to SB3's, sized for 2 CPU cores."""

    learning_rate: float = 3e-4
    """Adam step size: finite, > 0."""
    n_steps: int = 128
    """Environment steps per copy in each rollout (rollout = n_steps × B × A samples); 1 to
    100,000, the longest episode a world allows (`agents.ppo_config.MAX_ROLLOUT_STEPS`)."""
    batch_size: int = 1024
    """Minibatch size in samples (at most the rollout is used); 1 to 1,000,000
    (`agents.ppo_config.MAX_SAMPLES`: a million samples and their activations fit in 24 GiB)."""
    n_epochs: int = 4
    """Passes over each rollout; 1 to 1,000 (`agents.ppo_config.MAX_EPOCHS`: PPO uses 3 to 30)."""
    gamma: float = 0.99
    """Discount factor γ, in [0, 1]."""
    gae_lambda: float = 0.95
    """λ of generalised advantage estimation, in [0, 1]."""
    clip_range: float = 0.2
    """ε of the clipped surrogate objective: finite, >= 0."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus: finite, >= 0."""
    vf_coef: float = 0.5
    """Weight of the value loss: finite, >= 0."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip: finite, >= 0."""
    conv_channels: tuple[int, ...] = (16, 32)
    """3×3 conv layers (stride 1, then 2): 1 to 8 layers (each stride-2 layer halves the view)
    of 1 to 4,096 channels (a 4,096 to 4,096 conv is 151M weights, 2.3 GiB to train)."""
    hidden_size: int = 128
    """Width of the dense layer after the convs: 1 to 16,384, the widest layer of any config
    (`generative.config_checks.MAX_WIDTH`; with heads as wide, 2 × 16,384² weights, 8 GiB to
    train)."""
    head_size: int = 64
    """Width of the one hidden layer of the policy and value heads (0: none, linear heads on
    the features); 0 to 16,384, as `hidden_size`."""

    def __post_init__(self) -> None:
        check_float("learning_rate", self.learning_rate, 0.0, open_low=True)
        check_int("n_steps", self.n_steps, 1, MAX_ROLLOUT_STEPS)
        check_int("batch_size", self.batch_size, 1, MAX_SAMPLES)
        check_int("n_epochs", self.n_epochs, 1, MAX_EPOCHS)
        check_int("hidden_size", self.hidden_size, 1, MAX_WIDTH)
        check_int("head_size", self.head_size, 0, MAX_WIDTH)
        for name in ("gamma", "gae_lambda"):
            check_fraction(name, getattr(self, name))
        for name in ("clip_range", "ent_coef", "vf_coef", "max_grad_norm"):
            check_float(name, getattr(self, name), 0.0)
        check_conv_channels(self.conv_channels)
