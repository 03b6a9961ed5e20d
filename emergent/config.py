"""Experiment configs: YAML plus `key=value` overrides into one validated, typed config.

Every section is a frozen dataclass. `from_dict` rejects unknown keys (with a suggestion),
checks each value against the field's type, and lets the dataclass's own `__post_init__`
check ranges; every problem surfaces as a one-line `UserError` naming the dotted key.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

import agents
import envs
from emergent.errors import UserError

T = TypeVar("T")


@dataclass(frozen=True)
class TrainConfig:
    """How long to train and how often to look at the agents."""

    steps: int = 200_000
    """Agent-steps of training (environment steps × agents × copies)."""
    num_envs: int = 8
    """B: copies of the world stepped together during training."""
    eval_every: int = 50_000
    """Agent-steps between evaluations (episode logs -> social metrics)."""
    eval_envs: int = 4
    """Copies evaluated in parallel, one episode each."""
    checkpoint_every: int = 50_000
    """Agent-steps between checkpoints (written atomically)."""
    device: str = "auto"
    """'auto' (CUDA when present, else CPU), 'cpu' or 'cuda'."""

    def __post_init__(self) -> None:
        for name in ("steps", "num_envs", "eval_every", "eval_envs", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}; must be at least 1")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device={self.device!r}; allowed: 'auto', 'cpu', 'cuda'")


@dataclass(frozen=True)
class EnvSpec:
    """Which world, and its typed options."""

    name: str
    options: Any


@dataclass(frozen=True)
class AgentSpec:
    """Which learner, and its typed options."""

    kind: str
    options: Any


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: a world, a learner, a training budget, and optionally a grid.

    `grid` maps dotted keys (e.g. `env.regrowth_scale`) to lists of values; the run then
    trains once per value and reports the metrics against it.
    """

    name: str
    env: EnvSpec
    agent: AgentSpec
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0
    grid: dict[str, tuple] = field(default_factory=dict)


TOP_KEYS = ("name", "kind", "seed", "env", "agent", "train", "grid")
KINDS = ("rl", "generative", "gen_zoo", "pair_curves", "diffusion")


