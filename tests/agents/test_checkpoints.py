"""Damaged or foreign training checkpoints fail in one line naming the file, before any copy.

For `ppo` and `sb3_ppo`: missing entries, tensors of other shapes, a step that is no integer,
another world, other settings, spaces or copies, other options, another learner's file, a
truncated file and random bytes. A damaged file is a `CheckpointError`; a sound file of
another run is a `ValueError` (the run maps both to one-line errors).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import agents
import envs
from generative.checkpoint import CheckpointError
from tests.conftest import TINY_MAP

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"num_agents": 2, "map": TINY_MAP, "view_radius": 2, "max_steps": 40}
OPTIONS = {
    "ppo": {"num_steps": 8, "num_minibatches": 2, "conv_channels": (4,), "hidden_sizes": (16,)},
    "sb3_ppo": {
        "n_steps": 30,
        "batch_size": 60,
        "n_epochs": 1,
        "conv_channels": (4,),
        "hidden_size": 16,
        "head_size": 8,
    },
}
STEPS = {"ppo": 32, "sb3_ppo": 120}  # one update each, the episode under way


class Hooks:
    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        return True

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        pass


def world(batch_size: int = 2, **settings: Any) -> envs.BatchedEnv:
    return envs.make("commons", batch_size=batch_size, seed=0, **{**TINY, **settings})


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A sound checkpoint of each learner."""
    folder = tmp_path_factory.mktemp("sound")
    paths = {}
    for kind, options in OPTIONS.items():
        trainer = agents.make(kind, seed=0, device="cpu", **options)
        trainer.train(world(), STEPS[kind], Hooks())
        paths[kind] = folder / f"{kind}.pt"
        trainer.save_checkpoint(paths[kind])
    return paths


def weights(data: dict[str, Any]) -> dict[str, torch.Tensor]:
    return data["net"] if "net" in data else data["policy"]


def first_weight(data: dict[str, Any]) -> str:
    return next(iter(weights(data)))


