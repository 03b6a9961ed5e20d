"""Hyper-parameters of `agents.rllib_ppo` (RLlib's names where it has one, one docstring each).

Also the translation of those options and a world's spaces into RLlib's model settings, shared
by the trainer and by a policy rebuilt from a file, so both build the same network. Sizes and
counts are bounded as in `agents.ppo_config` (what trains in 24 GiB); floats must be finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from agents.ppo_config import MAX_EPOCHS, MAX_SAMPLES, check_fraction, check_network
from generative.config_checks import check_float, check_int

POLICY_MODES = ("shared", "per_agent")
MAX_ENV_RUNNERS = 1_024
"""Ray actors that step worlds: each is a process of a few hundred MiB, so a 24 GiB machine
holds a few dozen and only a cluster (`RAY_ADDRESS`) more; 1,024 is past any cluster here."""
MAX_ENVS_PER_RUNNER = 1_024
"""Copies of the world per env runner: RLlib steps each as its own Python world of batch 1,
one after another, so a thousand already make sampling slower than learning (use more
runners instead)."""


@dataclass(frozen=True)
class RLlibPPOConfig:
    """PPO on RLlib's new API stack (RLModule, Learner, EnvRunner, ConnectorV2)."""

    policies: Literal["shared", "per_agent"] = "shared"
    """"shared": one RLModule for every agent (parameter sharing); "per_agent": one RLModule
    per agent, mapped by agent id ("player_k")."""
    num_env_runners: int = 1
    """Ray actors that step environments (0: sample in the trainer's own process); 0 to 1,024
    (`MAX_ENV_RUNNERS`: each is a process)."""
    envs_per_env_runner: int | None = None
    """Copies of the world each env runner steps (None: the run's `train.num_envs`); 1 to 1,024
    (`MAX_ENVS_PER_RUNNER`: RLlib steps them one after another)."""
    lr: float = 3e-4
    """Adam step size: finite, > 0."""
    gamma: float = 0.99
    """Discount factor γ, in [0, 1]."""
    gae_lambda: float = 0.95
    """λ of generalised advantage estimation (RLlib's `lambda_`), in [0, 1]."""
    clip_param: float = 0.2
    """ε of the clipped surrogate objective: finite, >= 0."""
    entropy_coeff: float = 0.01
    """Weight of the entropy bonus: finite, >= 0."""
    vf_loss_coeff: float = 1.0
    """Weight of the value loss: finite, >= 0."""
    vf_clip_param: float | None = None
    """Clip of the squared value error (RLlib's default is 10; None: unclipped, since returns in
    these worlds reach tens to hundreds and a clip of 10 would stop the critic learning);
    finite, > 0."""
    kl_coeff: float = 0.0
    """Initial weight of RLlib's adaptive KL penalty (0: no KL term, as in the clipped-only PPO
    of `agents.ppo`): finite, >= 0."""
    grad_clip: float | None = 0.5
    """Global gradient-norm clip (None: none): finite, > 0."""
    train_batch_size: int = 4000
    """Agent-steps sampled per training iteration (all agents of all env runners together); 1
    to 1,000,000 (`agents.ppo_config.MAX_SAMPLES`: a million 15×15×3 views as float32 are
    2.5 GiB)."""
    minibatch_size: int = 500
    """Agent-steps per SGD minibatch; 1 to `train_batch_size`."""
    num_epochs: int = 4
    """Passes over each training batch; 1 to 1,000 (`agents.ppo_config.MAX_EPOCHS`: PPO uses 3
    to 30)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Dense layers: the encoder for vector observations, the policy and value heads after the
    convs for image observations. 1 to 64 layers of 1 to 16,384 units, at most 2**30 weights
    between them in the policy and value networks together (`agents.ppo_config.check_network`:
    what trains in 24 GiB; per agent with `policies="per_agent"`)."""
    conv_channels: tuple[int, ...] = (16, 32)
    """3×3 conv layers for uint8 (H, W, C) observations (stride 1, then 2), scaled to [0, 1]: 1
    to 8 layers (each stride-2 layer halves the view) of 1 to 4,096 channels (a 4,096 to 4,096
    conv is 151M weights, 2.3 GiB to train)."""
    activation: Literal["tanh", "relu"] = "tanh"
    """Activation of the dense layers (convs always use ReLU)."""
    vf_share_layers: bool = False
    """Share the encoder between policy and value function (False: separate encoders)."""

    def __post_init__(self) -> None:
        if self.policies not in POLICY_MODES:
            raise ValueError(f"policies={self.policies!r}; allowed: 'shared', 'per_agent'")
        check_int("num_env_runners", self.num_env_runners, 0, MAX_ENV_RUNNERS)
        if self.envs_per_env_runner is not None:
            check_int("envs_per_env_runner", self.envs_per_env_runner, 1, MAX_ENVS_PER_RUNNER)
        check_float("lr", self.lr, 0.0, open_low=True)
        check_int("train_batch_size", self.train_batch_size, 1, MAX_SAMPLES)
        check_int("minibatch_size", self.minibatch_size, 1, MAX_SAMPLES)
        check_int("num_epochs", self.num_epochs, 1, MAX_EPOCHS)
        for name in ("gamma", "gae_lambda"):
            check_fraction(name, getattr(self, name))
        for name in ("clip_param", "entropy_coeff", "vf_loss_coeff", "kl_coeff"):
            check_float(name, getattr(self, name), 0.0)
        for name in ("vf_clip_param", "grad_clip"):
            value = getattr(self, name)
            if value is not None:
                check_float(name, value, 0.0, open_low=True)
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
