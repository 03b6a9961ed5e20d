"""What a training checkpoint of `agents.sb3_ppo` holds, and the checks it passes before resuming.

Like `agents.ppo`'s, a checkpoint describes the learner at the start of the current rollout
(after the last update): the policy and optimiser tensors, SB3's counters, the training
episode (its index and the actions taken in it so far), the recent episode returns SB3
averages, and the global random streams SB3 draws from: torch's (action sampling; the
device's as well on CUDA) and NumPy's legacy one (minibatch order). `check_checkpoint` checks
everything that needs no world; `agents.checkpoints.check_world` compares the file with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import Tensor

from agents.checkpoints import (
    check_optimizer,
    check_options,
    check_tensors,
    damaged,
    describe,
    require,
    spec_of,
)
from agents.sb3_policy import build_policy
from agents.sb3_ppo_config import SB3PPOConfig
from agents.spec import EnvSpec

SCHEMA = {
    "options": dict,
    "world": dict,
    "spec": dict,
    "batch_size": int,
    "policy": dict,
    "optimizer": dict,
    "agent_steps": int,
    "n_updates": int,
    "episode_index": int,
    "episode_actions": Tensor,
    "recent_returns": Tensor,
    "recent_lengths": Tensor,
    "torch_rng": Tensor,
    "cuda_rng": Tensor,
    "numpy_keys": Tensor,
    "numpy_pos": int,
    "numpy_has_gauss": int,
    "numpy_gauss": float,
}
"""The entries of a training checkpoint and their types."""


def spaces(spec: EnvSpec) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Space]:
    """One agent's observation (uint8 images) and action spaces, as `spec` describes them."""
    obs_space = gymnasium.spaces.Box(0, 255, spec.obs_shape, np.uint8)
    if spec.continuous:
        low, high = np.array(spec.low, np.float32), np.array(spec.high, np.float32)
        return obs_space, gymnasium.spaces.Box(low, high, dtype=np.float32)
    return obs_space, gymnasium.spaces.Discrete(spec.action_dim)


def random_state(device: str) -> dict[str, Any]:
    """The global random streams SB3 draws from, as checkpoint entries."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    cuda = device.startswith("cuda")
    return {
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(device) if cuda else torch.zeros(0, dtype=torch.uint8),
        "numpy_keys": torch.from_numpy(keys.astype(np.int64)),  # (624,) MT19937 words
        "numpy_pos": int(pos),
        "numpy_has_gauss": int(has_gauss),
        "numpy_gauss": float(gauss),
    }


def set_random_state(data: dict[str, Any], device: str) -> bool:
    """Restore the streams `random_state` stored; False when the file holds no stream for this
    device (written on the CPU, resumed on CUDA), which the caller then seeds."""
    torch.set_rng_state(data["torch_rng"])
    keys = data["numpy_keys"].numpy().astype(np.uint32)
    gauss = (data["numpy_has_gauss"], data["numpy_gauss"])
    np.random.set_state(("MT19937", keys, data["numpy_pos"], *gauss))
    if not device.startswith("cuda"):
        return True
    if not len(data["cuda_rng"]):
        return False
    torch.cuda.set_rng_state(data["cuda_rng"], device)
    return True


def check_checkpoint(path: str | Path, data: dict[str, Any], options: SB3PPOConfig) -> None:
    """The checkpoint holds every entry, was trained with `options`, and its tensors fit the
    policy those options build for its spaces (the world itself is `check_world`'s).

    Raises:
        CheckpointError: a missing, mistyped or misshapen entry.
        ValueError: other agent options.
    """
    require(path, data, SCHEMA)
    check_options(path, data["options"], options)
    spec = spec_of(path, data["spec"])
    module = build_policy(*spaces(spec), options)
    check_tensors(path, "policy", module.state_dict(), data["policy"])
    check_optimizer(path, module.optimizer, data["optimizer"])
    actions = data["episode_actions"]
    action_shape = (spec.action_dim,) if spec.continuous else ()
    if (
        actions.shape[1:] != (data["batch_size"], spec.num_agents, *action_shape)
        or len(actions) >= spec.episode_length
    ):
        raise damaged(path, f"'episode_actions' is {describe(actions)}")
    returns, lengths = data["recent_returns"], data["recent_lengths"]
    if returns.dim() != 1 or returns.shape != lengths.shape:
        raise damaged(path, f"'recent_returns' is {describe(returns)}")
    for key, own in (("torch_rng", torch.get_rng_state()), ("cuda_rng", None)):
        stored = data[key]
        if stored.dtype != torch.uint8 or (own is not None and stored.shape != own.shape):
            raise damaged(path, f"{key!r} is {describe(stored)}")
    keys = data["numpy_keys"]
    if keys.shape != (624,) or keys.min() < 0 or keys.max() >= 2**32:
        raise damaged(path, f"'numpy_keys' is {describe(keys)}")
    if data["numpy_pos"] > 624 or data["numpy_has_gauss"] > 1:
        raise damaged(path, "the NumPy random state is out of range")
