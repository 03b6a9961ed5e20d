"""The trained policy of `agents.rllib_ppo`: RLlib's PPO RLModules, run without Ray.

The modules are RLlib's `DefaultPPOTorchRLModule`s built from the same settings the trainer
used (`agents.rllib_ppo_config.model_config`), holding a copy of the learner's weights; saved
as plain tensors and loaded with `weights_only=True`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

from agents.ppo_policy import plain, resolve_device
from agents.rllib_ppo_config import RLlibPPOConfig, model_config, module_ids
from agents.spec import EnvSpec
from generative.checkpoint import load_safe, save_atomic

POLICY_FORMAT = "emergent.rllib_ppo.policy.v1"


def module_spaces(spec: EnvSpec) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Space]:
    """(observation, action) spaces of one module: uint8 images arrive scaled to [0, 1]."""
    shape = spec.obs_shape
    if spec.image:
        obs_space = gymnasium.spaces.Box(0.0, 1.0, shape, np.float32)
    else:
        obs_space = gymnasium.spaces.Box(-np.inf, np.inf, shape, np.float32)
    if spec.continuous:
        low, high = np.array(spec.low, np.float32), np.array(spec.high, np.float32)
        return obs_space, gymnasium.spaces.Box(low, high, dtype=np.float32)
    return obs_space, gymnasium.spaces.Discrete(spec.action_dim)


def build_modules(spec: EnvSpec, options: RLlibPPOConfig) -> dict[str, torch.nn.Module]:
    """One freshly initialised RLModule per module id (global RNGs untouched)."""
    from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import (
        DefaultPPOTorchRLModule,
    )
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    obs_space, action_space = module_spaces(spec)
    settings = dataclasses.asdict(DefaultModelConfig(**model_config(options, spec.image)))
    modules = {}
    with torch.random.fork_rng(devices=[]):
        for module_id in dict.fromkeys(module_ids(options, spec.num_agents)):
            module = RLModuleSpec(
                module_class=DefaultPPOTorchRLModule,
                observation_space=obs_space,
                action_space=action_space,
                model_config=settings,
            ).build()
            modules[module_id] = module.eval()
    return modules


class RLlibPolicy:
    """A trained policy: observations of agents in, actions out.

    `act` takes N = B·A observations ordered copy-major (row b·A + a is agent a of copy b),
    as `emergent.rollout.run_episodes` passes them; with per-agent modules N must be a
    multiple of A. Discrete actions sample the module's categorical (or take its argmax when
    deterministic); Box actions sample its diagonal Gaussian in RLlib's normalised [-1, 1]
    space, mapped to the bounds and clipped as RLlib's env runners do.
    """

    def __init__(
        self, modules: dict[str, torch.nn.Module], spec: EnvSpec, options: RLlibPPOConfig
    ) -> None:
        self.modules, self.spec, self.options = modules, spec, options
        self.agent_modules = module_ids(options, spec.num_agents)  # module id of agent a

    @torch.inference_mode()
    def act(
        self, obs: np.ndarray, rng: np.random.Generator | None = None, deterministic: bool = False
    ) -> np.ndarray:
        """Actions (N,) int, or (N, D) float within the Box, for observations (N, *obs_shape)."""
        rng = rng if rng is not None else np.random.default_rng()
        return self._per_module(obs, lambda inputs: self._choose(inputs, rng, deterministic))

    @torch.inference_mode()
    def action_probabilities(self, obs: np.ndarray) -> np.ndarray:
        """softmax of the modules' action-distribution inputs (their logits), (N, n) float64,
        for observations (N, *obs_shape); Discrete actions only."""
        if self.spec.continuous:
            raise ValueError(
                "rllib_ppo: action_probabilities needs Discrete actions; these are a Box"
            )

        def softmax(logits: np.ndarray) -> np.ndarray:
            z = np.exp(logits - logits.max(axis=-1, keepdims=True))
            return z / z.sum(axis=-1, keepdims=True)

        return self._per_module(obs, lambda inputs: softmax(inputs.astype(np.float64)))

    def _per_module(
        self, obs: np.ndarray, choose: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """`choose(action_dist_inputs (M, k))` of each row's module, (N, ...) in row order."""
        obs = np.asarray(obs)
        n, agents = len(obs), self.spec.num_agents
        if len(self.modules) == 1:
            rows = {next(iter(self.modules)): np.arange(n)}
        else:
            if n % agents:
                raise ValueError(
                    f"rllib_ppo: {n} observations; per-agent modules need a multiple of {agents}"
                )
            module_of_row = np.array(self.agent_modules)[np.arange(n) % agents]  # (N,)
            rows = {m: np.flatnonzero(module_of_row == m) for m in self.modules}
        out: np.ndarray | None = None
        for module_id, index in rows.items():
            module = self.modules[module_id]
            device = next(module.parameters()).device
            x = torch.as_tensor(obs[index], device=device)
            x = x.float() / 255.0 if self.spec.image else x.float()
            inputs = module.forward_inference({"obs": x})["action_dist_inputs"].cpu().numpy()
            chosen = choose(inputs)
            if out is None:
                out = np.zeros((n, *chosen.shape[1:]), dtype=chosen.dtype)
            out[index] = chosen
        assert out is not None
        return out

    def _choose(
        self, inputs: np.ndarray, rng: np.random.Generator, deterministic: bool
    ) -> np.ndarray:
        if not self.spec.continuous:  # logits (M, n_actions)
            if deterministic:
                return inputs.argmax(axis=-1)
            gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=inputs.shape)))
            return (inputs + gumbel).argmax(axis=-1)  # Gumbel-max: a sample of softmax(logits)
        mean, log_std = np.split(inputs, 2, axis=-1)  # (M, D) each
        action = mean if deterministic else mean + np.exp(log_std) * rng.standard_normal(mean.shape)
        low, high = np.array(self.spec.low), np.array(self.spec.high)
        return np.clip(low + (action + 1.0) * (high - low) / 2.0, low, high).astype(np.float32)

    def save(self, path: str | Path) -> None:
        save_atomic(
            {
                "format": POLICY_FORMAT,
                "options": plain(dataclasses.asdict(self.options)),
                "spec": self.spec.to_plain(),
                "modules": {k: m.state_dict() for k, m in self.modules.items()},
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> RLlibPolicy:
        """Rebuild a policy saved with `save` (weights only, no pickled code)."""
        data = load_safe(path, POLICY_FORMAT)
        options = options_from_plain(data["options"])
        spec = EnvSpec.from_plain(data["spec"])
        modules = build_modules(spec, options)
        target = resolve_device(device)
        for module_id, module in modules.items():
            module.load_state_dict(data["modules"][module_id])
            module.to(target)
        return cls(modules, spec, options)


def options_from_plain(raw: dict[str, Any]) -> RLlibPPOConfig:
    return RLlibPPOConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