def load(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Any:
    """Read a YAML experiment file, apply `key=value` overrides, and validate."""
    return parse(read_raw(path, overrides, "experiments"))


def read_raw(path: str | Path, overrides: list[str] | tuple[str, ...], what: str) -> dict:
    """The YAML mapping of config file `path` with `key=value` overrides applied."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {str(path)!r} not found; see `emergent list` for {what}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        first = str(err).splitlines()[0] if str(err) else "syntax error"
        raise UserError(f"{path}: not valid YAML ({first}); fix the file's syntax") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of config keys at the top level")
    for item in overrides:
        apply_override(raw, item)
    return raw


def apply_override(raw: dict, item: str) -> None:
    """Set `a.b.c=value` in the raw dict; the value is read as YAML (numbers, lists, ...)."""
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise UserError(f"override {item!r} is not of the form key=value (e.g. train.steps=2e5)")
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        value = text
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UserError(f"override {item!r}: {part!r} is not a section")
        node = child
    node[parts[-1]] = value


def parse(raw: dict) -> Any:
    """Validate a raw dict (YAML already read) into the config of its `kind`.

    kind "rl" (the default) gives an `ExperimentConfig`; the generative kinds give the
    dataclasses of `emergent.gen_config`.
    """
    kind = raw.get("kind", "rl")
    if kind not in KINDS:
        raise UserError(f"config: kind {kind!r} is not known; allowed: {', '.join(KINDS)}")
    if kind != "rl":
        from emergent import gen_config

        return gen_config.parse(raw)
    return parse_rl(raw)


def parse_rl(raw: dict) -> ExperimentConfig:
    """Validate a raw reinforcement-learning experiment into an `ExperimentConfig`."""
    raw = dict(raw)
    raw.pop("kind", None)
    check_keys(raw, TOP_KEYS, "")
    if "name" not in raw:
        raise UserError("config: missing key 'name' (the experiment's name, used for runs/<name>/)")
    name = coerce(raw["name"], str, "name")
    seed = coerce(raw.get("seed", 0), int, "seed")
    env = parse_env(raw.get("env"))
    agent = parse_agent(raw.get("agent"))
    train = from_dict(TrainConfig, section(raw.get("train", {}), "train"), "train")
    grid = parse_grid(raw.get("grid", {}) or {})
    for key, values in grid.items():  # every grid point must itself be a valid config
        for value in values:
            point = with_value(raw, key, value)
            point.pop("grid", None)
            parse(point)
    return ExperimentConfig(name=name, env=env, agent=agent, train=train, seed=seed, grid=grid)


def parse_env(raw: Any) -> EnvSpec:
    raw = dict(section(raw, "env"))
    name = coerce(raw.pop("name", None) or _missing("env.name", sorted(envs.ENVS)), str, "env.name")
    if name not in envs.CONFIGS:
        raise UserError(
            f"env.name: unknown environment {name!r}; known: {', '.join(sorted(envs.ENVS))}"
        )
    return EnvSpec(name, from_dict(envs.CONFIGS[name], raw, "env"))


def parse_agent(raw: Any) -> AgentSpec:
    raw = dict(section(raw, "agent"))
    kind = raw.pop("kind", None) or _missing("agent.kind", sorted(agents.AGENTS))
    kind = coerce(kind, str, "agent.kind")
    if kind not in agents.CONFIGS:
        raise UserError(
            f"agent.kind: unknown agent {kind!r}; known: {', '.join(sorted(agents.AGENTS))}"
        )
    return AgentSpec(kind, from_dict(agents.CONFIGS[kind], raw, "agent"))


def parse_grid(raw: Any) -> dict[str, tuple]:
    if not isinstance(raw, dict):
        raise UserError("grid: expected a mapping of dotted keys to lists of values")
    grid = {}
    for key, values in raw.items():
        if not isinstance(values, list) or not values:
            raise UserError(f"grid.{key}: expected a non-empty list of values")
        if key.split(".")[0] not in ("env", "agent", "train", "seed"):
            raise UserError(f"grid.{key}: can only vary env.*, agent.*, train.* or seed")
        grid[key] = tuple(values)
    if len(grid) > 1:
        raise UserError(
            f"grid: one swept key at a time, got {sorted(grid)}; use `emergent sweep` for more"
        )
    return grid


def with_value(raw: dict, key: str, value: Any) -> dict:
    """A deep copy of `raw` with dotted `key` set to `value`."""
    point = yaml.safe_load(yaml.safe_dump(raw))
    apply_override(point, f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}")
    return point


def grid_points(raw: dict, cfg: ExperimentConfig) -> list[tuple[str, Any, ExperimentConfig]]:
    """(key, value, config) for each point of the grid, each config without a grid."""
    points = []
    for key, values in cfg.grid.items():
        for value in values:
            point = with_value(raw, key, value)
            point.pop("grid", None)
            points.append((key, value, parse(point)))
    return points


def to_dict(cfg: Any) -> dict:
    """The resolved config as plain YAML-ready data (what `config.yaml` holds)."""
    if not isinstance(cfg, ExperimentConfig):
        from emergent import gen_config

        return gen_config.to_dict(cfg)
    return {
        "name": cfg.name,
        "seed": cfg.seed,
        "env": {"name": cfg.env.name, **plain(dataclasses.asdict(cfg.env.options))},
        "agent": {"kind": cfg.agent.kind, **plain(dataclasses.asdict(cfg.agent.options))},
        "train": plain(dataclasses.asdict(cfg.train)),
        **({"grid": {k: list(v) for k, v in cfg.grid.items()}} if cfg.grid else {}),
    }


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _missing(key: str, known: list[str]) -> Any:
    raise UserError(f"config: missing key {key!r}; known: {', '.join(known)}")


def section(raw: Any, path: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of keys, got {type(raw).__name__} {raw!r}")
    return raw


def check_keys(raw: dict, allowed: typing.Iterable[str], path: str) -> None:
    allowed = list(allowed)
    for key in raw:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UserError(f"config: unknown key {where!r}; {hint}allowed: {', '.join(allowed)}")


def from_dict(cls: type[T], raw: dict, path: str) -> T:
    """Build dataclass `cls` from `raw`, checking keys and types; `path` prefixes messages."""
    raw = section(raw, path)
    check_keys(raw, [f.name for f in fields(cls)], path)  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    values = {k: coerce(v, hints[k], f"{path}.{k}") for k, v in raw.items()}
    try:
        return cls(**values)
    except ValueError as err:
        raise UserError(f"config: {path}: {err}") from None


def coerce(value: Any, kind: Any, key: str) -> Any:
    """Check `value` against a type hint, converting where YAML is loose (2e5 -> 200000)."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option, key)
            except UserError as err:
                errors.append(str(err))
        raise UserError(errors[0])
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(value, list | tuple):
            raise UserError(f"config: {key}: expected a list, got {value!r}")
        item = args[0]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise UserError(f"config: {key}: expected {len(args)} values, got {len(value)}")
        return tuple(
            coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if origin is typing.Literal:
        if value not in typing.get_args(kind):
            allowed = ", ".join(repr(a) for a in typing.get_args(kind))
            raise UserError(f"config: {key}: {value!r} is not allowed; allowed: {allowed}")
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise UserError(f"config: {key}: expected true or false, got {value!r}")
    if kind is int:
        number = _number(value)
        if number is None or not math.isfinite(number) or number != int(number):
            raise UserError(f"config: {key}: expected an integer, got {value!r}")
        return int(number)
    if kind is float:
        number = _number(value)
        if number is None:
            raise UserError(f"config: {key}: expected a number, got {value!r}")
        return float(number)
    if kind is str:
        if isinstance(value, str):
            return value
        raise UserError(f"config: {key}: expected a string, got {value!r}")
    if kind is typing.Any:
        return value
    raise TypeError(f"config field {key} has unsupported type {kind}")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return None
    return None
