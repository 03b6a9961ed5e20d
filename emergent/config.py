"""Shared config validation: YAML plus `key=value` overrides, checked into typed dataclasses.

Every section of every experiment kind is a frozen dataclass. `from_dict` rejects unknown keys
(with a suggestion), checks each value against the field's type, and lets the dataclass's own
`__post_init__` check ranges; every problem surfaces as a one-line `UserError` naming the
dotted key. Which dataclasses a `kind:` uses is the business of `emergent.kinds`.
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from emergent.errors import UserError

T = TypeVar("T")


SEED_MAX = 2**32 - 1
"""Seeds are unsigned 32-bit integers (what NumPy, PyTorch and Gymnasium accept)."""


def read_raw(path: str | Path, overrides: list[str] | tuple[str, ...], what: str) -> dict:
    """The YAML mapping of config file `path` with `key=value` overrides applied."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {str(path)!r} not found; see `emergent list` for {what}")
    raw = read_mapping(path, "fix the file")
    for item in overrides:
        apply_override(raw, item)
    return raw


def read_mapping(path: Path, fix: str) -> dict:
    """The YAML mapping in file `path` (a config file, a run's config.yaml or sweep.yaml).

    Raises:
        UserError: unreadable, not text, not valid YAML, or not a mapping; the message names
            the file and ends with `fix`.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else "not UTF-8 text"
        raise UserError(f"{path}: cannot be read ({reason}); {fix}") from None
    except yaml.YAMLError as err:
        first = str(err).splitlines()[0] if str(err) else "syntax error"
        raise UserError(f"{path}: not valid YAML ({first}); {fix}") from None
    if not isinstance(raw, dict):
        found = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise UserError(f"{path}: expected a mapping of config keys, found {found}; {fix}")
    return raw


def check_range(name: str, value: float, low: float, high: float, why: str = "") -> None:
    """One line when `value` lies outside [low, high] (for a config's `__post_init__`)."""
    if not low <= value <= high:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name}={value}; must be from {low:,} to {high:,}{reason}")


def check_seed(value: Any, key: str = "seed") -> int:
    """A seed: an integer in [0, 2**32 - 1]; `key` names it in the message."""
    number = coerce(value, int, key)
    if not 0 <= number <= SEED_MAX:
        raise UserError(f"config: {key}={number}; a seed is an integer in [0, {SEED_MAX}]")
    return number


def run_name(raw: dict) -> str:
    """The experiment's name, used as the folder runs/<name>/: a plain, non-empty name."""
    if "name" not in raw:
        raise UserError("config: missing key 'name' (the experiment's name, used for runs/<name>/)")
    name = coerce(raw["name"], str, "name")
    if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise UserError(
            f"config: name={name!r}; a name is a plain folder name: not empty, no '/', '\\' "
            "or '..' (e.g. commons_scarcity)"
        )
    return name


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


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def missing(key: str, known: list[str]) -> Any:
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
        if not math.isfinite(number):
            raise UserError(f"config: {key}: expected a finite number, got {value!r}")
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
