"""PPO in PyTorch, trained directly on a batched world: B copies × A agents in one tensor batch.

No vectorised-env wrappers and no per-env Python loop: each step is one forward pass of the
whole (B, A) batch (shared network, or one network per agent with batched weights), one call
of `env.step` with (B, A) actions, and writes into preallocated (T, B, A, ...) buffers. The
update follows CleanRL's `ppo.py` (clipped surrogate, clipped value loss, entropy bonus,
advantage normalisation, learning-rate annealing, gradient clipping, `approx_kl`); with
`recurrent`, CleanRL's `ppo_atari_lstm.py` (a GRU, state zeroed at episode starts, BPTT over
whole rollout sequences in minibatches of copies).

Episodes: all copies of a world end on the same step; the learner then resets the world with
the seed of the next episode (`episode_seed`). On truncation (the time limit) the value of the
final observation is bootstrapped into the last reward (see `agents.ppo_buffer.compute_gae`).

Reproducibility: network initialisation, action sampling and minibatch order draw from the
trainer's own seeded generator, and episode k starts from `reset(seed=episode_seed(seed, k))`,
so the same seed gives the same numbers on CPU. A checkpoint describes the learner at the start
of the current rollout (after the last update): weights, optimiser, generator, episode index,
recurrent state and the actions taken so far in the current episode. Resuming replays those
actions from the episode's seeded reset to rebuild the world exactly, and redoes any rollout
cut short, so a resumed run equals an uninterrupted one (for worlds whose `reset(seed)` and
`step` are deterministic, as every world in `envs` is). `load_checkpoint` checks the file
against the options, the world and the network before anything is copied (`agents.checkpoints`).

A loss or gradient that is no longer finite stops training before the optimiser step, with a
`NonFiniteLoss` naming the agent-step and the update.

Ref: Schulman et al. 2017, "Proximal Policy Optimization Algorithms"; Huang et al. 2022,
"The 37 Implementation Details of Proximal Policy Optimization" (CleanRL).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from agents.checkpoints import TRAIN_FORMATS, check_world, read, world_of
from agents.episodes import episode_seed, stream_seed
from agents.finite import nonfinite
from agents.ppo_buffer import compute_gae
from agents.ppo_checkpoint import check_checkpoint
from agents.ppo_config import PPOConfig
from agents.ppo_networks import log_prob_entropy, sample
from agents.ppo_policy import PPOPolicy, plain, resolve_device
from agents.ppo_session import Episode, Session, start_session
from agents.protocols import TrainHooks
from envs.core import BatchedEnv
from generative.checkpoint import save_atomic

TRAIN_FORMAT = TRAIN_FORMATS["ppo"]


class PPO:
    """Trainer: `train(env, steps, hooks) -> PPOPolicy`, with checkpoint save and resume."""

    def __init__(self, options: PPOConfig, seed: int = 0, device: str = "auto") -> None:
        self.options, self.seed = options, seed
        self.device = resolve_device(device)
        self.mean_return: float | None = None
        """Mean per-agent return of the last finished batch of training episodes."""
        self._agent_steps = 0
        self._session: Session | None = None
        """Built by the first `train`, for its world."""
        self._episode: Episode | None = None
        self._env: BatchedEnv | None = None
        """The world `_episode` runs in."""
        self._restore: dict[str, Any] | None = None
        """A checkpoint read by `load_checkpoint`, applied by the next `train`."""
        self._restore_path = Path()
        """The file `_restore` was read from (for messages)."""
        self._snapshot: dict[str, Any] | None = None
        """The learner at the start of the current rollout: what a checkpoint holds."""

    @property
    def agent_steps(self) -> int:
        return self._agent_steps

    @property
    def session(self) -> Session:
        """The network, optimiser, generator and buffers (built by the first `train`)."""
        if self._session is None:
            raise RuntimeError("ppo: train() builds the learner; call it first")
        return self._session

    @property
    def policy(self) -> PPOPolicy:
        return PPOPolicy(self.session.net, self.session.spec, self.options)

    def close(self) -> None:
        """Nothing to release: the learner holds tensors only."""

    def train(self, env: BatchedEnv, steps: int, hooks: TrainHooks) -> PPOPolicy:
        """Train until `steps` agent-steps in all (counting any restored from a checkpoint),
        in whole rollouts; the learning rate anneals over those `steps`."""
        if self._restore is not None:  # before anything is built for this world
            check_world(self._restore_path, self._restore, env)
        if self._session is None:
            self._session = start_session(env, self.options, self.seed, self.device)
        session = self._session
        if (env.batch_size, env.num_agents) != session.buffer.rewards.shape[1:]:
            raise ValueError("ppo: train() was given a world of another batch size or agents")
        if self._restore is not None:
            self._episode = self._resume(env, session, self._restore)
            self._restore = None
        elif env is not self._env:
            index = 0 if self._episode is None else self._episode.index
            self._episode = self._begin_episode(env, session, index)
        self._env = env
        self._mark()
        while self._agent_steps < steps:
            if not self._collect(env, hooks):
                break
            stats = self._update(steps)
            self._mark()
            hooks.on_update(self._agent_steps, stats)
        return self.policy

    def _begin_episode(self, env: BatchedEnv, session: Session, index: int) -> Episode:
        obs = torch.as_tensor(env.reset(seed=episode_seed(self.seed, index)), device=self.device)
        return Episode(
            index=index,
            t=0,
            obs=obs,
            start=True,
            h=session.net.initial_state(env.batch_size, self.device),
            returns=np.zeros((env.batch_size, env.num_agents)),
        )

    @torch.inference_mode()
    def _collect(self, env: BatchedEnv, hooks: TrainHooks) -> bool:
        """One rollout of T steps into the buffer; False when a hook asked to stop."""
        cfg, session, episode = self.options, self.session, self._episode
        assert episode is not None, "train() begins an episode before collecting"
        buf, net, continuous = session.buffer, session.net, session.spec.continuous
        if cfg.recurrent:
            buf.h0.copy_(episode.h)
        for t in range(cfg.num_steps):
            buf.obs[t] = episode.obs
            buf.starts[t] = float(episode.start)
            out, value, h = net.step(episode.obs, episode.h)  # one forward for all B·A agents
            std = net.std() if continuous else None
            action = sample(out, std, session.generator)
            buf.logprobs[t], _ = log_prob_entropy(out, std, action)
            buf.actions[t], buf.values[t] = action, value
            if continuous:
                action = torch.minimum(
                    torch.maximum(action, session.action_low), session.action_high
                )
            env_action = action.cpu().numpy()
            result = env.step(env_action)
            session.episode_actions[episode.t] = env_action
            episode.returns += result.rewards
            rewards = torch.as_tensor(result.rewards, device=self.device)  # (B, A)
            if cfg.reward_sharing:
                alpha = cfg.reward_sharing
                rewards = (1 - alpha) * rewards + alpha * rewards.mean(dim=1, keepdim=True)
            ended = result.terminated | result.truncated  # (B,)
            if ended.any():
                if not ended.all():
                    raise RuntimeError("ppo: every copy of the world must end on the same step")
                bootstrap = torch.as_tensor(result.truncated & ~result.terminated)
                if bootstrap.any():  # time limit: bootstrap V(s_final) into the last reward
                    final_obs = torch.as_tensor(result.obs, device=self.device)
                    _, final_value, _ = net.step(final_obs, h)
                    rewards = rewards + cfg.gamma * final_value * bootstrap.to(self.device)[:, None]
                self.mean_return = float(episode.returns.mean())
                episode = self._episode = self._begin_episode(env, session, episode.index + 1)
            else:
                episode.obs = torch.as_tensor(result.obs, device=self.device)
                episode.t += 1
                episode.start, episode.h = False, h
            buf.rewards[t], buf.ends[t] = rewards, float(ended.all())
            self._agent_steps += rewards.numel()
            if not hooks.on_step(self._agent_steps, self.mean_return):
                return False
        buf.next_value.copy_(net.step(episode.obs, episode.h)[1])
        return True

    def _update(self, steps: int) -> dict[str, float]:
        """Epochs of minibatch updates on the rollout (CleanRL's loss, names and statistics)."""
        cfg, session = self.options, self.session
        buf, net, continuous = session.buffer, session.net, session.spec.continuous
        assert self._snapshot is not None, "train() marks the rollout start"
        start_steps = self._snapshot["agent_steps"]
        frac = max(1.0 - start_steps / steps, 0.0) if cfg.anneal_lr else 1.0
        learning_rate = frac * cfg.learning_rate
        for group in session.optimizer.param_groups:
            group["lr"] = learning_rate
        advantages, returns = compute_gae(
            buf.rewards, buf.values, buf.ends, buf.next_value, cfg.gamma, cfg.gae_lambda
        )
        T, B, A = buf.rewards.shape
        n = B if cfg.recurrent else T * B  # minibatches slice copies, or copy-steps
        size = n // cfg.num_minibatches
        flat = {
            "obs": buf.obs,
            "actions": buf.actions,
            "logprobs": buf.logprobs,
            "values": buf.values,
            "advantages": advantages,
            "returns": returns,
        }
        if not cfg.recurrent:
            flat = {k: v.reshape(T * B, *v.shape[2:]) for k, v in flat.items()}
        totals: dict[str, Tensor] = {}
        count = 0
        for _epoch in range(cfg.update_epochs):
            order = torch.randperm(n, generator=session.generator, device=self.device)
            for i in range(cfg.num_minibatches):
                idx = order[i * size : (i + 1) * size]
                if cfg.recurrent:
                    mb = {k: v[:, idx] for k, v in flat.items()}  # (T, b, A, ...)
                    out, new_value, _ = net.sequence(mb["obs"], buf.starts[:, idx], buf.h0[idx])
                else:
                    mb = {k: v[idx] for k, v in flat.items()}  # (b, A, ...)
                    out, new_value, _ = net.step(mb["obs"], None)
                std = net.std() if continuous else None
                new_logprob, entropy = log_prob_entropy(out, std, mb["actions"])
                logratio = new_logprob - mb["logprobs"]
                ratio = logratio.exp()
                with torch.no_grad():
                    # http://joschu.net/blog/kl-approx.html
                    old_approx_kl = (-logratio).mean()
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfrac = ((ratio - 1.0).abs() > cfg.clip_coef).float().mean()
                mb_advantages = mb["advantages"]
                if cfg.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (
                        mb_advantages.std() + 1e-8
                    )
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(ratio, 1 - cfg.clip_coef, 1 + cfg.clip_coef)
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()
                v_loss_unclipped = (new_value - mb["returns"]) ** 2
                if cfg.clip_vloss:
                    v_clipped = mb["values"] + torch.clamp(
                        new_value - mb["values"], -cfg.clip_coef, cfg.clip_coef
                    )
                    v_loss_clipped = (v_clipped - mb["returns"]) ** 2
                    v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                else:
                    v_loss = 0.5 * v_loss_unclipped.mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - cfg.ent_coef * entropy_loss + cfg.vf_coef * v_loss

                session.optimizer.zero_grad()
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
                if not (torch.isfinite(loss) & torch.isfinite(grad_norm)):  # before the step
                    raise self._nonfinite(loss, grad_norm, buf.rewards.numel())
                session.optimizer.step()
                terms = {
                    "pg_loss": pg_loss,
                    "v_loss": v_loss,
                    "entropy_loss": entropy_loss,
                    "old_approx_kl": old_approx_kl,
                    "approx_kl": approx_kl,
                    "clipfrac": clipfrac,
                }
                for key, value in terms.items():
                    totals[key] = totals.get(key, 0.0) + value.detach()
                count += 1
            if cfg.target_kl is not None and approx_kl.item() > cfg.target_kl:
                break
        y_pred, y_true = buf.values.flatten(), returns.flatten()
        var_y = y_true.var()
        explained_var = math.nan if var_y == 0 else float(1 - (y_true - y_pred).var() / var_y)
        stats = {f"train/{k}": float(v) / count for k, v in totals.items()}
        stats.update(
            {"train/learning_rate": learning_rate, "train/explained_variance": explained_var}
        )
        return stats

    def _nonfinite(self, loss: Tensor, grad_norm: Tensor, rollout: int) -> Exception:
        """The error for a loss, or else a gradient norm, that is not finite."""
        what, value = ("the loss", loss) if not loss.isfinite() else ("the gradient", grad_norm)
        update = self._agent_steps // rollout  # whole rollouts of T·B·A agent-steps
        return nonfinite("ppo", what, value.item(), self._agent_steps, update, "learning_rate")

    # Checkpoints: the learner as it was at the start of the current rollout.
    def _mark(self) -> None:
        session, episode = self.session, self._episode
        assert episode is not None, "train() begins an episode before marking"
        self._snapshot = {
            "agent_steps": self._agent_steps,
            "episode_index": episode.index,
            "episode_actions": torch.from_numpy(session.episode_actions[: episode.t].copy()),
            "generator": session.generator.get_state(),
            "hidden": episode.h.cpu().clone() if episode.h is not None else torch.zeros(0),
            "mean_return": math.nan if self.mean_return is None else self.mean_return,
        }

    def save_checkpoint(self, path: str | Path) -> None:
        """Weights, optimiser and the rollout-start state (see the module docstring), atomically."""
        session = self.session
        assert self._snapshot is not None, "train() marks the rollout start"
        save_atomic(
            {
                "format": TRAIN_FORMAT,
                "options": plain(dataclasses.asdict(self.options)),
                "world": world_of(self._env),
                "spec": session.spec.to_plain(),
                "batch_size": int(session.buffer.rewards.shape[1]),
                "net": session.net.state_dict(),
                "optimizer": session.optimizer.state_dict(),
                **self._snapshot,
            },
            path,
        )

    def load_checkpoint(self, path: str | Path, env: BatchedEnv | None = None) -> int:
        """Read and check a training checkpoint, applied when `train` gets the world; return
        its step. It is checked against the world now when `env` is given, and by `train` in
        any case, before anything is copied.

        Raises:
            CheckpointError: a missing or damaged file (an entry missing or of the wrong type,
                tensors that do not fit the network its options and spaces describe).
            ValueError: a checkpoint of another learner, other options or another world.
        """
        data = read(path, "ppo")
        check_checkpoint(path, data, self.options, self.seed)
        if env is not None:
            check_world(path, data, env)
        self._restore, self._restore_path = data, Path(path)
        self._agent_steps = data["agent_steps"]
        return self._agent_steps

    def _resume(self, env: BatchedEnv, session: Session, data: dict[str, Any]) -> Episode:
        """Load the checkpoint's learner (checked by `train`) and rebuild its episode by
        replaying its actions."""
        session.net.load_state_dict(data["net"])
        session.optimizer.load_state_dict(data["optimizer"])
        self._agent_steps = data["agent_steps"]
        if data["generator"].shape == session.generator.get_state().shape:
            session.generator.set_state(data["generator"])
        else:  # written on another kind of device: fresh streams, seeded by the step
            session.generator.manual_seed(stream_seed(self.seed, self._agent_steps))
        self.mean_return = None if math.isnan(data["mean_return"]) else data["mean_return"]
        episode = self._begin_episode(env, session, int(data["episode_index"]))
        for action in data["episode_actions"].numpy():  # rebuild the world mid-episode
            result = env.step(action)
            if (result.terminated | result.truncated).any():
                raise RuntimeError("ppo: replaying the checkpoint's episode ended it early")
            session.episode_actions[episode.t] = action
            episode.returns += result.rewards
            episode.t += 1
        if episode.t:
            episode.obs = torch.as_tensor(result.obs, device=self.device)
            episode.start = False
            if session.net.recurrent:
                episode.h = data["hidden"].to(self.device)
        return episode
