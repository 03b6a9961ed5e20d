"""The one grid expansion: every combination of swept values, each a named copy of a config.

Serves an experiment's own `grid:` (an RL grid's points, run in one process) and `emergent
sweep`'s `sweep.grid` (trials on Ray Tune) alike.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import yaml


def text(value: Any) -> str:
    """A value as it appears in a name (YAML flow style: 0.5, true, [32, 32])."""
    return yaml.safe_dump(value, default_flow_style=True, width=1000).splitlines()[0]


def name(values: dict[str, Any]) -> str:
    """'env.regrowth_scale=0.5,agent.learning_rate=0.001': a setting's name ('' for none)."""
    return ",".join(f"{key}={text(value)}" for key, value in values.items())


def points(grid: dict[str, tuple]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in order (one empty point for no grid)."""
    return [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]


def with_values(raw: dict, values: dict[str, Any]) -> dict:
    """A deep copy of the raw config with each dotted key set to its value."""
    raw = copy.deepcopy(raw)
    for key, value in values.items():
        *sections, leaf = key.split(".")
        node = raw
        for part in sections:
            node = node.setdefault(part, {})
        node[leaf] = copy.deepcopy(value)
    return raw
