"""A trial: one resumable unit of work in its own directory, the one thing every grid and sweep
expands into and every executor (in-process, or Ray Tune) runs.

A kind splits a run into trials (an RL grid's points, a zoo's cells, a pair-curve's
datasets); `emergent sweep` makes one trial of each setting and seed. A trial is done once its
result is on disk, so running the list again skips what was finished and resumes the rest
from their checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

OnResult = Callable[[dict[str, Any]], None]
"""Receives each result row as it is logged (a Ray Tune trial reports them to Tune)."""


@dataclass(frozen=True)
class Trial:
    """One unit of work: a name unique within its run, whether it is done, how to run it."""

    name: str
    """Unique within its run ('digits/vae/seed0', 'env.regrowth_scale=0.5')."""
    done: Callable[[], bool]
    """Whether its result is on disk."""
    run: Callable[[bool, OnResult | None], None]
    """(quiet, on_result): compute it (resuming its checkpoint) and write its result."""
    needs: tuple[str, ...] = ()
    """Names of trials of the same run whose results it reads (listed before it): a parallel
    executor starts it once they are done."""


def run_local(trials: Sequence[Trial], quiet: bool, on_result: OnResult | None = None) -> None:
    """Run the unfinished trials one after another in this process."""
    for trial in trials:
        if not trial.done():
            trial.run(quiet, on_result)


def waves(trials: Sequence[Trial]) -> list[list[Trial]]:
    """The unfinished trials in groups that can run in parallel, each after the ones before:
    a trial goes in the first group after every unfinished trial it needs."""
    todo = [t for t in trials if not t.done()]
    wave_of: dict[str, int] = {}
    for trial in todo:  # needs come earlier in the list
        wave_of[trial.name] = max((wave_of[n] + 1 for n in trial.needs if n in wave_of), default=0)
    groups: list[list[Trial]] = [[] for _ in range(max(wave_of.values(), default=-1) + 1)]
    for trial in todo:
        groups[wave_of[trial.name]].append(trial)
    return groups


def by_name(trials: Sequence[Trial], name: str) -> Trial:
    """The trial called `name` (a Tune worker rebuilds its trial from the run's config)."""
    for trial in trials:
        if trial.name == name:
            return trial
    raise KeyError(f"no trial {name!r}; the run has {', '.join(t.name for t in trials)}")
