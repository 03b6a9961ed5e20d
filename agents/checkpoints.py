"""Reading a training checkpoint and checking it against the run that resumes it.

A resume must fail before any tensor is copied, in one line that names the file. `read` loads
the file (`generative.checkpoint.load_safe`: `torch.load(weights_only=True)`, so never pickled
code); the other functions compare its entries with the trainer's options, the world and a
freshly built network. Two kinds of failure:

- `CheckpointError`: the file is damaged: unreadable, truncated, an entry missing or of the
  wrong type, tensors that do not fit the network its own options and spaces describe.
- `ValueError`: a sound file of another run: another learner, other agent options, another
  world (name, settings, spaces) or another number of copies.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from agents.ppo_policy import plain
from agents.spec import EnvSpec, env_spec
from envs.core import BatchedEnv, RulesEnv
from generative.checkpoint import CheckpointError, load_safe

TRAIN_FORMATS = {
    "ppo": "emergent.ppo.train.v1",
    "rllib_ppo": "emergent.rllib_ppo.train.v2",  # v1: RLlib's pickled checkpoint directories
    "sb3_ppo": "emergent.sb3_ppo.train.v2",  # v1: no world, random streams or episode
}
"""The format of each learner's training checkpoint (the learner kind is read off it)."""
RETIRED_FORMATS = {"emergent.sb3_ppo.train.v1": "sb3_ppo"}
"""Formats earlier versions wrote that cannot be resumed (RLlib's directories are
`agents.rllib_ppo`'s to recognise)."""

RESUME_OWN = "resume the run it belongs to"


def read(path: str | Path, learner: str) -> dict[str, Any]:
    """The checkpoint of `learner` at `path`.

    Raises:
        CheckpointError: missing, unreadable, or of a format no learner writes.
        ValueError: a checkpoint of another learner, or of a retired format.
    """
    try:
        return load_safe(path, TRAIN_FORMATS[learner])
    except CheckpointError:
        found = _format_of(Path(path))
        if found in RETIRED_FORMATS:
            raise ValueError(
                f"checkpoint {str(path)!r} was written by an earlier version of learner "
                f"{RETIRED_FORMATS[found]!r} ({found}), which cannot be resumed; start a new run"
            ) from None
        other = next((kind for kind, fmt in TRAIN_FORMATS.items() if fmt == found), None)
        if other is None or other == learner:
            raise
        raise ValueError(
            f"checkpoint {str(path)!r} was written by learner {other!r} "
            f"(this run: {learner!r}); {RESUME_OWN}"
        ) from None