def setter(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data.__setitem__(key, value)


def nested(outer: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data[outer].__setitem__(key, value)


def moment(data: dict[str, Any]) -> None:
    data["optimizer"]["state"][0]["exp_avg"] = torch.zeros(3)


CASES: list[tuple[str, Callable[[dict[str, Any]], None], type[Exception], str]] = [
    ("missing key", lambda d: d.pop("optimizer"), CheckpointError, r"damaged \(no 'optimizer'\)"),
    (
        "missing tensor",
        lambda d: weights(d).pop(first_weight(d)),
        CheckpointError,
        r"damaged \((net|policy) has no entry '.+'\)",
    ),
    (
        "unexpected tensor",
        lambda d: weights(d).__setitem__("extra.weight", torch.zeros(1)),
        CheckpointError,
        r"has an unexpected entry 'extra.weight'",
    ),
    (
        "wrong tensor shape",
        lambda d: weights(d).__setitem__(first_weight(d), torch.zeros(3, 3)),
        CheckpointError,
        r"size mismatch for (net|policy)\..+: \(3, 3\) in the file, \(\d+(, \d+)*\) in the network",
    ),
    ("wrong moment shape", moment, CheckpointError, r"size mismatch for the optimizer's exp_avg"),
    (
        "step as a string",
        setter("agent_steps", "1600"),
        CheckpointError,
        r"'agent_steps' is '1600' \(a str\), not a non-negative integer",
    ),
    (
        "step as a float",
        setter("agent_steps", 1600.0),
        CheckpointError,
        r"'agent_steps' is 1600.0 \(a float\), not a non-negative integer",
    ),
    ("negative step", setter("agent_steps", -160), CheckpointError, r"'agent_steps' is -160"),
    (
        "weights not a dict",
        lambda d: d.__setitem__("optimizer", torch.zeros(2)),
        CheckpointError,
        "'optimizer' is a torch.float32 tensor",
    ),
    (
        "another world",
        nested("world", "name", "cleanup"),
        ValueError,
        r"was written for world 'cleanup' \(this run: 'commons'\); resume the run it belongs to",
    ),
    (
        "other settings",
        lambda d: d["world"]["config"].__setitem__("max_steps", 50),
        ValueError,
        r"for world 'commons' with other settings \(max_steps: 50 there, 40 here\)",
    ),
    (
        "other spaces",
        nested("spec", "episode_length", 50),
        ValueError,
        r"for a world with other spaces \(episode_length: 50 there, 40 here\)",
    ),
    (
        "other options",
        nested("options", "conv_channels", [8]),
        ValueError,
        r"trained with other agent options \(conv_channels: \[8\] there, \[4\] here\)",
    ),
    ("damaged spec", nested("spec", "obs_shape", "5x5"), CheckpointError, r"'spec' is unreadable"),
    ("world not a dict", setter("world", "commons"), CheckpointError, r"'world' is 'commons'"),
]


def fails(kind: str, path: Path, error: type[Exception], pattern: str, env=None) -> str:
    """Loading `path` raises `error` matching `pattern` in one line naming the file."""
    trainer = agents.make(kind, seed=0, device="cpu", **OPTIONS[kind])
    with pytest.raises(error, match=pattern) as err:
        trainer.load_checkpoint(path, world() if env is None else env)
    assert type(err.value) is error  # a CheckpointError is no ValueError, and vice versa
    message = str(err.value)
    assert "\n" not in message and repr(str(path)) in message
    return message


@pytest.mark.parametrize("kind", sorted(OPTIONS))
@pytest.mark.parametrize(
    ("mutate", "error", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_damaged_or_foreign_checkpoint_fails_in_one_line(
    kind, mutate, error, pattern, saved, tmp_path
):
    data = torch.load(saved[kind], weights_only=True)
    mutate(data)
    path = tmp_path / "checkpoints" / "step_000000001600.pt"
    path.parent.mkdir()
    torch.save(data, path)
    fails(kind, path, error, pattern)


@pytest.mark.parametrize("kind", sorted(OPTIONS))
def test_unreadable_files_and_other_learners_files_fail_in_one_line(kind, saved, tmp_path):
    path = tmp_path / "step_000000001600.pt"
    fails(kind, path, CheckpointError, "not found")
    path.write_bytes(saved[kind].read_bytes()[:2000])
    fails(kind, path, CheckpointError, "corrupt or unreadable")
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    fails(kind, path, CheckpointError, "corrupt or unreadable")
    torch.save([1, 2], path)
    fails(kind, path, CheckpointError, "has format 'list'")
    (other,) = set(OPTIONS) - {kind}
    path.write_bytes(saved[other].read_bytes())
    message = f"was written by learner {other!r} \\(this run: {kind!r}\\)"
    fails(kind, path, ValueError, message)
    torch.save({"format": "emergent.sb3_ppo.train.v1", "agent_steps": 160}, path)
    retired = r"an earlier version of learner 'sb3_ppo' .+ cannot be resumed; start a new run"
    fails(kind, path, ValueError, retired)


@pytest.mark.parametrize("kind", sorted(OPTIONS))
def test_another_number_of_copies_or_another_world_is_a_value_error(kind, saved):
    fails(
        kind,
        saved[kind],
        ValueError,
        r"written for 2 copies of the world \(this run: 3\)",
        world(3),
    )
    fails(kind, saved[kind], ValueError, r"view_radius: 2 there, 3 here", world(view_radius=3))
    spread = envs.make("spread", batch_size=2, seed=0)
    fails(kind, saved[kind], ValueError, r"world 'commons' \(this run: 'spread'\)", spread)


@pytest.mark.parametrize("kind", sorted(OPTIONS))
@pytest.mark.parametrize(
    ("other", "pattern"),
    [
        (lambda: world(view_radius=3), "with other settings"),
        (lambda: envs.make("spread", batch_size=2), r"\(this run: 'spread'\)"),
    ],
    ids=["settings", "spread"],
)
def test_without_the_world_train_checks_it_before_building(kind, other, pattern, saved):
    trainer = agents.make(kind, seed=0, device="cpu", **OPTIONS[kind])
    assert trainer.load_checkpoint(saved[kind]) == STEPS[kind]
    with pytest.raises(ValueError, match=pattern) as err:
        trainer.train(other(), 2 * STEPS[kind], Hooks())
    assert "\n" not in str(err.value) and repr(str(saved[kind])) in str(err.value)
    assert trainer.agent_steps == STEPS[kind]  # nothing trained


@pytest.mark.parametrize("kind", sorted(OPTIONS))
def test_a_sound_checkpoint_resumes_and_continues_the_count(kind, saved):
    trainer = agents.make(kind, seed=0, device="cpu", **OPTIONS[kind])
    assert trainer.load_checkpoint(saved[kind], world()) == STEPS[kind]
    trainer.train(world(), 2 * STEPS[kind], Hooks())
    assert trainer.agent_steps == 2 * STEPS[kind]
