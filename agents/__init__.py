"""Learners for the worlds in `envs`, behind the `Trainer` and `Policy` protocols.

`make(kind, seed=..., device=..., **options)` returns a `Trainer`: `train(env, steps, hooks)
-> Policy`, `save_checkpoint`, `load_checkpoint`, `close`; a `Policy` has `act(obs, rng)`,
`save(path)` and `load(path)` (see `agents.protocols`). `LEARNERS` holds one entry per learner.
Importing `agents` loads neither Stable-Baselines3 nor Ray: a learner's modules are imported
when its trainer or policy class is first asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.ppo_config import PPOConfig
from agents.protocols import Policy, Trainer, TrainHooks
from agents.rllib_ppo_config import RLlibPPOConfig
from agents.sb3_ppo_config import SB3PPOConfig


@dataclass(frozen=True)
class Learner:
    """One learner: its options, where its trainer and policy classes live, one line about it.

    The classes are named by import path ("module:Class") and imported when first asked for,
    so that importing `agents` loads neither Stable-Baselines3 nor Ray.
    """

    config: type
    """The frozen dataclass of its options (its module imports no SB3 or Ray)."""
    trainer_path: str
    """"module:Class" of the trainer, built as `cls(config, seed=..., device=...)`."""
    policy_path: str
    """"module:Class" of the policy (`load(path, device)` reads a saved policy)."""
    doc: str
    """One line for listings."""

    def trainer(self) -> type[Trainer]:
        """The trainer class (imported now)."""
        return _resolve(self.trainer_path)

    def policy(self) -> type[Policy]:
        """The policy class (imported now)."""
        return _resolve(self.policy_path)


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


LEARNERS: dict[str, Learner] = {
    "ppo": Learner(
        PPOConfig,
        "agents.ppo:PPO",
        "agents.ppo_policy:PPOPolicy",
        "PPO in PyTorch, trained directly on a batched world.",
    ),
    "rllib_ppo": Learner(
        RLlibPPOConfig,
        "agents.rllib_ppo:RLlibPPO",
        "agents.rllib_policy:RLlibPolicy",
        "PPO from RLlib: the distributed learner.",
    ),
    "sb3_ppo": Learner(
        SB3PPOConfig,
        "agents.sb3_ppo:SB3PPO",
        "agents.sb3_policy:SB3Policy",
        "PPO from Stable-Baselines3, parameters shared.",
    ),
}


def learner(kind: str) -> Learner:
    """The entry of learner `kind`.

    Raises:
        KeyError: unknown kind (the message lists the known ones).
    """
    if kind not in LEARNERS:
        raise KeyError(f"unknown agent {kind!r}; known: {', '.join(sorted(LEARNERS))}")
    return LEARNERS[kind]


def make(kind: str, seed: int = 0, device: str = "auto", **options: Any) -> Trainer:
    """Build trainer `kind` from its options.

    Raises:
        KeyError: unknown kind (the message lists the known ones).
        ValueError: an unknown or invalid option.
    """
    entry = learner(kind)
    try:
        config = entry.config(**options)
    except TypeError as err:
        raise ValueError(f"{kind}: {err}") from None
    return entry.trainer()(config, seed=seed, device=device)


def load_policy(kind: str, path: str | Path, device: str = "auto") -> Policy:
    """The policy of learner `kind` saved at `path` (by `Policy.save`)."""
    return learner(kind).policy().load(path, device)


__all__ = [
    "LEARNERS",
    "Learner",
    "Policy",
    "TrainHooks",
    "Trainer",
    "learner",
    "load_policy",
    "make",
]
