"""The record every experiment kind exports: the table in `emergent.kinds` maps `kind:` names
to these, and every place that dispatches on the kind reads it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emergent.sweep.trial import Trial


def no_preflight(cfg: Any) -> None:
    """Nothing to check before the run directory is made."""


@dataclass(frozen=True)
class Kind:
    """One experiment kind: its config, its trials, its report, what a sweep aggregates.

    A run of the kind is its `trials` (each resumable in its own directory, run in this
    process by `emergent run` or as parallel Ray Tune trials by `emergent sweep`), then
    `finish` (what needs every trial, the final state, the report).
    """

    name: str
    """The `kind:` value of its configs."""
    summary: str
    """One line for `emergent list`."""
    config: type
    """The validated config dataclass (`parse` returns one)."""
    parse: Callable[[dict], Any]
    """Raw YAML mapping -> config; every mistake is a one-line `UserError`."""
    to_dict: Callable[[Any], dict]
    """Config -> plain data for config.yaml; `parse(to_dict(cfg)) == cfg`."""
    trials: Callable[[Any, Path], list[Trial]]
    """(cfg, run_dir) -> the run's units of work, in the order they run in one process."""
    finish: Callable[[Any, Path, bool], None]
    """(cfg, run_dir, quiet), once every trial is done: pieces that need all of them, the
    state 'done', the report."""
    report: Callable[[Path, Any], Path]
    """(run_dir, cfg) -> report.md rebuilt from what is on disk."""
    results: Callable[[Path], dict[str, float]]
    """run_dir -> the final numbers of a finished run (what a sweep aggregates)."""
    metric: str
    """The headline key of `results`, compared across a sweep's settings."""
    preflight: Callable[[Any], None] = no_preflight
    """Checks of the machine (a requested CUDA device) before a run directory is made."""
    emergence: Callable[[Path, Any], Any] | None = None
    """(run_dir, cfg) -> the `emergent.emergence.Analysis` of the report's Emergence section
    (None: nothing to search yet); unset: the training losses its logs hold
    (`emergence.losses`)."""
