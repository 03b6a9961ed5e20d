"""Shared fixtures: a tiny Commons world and a tiny experiment config that trains in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

TINY_MAP = [
    "@@@@@@@@@@",
    "@P AAA  P@",
    "@ AAAAA  @",
    "@P AAA  P@",
    "@@@@@@@@@@",
]


def tiny_raw(**train: object) -> dict:
    """A complete experiment config: 2 agents on a 5x10 map, 40-step episodes."""
    return {
        "name": "tiny",
        "seed": 0,
        "env": {
            "name": "commons",
            "num_agents": 2,
            "map": TINY_MAP,
            "view_radius": 2,
            "max_steps": 40,
        },
        "agent": {
            "kind": "sb3_ppo",
            "n_steps": 40,
            "batch_size": 80,
            "n_epochs": 2,
            "conv_channels": [8],
            "hidden_size": 32,
            "head_size": 16,
        },
        "train": {
            "steps": 960,
            "num_envs": 2,
            "eval_every": 320,
            "eval_envs": 2,
            "checkpoint_every": 160,
            "device": "cpu",
            **train,
        },
    }


@pytest.fixture
def tiny_config(tmp_path: Path):
    """Write a tiny experiment YAML; call with train overrides, get its path."""

    def write(**train: object) -> Path:
        path = tmp_path / "tiny.yaml"
        path.write_text(yaml.safe_dump(tiny_raw(**train)))
        return path

    return write


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module of tiny networks: more threads only contend on a
    shared 2-core machine. Opt in with `pytestmark = pytest.mark.usefixtures(...)`."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