def _format_of(path: Path) -> Any:
    """The "format" entry of a readable checkpoint; None for anything else."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # unreadable: load_safe's error stands
        return None
    return data.get("format") if isinstance(data, dict) else None


def damaged(path: str | Path, what: str) -> CheckpointError:
    """The one-line error for a damaged checkpoint."""
    return CheckpointError(f"checkpoint {str(path)!r} is damaged ({what})")


def require(path: str | Path, data: dict[str, Any], schema: dict[str, type]) -> None:
    """Every key of `schema` is in `data` with a value of its type (int: a non-negative int,
    never a bool or float; float: any real number).

    Raises:
        CheckpointError: a missing key or a value of another type.
    """
    for key, kind in schema.items():
        if key not in data:
            raise damaged(path, f"no {key!r}")
        value = data[key]
        if kind is int:
            fits = type(value) is int and value >= 0
            wanted = "a non-negative integer"
        elif kind is float:
            fits = type(value) in (int, float)
            wanted = "a number"
        else:
            fits = isinstance(value, kind)
            wanted = "a tensor" if kind is Tensor else f"a {kind.__name__}"
        if not fits:
            raise damaged(path, f"{key!r} is {describe(value)}, not {wanted}")


def describe(value: Any) -> str:
    """A short description of a stored value for messages."""
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    kind = type(value).__name__
    return f"{short(value)} ({'an' if kind[0] in 'aeiou' else 'a'} {kind})"


def check_options(path: str | Path, stored: dict[str, Any], options: Any) -> None:
    """The checkpoint's agent options equal the trainer's.

    Raises:
        ValueError: other options (the message names up to three that differ).
    """
    own = plain(dataclasses.asdict(options))
    if stored != own:
        raise ValueError(
            f"checkpoint {str(path)!r} was trained with other agent options "
            f"({differences(stored, own)}); {RESUME_OWN}"
        )


def differences(stored: dict[str, Any], own: dict[str, Any]) -> str:
    """Up to three keys whose values differ, as "key: stored there, own here"."""
    keys = sorted((k for k in stored.keys() | own.keys() if stored.get(k) != own.get(k)), key=str)
    listed = ", ".join(
        f"{k}: {short(stored.get(k))} there, {short(own.get(k))} here" for k in keys[:3]
    )
    return listed + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def short(value: Any) -> str:
    """`repr(value)`, cut to 40 characters."""
    text = repr(value)
    return f"{text[:40]}{'...' if len(text) > 40 else ''}"


def world_of(env: BatchedEnv) -> dict[str, Any]:
    """The world's registry name and settings (a class name and no settings for a world not
    built by `envs.make`), as plain values for a checkpoint."""
    if isinstance(env, RulesEnv):
        return {"name": env.name, "config": plain(dataclasses.asdict(env.cfg))}
    return {"name": type(env).__name__, "config": {}}


def spec_of(path: str | Path, raw: dict[str, Any]) -> EnvSpec:
    """The stored spaces of the world.

    Raises:
        CheckpointError: a spec `EnvSpec.to_plain` cannot have written.
    """
    try:
        return EnvSpec.from_plain(raw)
    except (KeyError, TypeError, ValueError) as err:
        raise damaged(path, f"'spec' is unreadable: {type(err).__name__} {err}") from None


def check_world(path: str | Path, data: dict[str, Any], env: BatchedEnv) -> None:
    """The checkpoint was written for this world: its name and settings ("world"; files of
    earlier versions lack it), spaces ("spec") and number of copies ("batch_size").

    Raises:
        CheckpointError: a malformed "world" entry.
        ValueError: another world, other settings, other spaces or another number of copies.
    """
    world = world_of(env)
    stored = data.get("world")
    if stored is not None:
        if not (
            isinstance(stored, dict)
            and isinstance(stored.get("name"), str)
            and isinstance(stored.get("config"), dict)
        ):
            raise damaged(path, f"'world' is {describe(stored)}")
        check_same_world(path, stored, world)
    spec, own = spec_of(path, data["spec"]), env_spec(env)
    if spec != own:
        names = [f.name for f in dataclasses.fields(EnvSpec)]
        changed = [
            f"{k}: {getattr(spec, k)} there, {getattr(own, k)} here"
            for k in names
            if getattr(spec, k) != getattr(own, k)
        ]
        raise ValueError(
            f"checkpoint {str(path)!r} was written for a world with other spaces "
            f"({', '.join(changed)}); {RESUME_OWN}"
        )
    if data["batch_size"] != env.batch_size:
        raise ValueError(
            f"checkpoint {str(path)!r} was written for {data['batch_size']} copies of the world "
            f"(this run: {env.batch_size}); resume with the run's train.num_envs"
        )


def check_same_world(path: str | Path, stored: dict[str, Any], own: dict[str, Any]) -> None:
    """The stored world {"name", "config"} is this run's.

    Raises:
        ValueError: another world, or the same with other settings (naming them).
    """
    if stored["name"] != own["name"]:
        raise ValueError(
            f"checkpoint {str(path)!r} was written for world {stored['name']!r} "
            f"(this run: {own['name']!r}); {RESUME_OWN}"
        )
    if stored["config"] != own["config"]:
        raise ValueError(
            f"checkpoint {str(path)!r} was written for world {own['name']!r} with other "
            f"settings ({differences(stored['config'], own['config'])}); {RESUME_OWN}"
        )


def check_tensors(
    path: str | Path, what: str, expected: dict[str, Tensor], found: dict[str, Any]
) -> None:
    """`found` holds a tensor of the same shape for every entry of the state dict `expected`,
    and nothing else.

    Raises:
        CheckpointError: a missing or unexpected entry, or a size mismatch.
    """
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    if missing or unexpected:
        name, how = (missing[0], "no") if missing else (unexpected[0], "an unexpected")
        raise damaged(path, f"{what} has {how} entry {name!r}")
    for key, tensor in expected.items():
        stored = found[key]
        if not isinstance(stored, Tensor):
            raise damaged(path, f"{what}.{key} is {describe(stored)}")
        if stored.shape != tensor.shape:
            raise damaged(
                path,
                f"size mismatch for {what}.{key}: {tuple(stored.shape)} in the file, "
                f"{tuple(tensor.shape)} in the network",
            )


def check_optimizer(path: str | Path, optimizer: torch.optim.Optimizer, found: Any) -> None:
    """`found` is a state dict of `optimizer`: the same parameter groups with the same
    hyper-parameter names, and moments shaped as the parameters they belong to.

    Raises:
        CheckpointError: anything else.
    """
    groups = found.get("param_groups") if isinstance(found, dict) else None
    state = found.get("state") if isinstance(found, dict) else None
    own = optimizer.param_groups
    if not isinstance(groups, list) or not isinstance(state, dict) or len(groups) != len(own):
        raise damaged(path, "the optimizer state is not one of this learner's optimizer")
    params = [p for group in own for p in group["params"]]
    for group, mine in zip(groups, own, strict=True):
        if not isinstance(group, dict) or set(group) != set(mine):
            raise damaged(path, "the optimizer's parameter groups differ from the learner's")
        if not isinstance(group["params"], list) or len(group["params"]) != len(mine["params"]):
            raise damaged(path, "the optimizer holds another number of parameters")
    for index, moments in state.items():
        if type(index) is not int or not 0 <= index < len(params) or not isinstance(moments, dict):
            raise damaged(path, f"the optimizer state has an entry {index!r} of no parameter")
        for name, value in moments.items():
            if not isinstance(value, Tensor):
                raise damaged(path, f"the optimizer's {name} of parameter {index} is not a tensor")
            if value.dim() and value.shape != params[index].shape:
                shapes = tuple(value.shape), tuple(params[index].shape)
                raise damaged(
                    path,
                    f"size mismatch for the optimizer's {name} of parameter {index}: "
                    f"{shapes[0]} in the file, {shapes[1]} in the network",
                )
