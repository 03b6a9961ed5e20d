"""Hyper-parameters of `agents.sb3_ppo` (SB3's names), importable without Stable-Baselines3."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SB3PPOConfig:
    """PPO hyper-parameters (SB3 names); defaults close to SB3's, sized for 2 CPU cores."""

    learning_rate: float = 3e-4
    n_steps: int = 128
    """Environment steps per copy in each rollout (rollout = n_steps × B × A samples)."""
    batch_size: int = 1024
    """Minibatch size in samples."""
    n_epochs: int = 4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    conv_channels: tuple[int, ...] = (16, 32)
    hidden_size: int = 128
    head_size: int = 64
    """Width of the one hidden layer of the policy and value heads."""

    def __post_init__(self) -> None:
        positive = ("learning_rate", "n_steps", "batch_size", "n_epochs", "hidden_size")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)}; must be positive")
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)}; must lie in [0, 1]")
        for name in ("clip_range", "ent_coef", "vf_coef", "max_grad_norm", "head_size"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)}; must be non-negative")
        if not self.conv_channels or min(self.conv_channels) < 1:
            raise ValueError(f"conv_channels={list(self.conv_channels)}; need positive sizes")
