"""The trained policy of `agents.sb3_ppo`: SB3's actor-critic, saved and loaded as tensors.

The network is SB3's `ActorCriticPolicy` over `agents.networks.GridCNN` (images are fed
channel-first, as SB3's `VecTransposeImage` does in training); `build_policy` builds it
stand-alone, for loading a saved policy and for checking a checkpoint's tensor shapes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space

from agents.networks import GridCNN
from agents.ppo_policy import plain
from agents.sb3_ppo_config import SB3PPOConfig
from generative.checkpoint import load_safe, save_atomic

POLICY_FORMAT = "emergent.sb3_ppo.policy.v1"


def policy_kwargs(cfg: SB3PPOConfig) -> dict[str, Any]:
    heads = [cfg.head_size] if cfg.head_size else []
    return {
        "features_extractor_class": GridCNN,
        "features_extractor_kwargs": {
            "channels": tuple(cfg.conv_channels),
            "hidden_size": cfg.hidden_size,
        },
        "net_arch": {"pi": heads, "vf": heads},
    }


def resolve_device(device: str) -> str:
    """'auto' means CUDA when present, else CPU."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def build_policy(
    obs_space: gymnasium.spaces.Box, action_space: gymnasium.spaces.Space, cfg: SB3PPOConfig
) -> ActorCriticPolicy:
    """The same network PPO trains, built stand-alone (for loading a saved policy)."""
    if is_image_space(obs_space) and obs_space.shape[-1] < obs_space.shape[0]:
        h, w, c = obs_space.shape
        obs_space = gymnasium.spaces.Box(0, 255, (c, h, w), np.uint8)  # as VecTransposeImage
    return ActorCriticPolicy(
        obs_space, action_space, lambda _: cfg.learning_rate, **policy_kwargs(cfg)
    ).eval()


class SB3Policy:
    """A trained shared policy: observations of any number of agents in, actions out."""

    def __init__(self, module: ActorCriticPolicy, options: SB3PPOConfig, obs_shape: tuple) -> None:
        self.module = module
        self.options = options
        self.obs_shape = tuple(obs_shape)

    @torch.no_grad()
    def act(
        self, obs: np.ndarray, rng: np.random.Generator | None = None, deterministic: bool = False
    ) -> np.ndarray:
        """Actions (N,) for observations (N, *obs_shape); sampled with `rng` unless
        deterministic (sampling with our own generator keeps evaluation from touching the
        training random streams)."""
        tensor, _ = self.module.obs_to_tensor(obs)
        logits = self.module.get_distribution(tensor).distribution.logits.cpu().numpy()
        if deterministic:
            return logits.argmax(axis=-1)
        rng = rng if rng is not None else np.random.default_rng()
        gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=logits.shape)))
        return (logits + gumbel).argmax(axis=-1)  # Gumbel-max: a sample of softmax(logits)

    @torch.no_grad()
    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        """The categorical's probabilities (N, n) float64 for observations (N, *obs_shape)."""
        space = self.module.action_space
        if not isinstance(space, gymnasium.spaces.Discrete):
            raise ValueError(f"sb3_ppo: action_probabilities needs Discrete actions, not {space}")
        tensor, _ = self.module.obs_to_tensor(obs)
        logits = self.module.get_distribution(tensor).distribution.logits.double()
        return torch.softmax(logits, dim=-1).cpu().numpy()

    def save(self, path: str | Path) -> None:
        save_atomic(
            {
                "format": POLICY_FORMAT,
                "options": plain(dataclasses.asdict(self.options)),
                "obs_shape": list(self.obs_shape),
                "n_actions": int(self.module.action_space.n),
                "policy": self.module.state_dict(),
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> SB3Policy:
        """Rebuild a policy saved with `save` (weights only, no pickled code)."""
        data = load_safe(path, POLICY_FORMAT)
        options = SB3PPOConfig(**{k: _tuple(v) for k, v in data["options"].items()})
        obs_space = gymnasium.spaces.Box(0, 255, tuple(data["obs_shape"]), np.uint8)
        module = build_policy(obs_space, gymnasium.spaces.Discrete(data["n_actions"]), options)
        module.load_state_dict(data["policy"])
        return cls(module.to(resolve_device(device)), options, data["obs_shape"])


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
