"""PPO from Stable-Baselines3 with parameter sharing over a batched multi-agent world.

Every agent of every copy is one SB3 environment (`envs.adapters.sb3.SB3VecEnv`), so one
policy learns from all of them: the parameter-sharing setup of the sequential-social-dilemma
baselines. Training state is saved as plain tensors (policy, optimiser, step counter) and
loaded with `weights_only=True`.

Ref: Schulman et al. 2017, "Proximal Policy Optimization Algorithms"; Raffin et al. 2021,
"Stable-Baselines3".
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.vec_env import VecMonitor

from agents.networks import GridCNN
from agents.protocols import TrainHooks
from agents.sb3_ppo_config import SB3PPOConfig
from envs.adapters.sb3 import SB3VecEnv
from envs.core import BatchedEnv
from generative.checkpoint import load_safe, save_atomic

TRAIN_FORMAT = "emergent.sb3_ppo.train.v1"
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

    def save(self, path: str | Path) -> None:
        save_atomic(
            {
                "format": POLICY_FORMAT,
                "options": _plain(dataclasses.asdict(self.options)),
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


def build_policy(
    obs_space: gymnasium.spaces.Box, action_space: gymnasium.spaces.Discrete, cfg: SB3PPOConfig
) -> ActorCriticPolicy:
    """The same network PPO trains, built stand-alone (for loading a saved policy)."""
    if is_image_space(obs_space) and obs_space.shape[-1] < obs_space.shape[0]:
        h, w, c = obs_space.shape
        obs_space = gymnasium.spaces.Box(0, 255, (c, h, w), np.uint8)  # as VecTransposeImage
    return ActorCriticPolicy(
        obs_space, action_space, lambda _: cfg.learning_rate, **policy_kwargs(cfg)
    ).eval()


class SB3PPO:
    """Trainer: `train(env, steps, hooks) -> SB3Policy`, with checkpoint save and resume."""

    def __init__(self, options: SB3PPOConfig, seed: int = 0, device: str = "auto") -> None:
        self.options = options
        self.seed = seed
        self.device = resolve_device(device)
        self.model: PPO | None = None
        self._obs_shape: tuple[int, ...] = ()
        """One agent's observation shape as the world gives it (before SB3 transposes images)."""
        self._restore: dict[str, Any] | None = None

    @property
    def agent_steps(self) -> int:
        return int(self.model.num_timesteps) if self.model is not None else 0

    def _build(self, env: BatchedEnv) -> PPO:
        cfg = self.options
        self._obs_shape = tuple(env.observation_space.shape)
        vec_env = VecMonitor(SB3VecEnv(env, seed=self.seed))
        rollout = cfg.n_steps * vec_env.num_envs
        model = PPO(
            "CnnPolicy",
            vec_env,
            learning_rate=cfg.learning_rate,
            n_steps=cfg.n_steps,
            batch_size=min(cfg.batch_size, rollout),
            n_epochs=cfg.n_epochs,
            gamma=cfg.gamma,
            gae_lambda=cfg.gae_lambda,
            clip_range=cfg.clip_range,
            ent_coef=cfg.ent_coef,
            vf_coef=cfg.vf_coef,
            max_grad_norm=cfg.max_grad_norm,
            policy_kwargs=policy_kwargs(cfg),
            seed=self.seed,
            device=self.device,
            verbose=0,
        )
        model.set_logger(Logger(folder=None, output_formats=[]))
        return model

    def train(self, env: BatchedEnv, steps: int, hooks: TrainHooks) -> SB3Policy:
        """Train until `steps` agent-steps in all (counting any restored from a checkpoint)."""
        if self.model is None:
            self.model = self._build(env)
        if self._restore is not None:
            self._apply_restore(self._restore)
            self._restore = None
        remaining = steps - self.agent_steps
        if remaining > 0:
            self.model.learn(
                total_timesteps=remaining,
                callback=_HookCallback(hooks),
                reset_num_timesteps=False,
                progress_bar=False,
            )
        return self.policy

    @property
    def policy(self) -> SB3Policy:
        assert self.model is not None, "train() builds the model"
        return SB3Policy(self.model.policy, self.options, self._obs_shape)

    def save_checkpoint(self, path: str | Path) -> None:
        """Policy and optimiser tensors plus the step counter, written atomically."""
        assert self.model is not None
        save_atomic(
            {
                "format": TRAIN_FORMAT,
                "options": _plain(dataclasses.asdict(self.options)),
                "agent_steps": self.agent_steps,
                "n_updates": int(self.model._n_updates),
                "policy": self.model.policy.state_dict(),
                "optimizer": self.model.policy.optimizer.state_dict(),
            },
            path,
        )

    def load_checkpoint(self, path: str | Path) -> int:
        """Read a training checkpoint (applied when `train` builds the model); return its step."""
        data = load_safe(path, TRAIN_FORMAT)
        if data["options"] != _plain(dataclasses.asdict(self.options)):
            raise ValueError(f"checkpoint {str(path)!r} was trained with other agent options")
        self._restore = data
        return int(data["agent_steps"])

    def close(self) -> None:
        """Nothing to release: the model and its vectorised world live in this process."""

    def _apply_restore(self, data: dict[str, Any]) -> None:
        model = self.model
        model.policy.load_state_dict(data["policy"])
        model.policy.optimizer.load_state_dict(data["optimizer"])
        model.num_timesteps = int(data["agent_steps"])
        model._n_updates = int(data["n_updates"])
        # Fresh but reproducible random streams for the resumed part of the run.
        model.set_random_seed(self.seed + 1_000_003 * (1 + model.num_timesteps))


class _HookCallback(BaseCallback):
    """Bridges SB3's callback events to `TrainHooks`."""

    def __init__(self, hooks: TrainHooks) -> None:
        super().__init__()
        self.hooks = hooks
        self.rollouts = 0

    def _on_step(self) -> bool:
        buffer = self.model.ep_info_buffer
        mean_return = float(np.mean([e["r"] for e in buffer])) if buffer else None
        return self.hooks.on_step(int(self.model.num_timesteps), mean_return)

    def _on_rollout_start(self) -> None:
        # Runs after the previous update: the learner's state is consistent here.
        self.rollouts += 1
        if self.rollouts > 1:
            stats = {k: float(v) for k, v in self.model.logger.name_to_value.items()}
            self.hooks.on_update(int(self.model.num_timesteps), stats)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
