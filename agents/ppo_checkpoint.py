"""What a training checkpoint of `agents.ppo` holds, and the checks it passes before resuming.

The file (written by `PPO.save_checkpoint`) holds the options, the world ("world", "spec",
"batch_size"), the network and optimiser tensors, and the learner at the start of the current
rollout (step, generator, episode index and actions, recurrent state). `check_checkpoint`
checks everything that needs no world: every entry there with its type, the options, and the
tensors against the network those options build for the stored spaces;
`agents.checkpoints.check_world` then compares the file with the world it resumes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
from agents.ppo_config import PPOConfig
from agents.ppo_policy import build_network
from agents.ppo_session import make_optimizer

SCHEMA = {
    "options": dict,
    "spec": dict,
    "batch_size": int,
    "net": dict,
    "optimizer": dict,
    "agent_steps": int,
    "episode_index": int,
    "episode_actions": Tensor,
    "generator": Tensor,
    "hidden": Tensor,
    "mean_return": float,
}
"""The entries of a training checkpoint and their types ("world" is checked when present:
files of earlier versions lack it)."""


def check_checkpoint(path: str | Path, data: dict[str, Any], options: PPOConfig, seed: int) -> None:
    """The checkpoint holds every entry, was trained with `options`, and its tensors fit the
    network those options build for its spaces (the world itself is `check_world`'s).

    Raises:
        CheckpointError: a missing, mistyped or misshapen entry.
        ValueError: other agent options.
    """
    require(path, data, SCHEMA)
    check_options(path, data["options"], options)
    spec = spec_of(path, data["spec"])
    net = build_network(spec, options, seed)
    check_tensors(path, "net", net.state_dict(), data["net"])
    check_optimizer(path, make_optimizer(net, options), data["optimizer"])
    batch, actions = data["batch_size"], data["episode_actions"]
    action_shape = (spec.action_dim,) if spec.continuous else ()
    if (
        actions.shape[1:] != (batch, spec.num_agents, *action_shape)
        or len(actions) >= spec.episode_length
    ):
        raise damaged(path, f"'episode_actions' is {describe(actions)}")
    hidden = net.initial_state(batch, "cpu")
    if hidden is not None and len(actions) and data["hidden"].shape != hidden.shape:
        raise damaged(path, f"'hidden' is {describe(data['hidden'])}")
    if data["generator"].dtype != torch.uint8 or data["generator"].dim() != 1:
        raise damaged(path, f"'generator' is {describe(data['generator'])}")
