"""The trained policy of `agents.ppo` and the description of the spaces it was built for."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

from agents.ppo_config import PPOConfig
from agents.ppo_networks import ActorCritic
from envs.core import BatchedEnv
from generative.checkpoint import load_safe, save_atomic

POLICY_FORMAT = "emergent.ppo.policy.v1"


def resolve_device(device: str) -> torch.device:
    """'auto' means CUDA when present, else CPU."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def env_spec(env: BatchedEnv) -> dict[str, Any]:
    """What the network needs to know of an env's spaces, as plain values (saved in files).

    Raises:
        ValueError: a space the learner does not handle.
    """
    obs_space, action_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gymnasium.spaces.Box):
        raise ValueError(f"ppo: observation space {obs_space}; only Box is supported")
    spec: dict[str, Any] = {
        "num_agents": int(env.num_agents),
        "obs_shape": [int(n) for n in obs_space.shape],
        "image": bool(obs_space.dtype == np.uint8 and len(obs_space.shape) == 3),
        "episode_length": int(env.max_steps),
    }
    if isinstance(action_space, gymnasium.spaces.Discrete):
        spec["n_actions"] = int(action_space.n)
    elif isinstance(action_space, gymnasium.spaces.Box) and len(action_space.shape) == 1:
        spec["low"] = [float(v) for v in action_space.low]
        spec["high"] = [float(v) for v in action_space.high]
    else:
        raise ValueError(f"ppo: action space {action_space}; allowed: Discrete, 1-D Box")
    return spec


def build_network(spec: dict[str, Any], cfg: PPOConfig, seed: int) -> ActorCritic:
    """The actor-critic for `spec`, initialised from `seed` (without touching global RNGs)."""
    continuous = "low" in spec
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ActorCritic(
            num_agents=spec["num_agents"],
            share=cfg.share_parameters,
            obs_shape=tuple(spec["obs_shape"]),
            image=spec["image"],
            action_dim=len(spec["low"]) if continuous else spec["n_actions"],
            continuous=continuous,
            hidden_sizes=tuple(cfg.hidden_sizes),
            conv_channels=tuple(cfg.conv_channels),
            activation=cfg.activation,
            recurrent=cfg.recurrent,
            rnn_size=cfg.rnn_size,
        )


class PPOPolicy:
    """A trained policy: observations of agents in, actions out.

    `act` takes N = B·A observations ordered copy-major (row b·A + a is agent a of copy b),
    as `emergent.rollout.run_episodes` passes them; with one network per agent N must be a
    multiple of A. A recurrent policy keeps its state between calls and zeroes it every
    `episode_length` calls (all copies of a world end together after that many steps), when
    the number of rows changes, or on `reset()`.
    """

    def __init__(self, net: ActorCritic, spec: dict[str, Any], options: PPOConfig) -> None:
        self.net, self.spec, self.options = net, spec, options
        self.obs_shape = tuple(spec["obs_shape"])
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
        agents = 1 if self.options.share_parameters else self.spec["num_agents"]
        if n % agents:
            raise ValueError(
                f"ppo: {n} observations; per-agent networks need a multiple of {agents}"
            )
        x = torch.as_tensor(np.asarray(obs), device=device).reshape(
            n // agents, agents, *self.obs_shape
        )
        if self.options.recurrent:
            length = self.spec["episode_length"]
            if self._h is None or self._h.shape[0] != len(x) or self._calls % length == 0:
                self._h = torch.zeros(len(x), agents, self.options.rnn_size, device=device)
            self._calls += 1
        out, _, self._h = self.net.step(x, self._h)
        out = out.reshape(n, -1).cpu().numpy()
        rng = rng if rng is not None else np.random.default_rng()
        if "low" not in self.spec:
            if deterministic:
                return out.argmax(axis=-1)
            gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=out.shape)))
            return (out + gumbel).argmax(axis=-1)  # Gumbel-max: a sample of softmax(logits)
        if not deterministic:
            std = self.net.std().expand(len(x), agents, -1).reshape(n, -1).cpu().numpy()
            out = out + std * rng.standard_normal(out.shape)
        return np.clip(out, self.spec["low"], self.spec["high"]).astype(np.float32)

    def save(self, path: str | Path) -> None:
        save_atomic(
            {
                "format": POLICY_FORMAT,
                "options": plain(dataclasses.asdict(self.options)),
                "spec": self.spec,
                "net": self.net.state_dict(),
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> PPOPolicy:
        """Rebuild a policy saved with `save` (weights only, no pickled code)."""
        data = load_safe(path, POLICY_FORMAT)
        options = options_from_plain(data["options"])
        net = build_network(data["spec"], options, seed=0)
        net.load_state_dict(data["net"])
        return cls(net.to(resolve_device(device)), data["spec"], options)


def plain(value: Any) -> Any:
    """Tuples to lists, recursively (what `torch.load(weights_only=True)` reads back)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def options_from_plain(raw: dict[str, Any]) -> PPOConfig:
    return PPOConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
