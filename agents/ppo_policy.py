"""The trained policy of `agents.ppo`: the actor-critic network, saved and loaded as tensors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.ppo_config import PPOConfig
from agents.ppo_networks import ActorCritic
from agents.spec import EnvSpec
from generative.checkpoint import load_safe, save_atomic

POLICY_FORMAT = "emergent.ppo.policy.v1"


def resolve_device(device: str) -> torch.device:
    """'auto' means CUDA when present, else CPU."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def build_network(spec: EnvSpec, cfg: PPOConfig, seed: int) -> ActorCritic:
    """The actor-critic for `spec`, initialised from `seed` (without touching global RNGs)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ActorCritic(spec, cfg)


class PPOPolicy:
    """A trained policy: observations of agents in, actions out.

    `act` takes N = B·A observations ordered copy-major (row b·A + a is agent a of copy b),
    as `emergent.rollout.run_episodes` passes them; with one network per agent N must be a
    multiple of A. A recurrent policy keeps its state between calls and zeroes it every
    `episode_length` calls (all copies of a world end together after that many steps), when
    the number of rows changes, or on `reset()`. `action_probabilities` is for feedforward
    policies only: a recurrent policy's distribution depends on its memory as well.
    """

    def __init__(self, net: ActorCritic, spec: EnvSpec, options: PPOConfig) -> None:
        self.net, self.spec, self.options = net, spec, options
        self.obs_shape = spec.obs_shape
        self._h: torch.Tensor | None = None
        self._calls = 0

    def reset(self) -> None:
        """Forget the recurrent state (call at the start of new episodes)."""
        self._h, self._calls = None, 0

    @torch.inference_mode()
    def act(
        self, obs: np.ndarray, rng: np.random.Generator | None = None, deterministic: bool = False
    ) -> np.ndarray:
        """Actions (N,) int, or (N, D) float clipped to the Box, for observations
        (N, *obs_shape); sampled with `rng` unless deterministic."""
        device = next(self.net.parameters()).device
        n = len(obs)
        x = self._batched(obs)  # (N / agents, agents, *obs_shape)
        agents = x.shape[1]
        if self.options.recurrent:
            length = self.spec.episode_length
            if self._h is None or self._h.shape[0] != len(x) or self._calls % length == 0:
                self._h = torch.zeros(len(x), agents, self.options.rnn_size, device=device)
            self._calls += 1
        out, _, self._h = self.net.step(x, self._h)
        out = out.reshape(n, -1).cpu().numpy()
        rng = rng if rng is not None else np.random.default_rng()
        if not self.spec.continuous:
            if deterministic:
                return out.argmax(axis=-1)
            gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=out.shape)))
            return (out + gumbel).argmax(axis=-1)  # Gumbel-max: a sample of softmax(logits)
        if not deterministic:
            std = self.net.std().expand(len(x), agents, -1).reshape(n, -1).cpu().numpy()
            out = out + std * rng.standard_normal(out.shape)
        return np.clip(out, self.spec.low, self.spec.high).astype(np.float32)

    @torch.inference_mode()
    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        """softmax(logits) (N, n) float64 for observations (N, *obs_shape); Discrete actions
        and feedforward policies only (the recurrent state is neither used nor changed)."""
        if self.spec.continuous:
            raise ValueError("ppo: action_probabilities needs Discrete actions; these are a Box")
        if self.options.recurrent:
            raise ValueError(
                "ppo: action_probabilities of a recurrent policy depends on its memory; "
                "only feedforward policies (recurrent=false) give it"
            )
        logits, _, _ = self.net.step(self._batched(obs), None)
        logits = logits.reshape(len(obs), -1).double()
        return torch.softmax(logits, dim=-1).cpu().numpy()

    def _batched(self, obs: np.ndarray) -> torch.Tensor:
        """Observations (N, *obs_shape) as the network's (N / agents, agents, *obs_shape)."""
        device = next(self.net.parameters()).device
        n = len(obs)
        agents = 1 if self.options.share_parameters else self.spec.num_agents
        if n % agents:
            raise ValueError(
                f"ppo: {n} observations; per-agent networks need a multiple of {agents}"
            )
        x = torch.as_tensor(np.asarray(obs), device=device)
        return x.reshape(n // agents, agents, *self.obs_shape)

    def save(self, path: str | Path) -> None:
        save_atomic(
            {
                "format": POLICY_FORMAT,
                "options": plain(dataclasses.asdict(self.options)),
                "spec": self.spec.to_plain(),
                "net": self.net.state_dict(),
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> PPOPolicy:
        """Rebuild a policy saved with `save` (weights only, no pickled code)."""
        data = load_safe(path, POLICY_FORMAT)
        options = options_from_plain(data["options"])
        spec = EnvSpec.from_plain(data["spec"])
        net = build_network(spec, options, seed=0)
        net.load_state_dict(data["net"])
        return cls(net.to(resolve_device(device)), spec, options)


def plain(value: Any) -> Any:
    """Tuples to lists, recursively (what `torch.load(weights_only=True)` reads back)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def options_from_plain(raw: dict[str, Any]) -> PPOConfig:
    return PPOConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
