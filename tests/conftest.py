"""Shared fixtures: a tiny Commons world and a tiny experiment config that trains in seconds;
a tiny (untrained) world model of Wolfpack and the dream it makes."""

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


TINY_REAL_WORLD = {"name": "wolfpack", "options": {"max_steps": 20, "view_radius": 3}}
"""The real world the tiny world model models: 2 wolves seeing 7 x 7 x 3 views, 20 steps."""


def tiny_world_model(seed: int = 0) -> tuple[torch.nn.Module, object]:
    """(model, start segments): an untrained World Models V + M of `TINY_REAL_WORLD`'s views
    (fine for API conformance), and 4-step segments of random play in it. Its end head is set
    to never predict an end, as a model of a world that is only cut off at max_steps learns."""
    import agents.world_models as world_models
    import envs
    from agents.world_models.data import collect

    real = envs.make(TINY_REAL_WORLD["name"], batch_size=2, seed=0, **TINY_REAL_WORLD["options"])
    segments = collect(real, steps=480, length=4, seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = world_models.make(
            "vae_rnn",
            real.observation_space.shape,
            int(real.action_space.n),
            segments.length,
            latent_dim=4,
            channels=(4,),
            hidden=(16,),
            rnn_hidden=16,
        )
    with torch.no_grad():
        model.rnn.end.weight.zero_()
        model.rnn.end.bias.fill_(-10.0)
    return model.eval(), segments


def write_tiny_world_model_run(folder: Path) -> Path:
    """A world-model run directory in `folder`: world_model.pt and data/segments.npz."""
    import agents.world_models as world_models

    model, segments = tiny_world_model()
    (folder / "data").mkdir(parents=True, exist_ok=True)
    world_models.save(folder / "world_model.pt", model, "vae_rnn", TINY_REAL_WORLD)
    segments.save(folder / "data" / "segments.npz")
    return folder


@pytest.fixture(scope="session")
def tiny_dream():
    """A factory of dreams of the tiny world model: (batch_size=1, seed=None, max_steps=100,
    temperature=1.0) -> DreamEnv, all sharing one model and its start segments."""
    import envs
    from agents.world_models.dream import DreamEnv

    model, segments = tiny_world_model()
    num_agents = envs.make(TINY_REAL_WORLD["name"], **TINY_REAL_WORLD["options"]).num_agents

    def make(batch_size: int = 1, seed: int | None = None, **settings: object) -> DreamEnv:
        return DreamEnv(model, segments, num_agents, batch_size, seed=seed, **settings)

    return make


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray (2 CPUs) for the module; the sweep uses it instead of starting its own."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()
