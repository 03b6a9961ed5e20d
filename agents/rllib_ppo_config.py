"""Hyper-parameters of `agents.rllib_ppo` (RLlib's names where it has one, one docstring each).

Also the translation of those options and a world's spaces into RLlib's model settings, shared
by the trainer and by a policy rebuilt from a file, so both build the same network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from agents.ppo_config import check_network

POLICY_MODES = ("shared", "per_agent")


@dataclass(frozen=True)
class RLlibPPOConfig:
    """PPO on RLlib's new API stack (RLModule, Learner, EnvRunner, ConnectorV2)."""

    policies: Literal["shared", "per_agent"] = "shared"
    """"shared": one RLModule for every agent (parameter sharing); "per_agent": one RLModule
    per agent, mapped by agent id ("player_k")."""
    num_env_runners: int = 1
    """Ray actors that step environments (0: sample in the trainer's own process)."""
    envs_per_env_runner: int | None = None
    """Copies of the world each env runner steps (None: the run's `train.num_envs`)."""
    lr: float = 3e-4
    """Adam step size."""
    gamma: float = 0.99
    """Discount factor γ."""
    gae_lambda: float = 0.95
    """λ of generalised advantage estimation (RLlib's `lambda_`)."""
    clip_param: float = 0.2
    """ε of the clipped surrogate objective."""
    entropy_coeff: float = 0.01
    """Weight of the entropy bonus."""
    vf_loss_coeff: float = 1.0
    """Weight of the value loss."""
    vf_clip_param: float | None = None
    """Clip of the squared value error (RLlib's default is 10; None: unclipped, since returns in
    these worlds reach tens to hundreds and a clip of 10 would stop the critic learning)."""
    kl_coeff: float = 0.0
    """Initial weight of RLlib's adaptive KL penalty (0: no KL term, as in the clipped-only PPO
    of `agents.ppo`)."""
    grad_clip: float | None = 0.5
    """Global gradient-norm clip (None: none)."""
    train_batch_size: int = 4000
    """Agent-steps sampled per training iteration (all agents of all env runners together)."""
    minibatch_size: int = 500
    """Agent-steps per SGD minibatch."""
    num_epochs: int = 4
    """Passes over each training batch."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Dense layers: the encoder for vector observations, the policy and value heads after the
    convs for image observations."""
    conv_channels: tuple[int, ...] = (16, 32)
    """3×3 conv layers for uint8 (H, W, C) observations (stride 1, then 2), scaled to [0, 1]."""
    activation: Literal["tanh", "relu"] = "tanh"
    """Activation of the dense layers (convs always use ReLU)."""
    vf_share_layers: bool = False
    """Share the encoder between policy and value function (False: separate encoders)."""

    def __post_init__(self) -> None:
        if self.policies not in POLICY_MODES:
            raise ValueError(f"policies={self.policies!r}; allowed: 'shared', 'per_agent'")
        if self.num_env_runners < 0:
            raise ValueError(f"num_env_runners={self.num_env_runners}; must be >= 0")
        if self.envs_per_env_runner is not None and self.envs_per_env_runner < 1:
            raise ValueError(
                f"envs_per_env_runner={self.envs_per_env_runner}; must be >= 1 or None"
            )
        for name in ("lr", "train_batch_size", "minibatch_size", "num_epochs"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)}; must be positive")
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)}; must lie in [0, 1]")
        for name in ("clip_param", "entropy_coeff", "vf_loss_coeff", "kl_coeff"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}={getattr(self, name)}; must be non-negative")
        for name in ("vf_clip_param", "grad_clip"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name}={value}; must be positive or None")
        if self.minibatch_size > self.train_batch_size:
            raise ValueError(
                f"minibatch_size={self.minibatch_size} exceeds "
                f"train_batch_size={self.train_batch_size}"
            )
        check_network(self)


def module_ids(cfg: RLlibPPOConfig, num_agents: int) -> list[str]:
    """The RLModule of each agent, by agent index: one shared id, or "player_k" each."""
    if cfg.policies == "shared":
        return ["shared"] * num_agents
    return [f"player_{k}" for k in range(num_agents)]


def model_config(cfg: RLlibPPOConfig, image: bool) -> dict[str, Any]:
    """Keyword settings of RLlib's `DefaultModelConfig` for these options.

    Image observations: conv layers (RLlib's CNN encoder, flattened), then `hidden_sizes` in
    the heads; vector observations: an MLP encoder of `hidden_sizes` and linear heads.
    """
    settings: dict[str, Any] = {"vf_share_layers": cfg.vf_share_layers}
    if image:
        settings["conv_filters"] = [
            [channels, 3, 1 if i == 0 else 2] for i, channels in enumerate(cfg.conv_channels)
        ]
        settings["conv_activation"] = "relu"
        settings["head_fcnet_hiddens"] = list(cfg.hidden_sizes)
        settings["head_fcnet_activation"] = cfg.activation
    else:
        settings["fcnet_hiddens"] = list(cfg.hidden_sizes)
        settings["fcnet_activation"] = cfg.activation
        settings["head_fcnet_hiddens"] = []
    return settings
