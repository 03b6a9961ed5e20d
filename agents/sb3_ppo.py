"""PPO from Stable-Baselines3 with parameter sharing over a batched multi-agent world.

Every agent of every copy is one SB3 environment (`envs.adapters.sb3.SB3VecEnv`), so one
policy learns from all of them: the parameter-sharing setup of the sequential-social-dilemma
baselines.

Reproducibility and resume: SB3 is seeded with the trainer's seed, and training episode k
starts from `reset(seed=episode_seed(seed, k))` (`agents.episodes.RecordedEpisodes`, which
also keeps the episode's actions). A checkpoint describes the learner at the start of the
current rollout (`agents.sb3_checkpoint`): weights, optimiser, counters, the random streams
SB3 draws from, the recent episode returns and the episode so far. Resuming replays that
episode's actions from its seeded reset and restores the streams, and redoes any rollout cut
short, so on the same device a resumed run gives the numbers of an uninterrupted one.
`load_checkpoint` checks the file against the options, the world and the network before
anything is copied.

A gradient that is no longer finite (from a loss that is NaN or infinite) stops training before
the optimiser step, with a `NonFiniteLoss` naming the agent-step and the update.

Ref: Schulman et al. 2017, "Proximal Policy Optimization Algorithms"; Raffin et al. 2021,
"Stable-Baselines3".
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import VecMonitor

from agents.checkpoints import TRAIN_FORMATS, check_world, read, world_of
from agents.episodes import RecordedEpisodes, stream_seed
from agents.finite import nonfinite
from agents.ppo_policy import plain
from agents.protocols import TrainHooks
from agents.sb3_checkpoint import check_checkpoint, random_state, set_random_state
from agents.sb3_policy import SB3Policy, policy_kwargs, resolve_device
from agents.sb3_ppo_config import SB3PPOConfig
from agents.spec import env_spec
from envs.adapters.sb3 import SB3VecEnv
from envs.core import BatchedEnv
from generative.checkpoint import save_atomic

TRAIN_FORMAT = TRAIN_FORMATS["sb3_ppo"]


class SB3PPO:
    """Trainer: `train(env, steps, hooks) -> SB3Policy`, with checkpoint save and resume."""

    def __init__(self, options: SB3PPOConfig, seed: int = 0, device: str = "auto") -> None:
        if not 0 <= seed < 2**32:  # SB3 seeds NumPy's legacy generator with it
            raise ValueError(f"sb3_ppo: seed={seed}; must lie in [0, 2**32)")
        self.options = options
        self.seed = seed
        self.device = resolve_device(device)
        self.model: PPO | None = None
        self.episodes: RecordedEpisodes | None = None
        """The world as the model steps it: seeded episodes, their actions kept."""
        self._env: BatchedEnv | None = None
        """The world the model was built for."""
        self._obs_shape: tuple[int, ...] = ()
        """One agent's observation shape as the world gives it (before SB3 transposes images)."""
        self._restore: dict[str, Any] | None = None
        """A checkpoint read by `load_checkpoint`, applied by the next `train`."""
        self._restore_path = Path()
        """The file `_restore` was read from (for messages)."""
        self._snapshot: dict[str, Any] | None = None
        """The learner at the start of the current rollout: what a checkpoint holds."""

    @property
    def agent_steps(self) -> int:
        if self._restore is not None:
            return self._restore["agent_steps"]
        return int(self.model.num_timesteps) if self.model is not None else 0

    def _build(self, env: BatchedEnv) -> PPO:
        cfg = self.options
        self._env, self._obs_shape = env, tuple(env.observation_space.shape)
        self.episodes = RecordedEpisodes(env, self.seed)
        vec_env = VecMonitor(SB3VecEnv(self.episodes))
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
        model.policy.optimizer.register_step_pre_hook(self._before_step)
        model.policy.optimizer.register_step_post_hook(self._after_step)
        return model

    def train(self, env: BatchedEnv, steps: int, hooks: TrainHooks) -> SB3Policy:
        """Train until `steps` agent-steps in all (counting any restored from a checkpoint)."""
        if self._restore is not None:
            check_world(self._restore_path, self._restore, env)
        if self.model is None:
            self.model = self._build(env)
        if self._restore is not None:
            self._apply_restore(self._restore)
            self._restore = None
        remaining = steps - self.agent_steps
        if remaining > 0:
            callback = _HookCallback(hooks, self._mark)
            self.model.learn(
                total_timesteps=remaining,
                callback=callback,
                reset_num_timesteps=False,
                progress_bar=False,
            )
            if not callback.stopped:
                self._mark()  # after the last update
        return self.policy

    @property
    def policy(self) -> SB3Policy:
        assert self.model is not None, "train() builds the model"
        return SB3Policy(self.model.policy, self.options, self._obs_shape)

    def _before_step(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        """Stop before a step with a gradient that is not finite (a NaN or infinite loss)."""
        grads = [p.grad for p in parameters(optimizer) if p.grad is not None]
        self._check("the gradient of the loss", grads)

    def _after_step(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        """Stop after a step that left a parameter non-finite (a learning rate too large);
        SB3's next forward pass would fail on the logits with a long traceback."""
        self._check("the policy's parameters", parameters(optimizer))

    def _check(self, what: str, tensors: list[torch.Tensor]) -> None:
        norm = torch.nn.utils.get_total_norm(tensors)
        if not torch.isfinite(norm):
            model = self.model
            update = model._n_updates // self.options.n_epochs + 1  # counted after its epochs
            raise nonfinite(
                "sb3_ppo", what, norm.item(), model.num_timesteps, update, "learning_rate"
            )

    # Checkpoints: the learner as it was at the start of the current rollout.
    def _mark(self) -> None:
        model, episodes = self.model, self.episodes
        recent = model.ep_info_buffer or ()
        self._snapshot = {
            "agent_steps": int(model.num_timesteps),
            "n_updates": int(model._n_updates),
            "episode_index": max(episodes.index, 0),  # -1: the first reset is still to come
            "episode_actions": torch.from_numpy(episodes.episode_actions()),
            "recent_returns": torch.tensor([e["r"] for e in recent], dtype=torch.float32),
            "recent_lengths": torch.tensor([e["l"] for e in recent], dtype=torch.int64),
            **random_state(self.device),
        }

    def save_checkpoint(self, path: str | Path) -> None:
        """Weights, optimiser and the rollout-start state (see the module docstring), atomically."""
        assert self.model is not None and self._snapshot is not None, "train() builds the model"
        save_atomic(
            {
                "format": TRAIN_FORMAT,
                "options": plain(dataclasses.asdict(self.options)),
                "world": world_of(self._env),
                "spec": env_spec(self._env).to_plain(),
                "batch_size": self._env.batch_size,
                "policy": self.model.policy.state_dict(),
                "optimizer": self.model.policy.optimizer.state_dict(),
                **self._snapshot,
            },
            path,
        )

    def load_checkpoint(self, path: str | Path, env: BatchedEnv | None = None) -> int:
        """Read and check a training checkpoint, applied when `train` builds the model; return
        its step. It is checked against the world now when `env` is given, and by `train` in
        any case, before anything is copied.

        Raises:
            CheckpointError: a missing or damaged file (an entry missing or of the wrong type,
                tensors that do not fit the network its options and spaces describe).
            ValueError: a checkpoint of another learner, other options or another world.
        """
        data = read(path, "sb3_ppo")
        check_checkpoint(path, data, self.options)
        if env is not None:
            check_world(path, data, env)
        self._restore, self._restore_path = data, Path(path)
        return data["agent_steps"]

    def close(self) -> None:
        """Nothing to release: the model and its vectorised world live in this process."""

    def _apply_restore(self, data: dict[str, Any]) -> None:
        """Load the checkpoint's learner, rebuild its episode by replaying its actions through
        SB3's wrappers (which count its returns again) and restore the random streams."""
        model, episodes = self.model, self.episodes
        model.policy.load_state_dict(data["policy"])
        model.policy.optimizer.load_state_dict(data["optimizer"])
        model.num_timesteps, model._n_updates = data["agent_steps"], data["n_updates"]
        window = model._stats_window_size
        recent = zip(data["recent_returns"].numpy(), data["recent_lengths"].tolist(), strict=True)
        model.ep_info_buffer = deque(({"r": r, "l": n, "t": 0.0} for r, n in recent), window)
        model.ep_success_buffer = deque(maxlen=window)
        episodes.seek(data["episode_index"])
        obs = model.env.reset()
        for actions in data["episode_actions"].numpy():  # (B, A, ...) each
            obs, _, dones, _ = model.env.step(actions.reshape(-1, *actions.shape[2:]))
            if dones.any():
                raise RuntimeError("sb3_ppo: replaying the checkpoint's episode ended it early")
        model._last_obs = obs
        model._last_episode_starts = np.full(model.env.num_envs, not len(data["episode_actions"]))
        if not set_random_state(data, self.device):
            torch.cuda.manual_seed(stream_seed(self.seed, model.num_timesteps))
        self._mark()


def parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """The parameters `optimizer` steps."""
    return [p for group in optimizer.param_groups for p in group["params"]]


class _HookCallback(BaseCallback):
    """Bridges SB3's callback events to `TrainHooks`; marks the learner at every rollout start."""

    def __init__(self, hooks: TrainHooks, mark: Callable[[], None]) -> None:
        super().__init__()
        self.hooks, self.mark = hooks, mark
        self.rollouts = 0
        self.stopped = False
        """A hook asked to stop (mid-rollout: the mark of the rollout's start stands)."""

    def _on_step(self) -> bool:
        buffer = self.model.ep_info_buffer
        mean_return = float(np.mean([e["r"] for e in buffer])) if buffer else None
        self.stopped = not self.hooks.on_step(int(self.model.num_timesteps), mean_return)
        return not self.stopped

    def _on_rollout_start(self) -> None:
        # Runs after the previous update: the learner's state is consistent here.
        self.mark()
        self.rollouts += 1
        if self.rollouts > 1:
            stats = {k: float(v) for k, v in self.model.logger.name_to_value.items()}
            self.hooks.on_update(int(self.model.num_timesteps), stats)


__all__ = ["SB3PPO", "SB3Policy"]  # SB3Policy lives in agents.sb3_policy
