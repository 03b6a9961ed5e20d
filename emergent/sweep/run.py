"""`emergent sweep`: one experiment trained many times as Ray Tune trials, then aggregated.

```
emergent sweep CONFIG [key=value ...] [--address ADDR] [--max-concurrent K]
  -> sweep_config.load: every trial's config built and validated, before Ray starts
  -> runs/<name>/<timestamp>/  sweep.yaml, trials/<key=value,...,seed=s>/config.yaml
  -> Ray: a local one, or the cluster at ADDR -> tune.Tuner(run_trial).fit()
       a trial is its kind's `run` in its own run directory; each evaluation -> tune.report
       FailureConfig(max_failures): a failed trial (worker killed, node lost) is restarted and
       resumes from the last checkpoint in its run directory
  -> sweep_report.build: report.md, plots/, aggregate.json
emergent sweep --resume SWEEP_DIR -> a new Tune experiment over the unfinished trials: finished
  trials are kept; unfinished and failed ones continue from their checkpoints
emergent sweep CONFIG (no sweep: section) -> the experiment's own trials (a zoo's cells) as Tune
  trials in a run directory like `emergent run`'s; --resume RUN_DIR runs the unfinished ones
```

A sweep directory holds `sweep.yaml` (the resolved sweep config: `emergent sweep` on it gives
the same trials), `trials/` (ordinary run directories, each with `attempts.jsonl`: where and
from which step each attempt of the trial started), `tune/` (Ray Tune's results and errors of
the last attempt), `plots/`, `report.md` and `aggregate.json`.

Tune's saved experiment state is pickled and a runs directory may be shared (NFS on a
cluster), so a resume never unpickles it: it reads only `sweep.yaml`, each trial's
`config.yaml` and `state.json` (YAML and JSON) and checkpoints loaded with
`weights_only=True`.

Checkpoints stay in each trial's run directory (written atomically by the runner) and are not
copied into Tune's checkpoints: the run directory already lies under Tune's storage path, so a
restarted trial finds them there. On a cluster the runs directory must therefore be a file
system that every node mounts at the same path (NFS, for example).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from emergent import kinds, plotstyle, rundir
from emergent.errors import UserError
from emergent.kinds.record import Kind
from emergent.sweep import config as sweep_config
from emergent.sweep import report as sweep_report
from emergent.sweep.trial import by_name, waves
from emergent.sweep.tune import TUNE_DIR, connect, run_trials, tune_metrics


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep left on disk once Tune returned."""

    sweep_dir: Path
    report: Path | None
    """report.md, or None when no trial has finished."""
    total: int
    done: int
    failed: tuple[str, ...]
    """Trials that errored after all their restarts."""

    @property
    def unfinished(self) -> int:
        return self.total - self.done - len(self.failed)

    def summary(self) -> tuple[int, str]:
        """Exit status and closing message: 0 all done, 1 trials failed, 130 interrupted."""
        report = f"\nreport: {self.report}" if self.report else ""
        counts = f"sweep: {self.done} of {self.total} trials done"
        again = f"emergent sweep --resume {self.sweep_dir}"
        if self.failed:
            names = ", ".join(self.failed[:3]) + (" ..." if len(self.failed) > 3 else "")
            return 1, (
                f"{counts}; {len(self.failed)} failed after their restarts ({names}; errors in "
                f"{self.sweep_dir / TUNE_DIR}/<trial>/error.txt); fix the cause and resume "
                f"with: {again}{report}"
            )
        if self.unfinished:
            return 130, f"{counts}; interrupted. Resume with: {again}{report}"
        return 0, f"{counts}{report}"


def create(sweep: sweep_config.SweepConfig, runs_dir: str | Path) -> Path:
    """A new sweep directory: sweep.yaml and one run directory (config.yaml) per trial."""
    sweep_dir = rundir.new_dir(Path(runs_dir).resolve() / sweep.name)
    rundir.write_text_atomic(
        sweep_dir / sweep_config.SWEEP_FILE, yaml.safe_dump(sweep.to_dict(), sort_keys=False)
    )
    for trial in sweep.trials:
        path = sweep_config.trial_dir(sweep_dir, trial.name)
        path.mkdir(parents=True)
        rundir.write_config(path, kinds.to_dict(trial.config))
    return sweep_dir


def start(
    sweep: sweep_config.SweepConfig,
    runs_dir: str | Path,
    address: str | None = None,
    max_concurrent: int | None = None,
    quiet: bool = False,
) -> SweepOutcome:
    """Create a sweep directory and run every trial on Ray (local, or the cluster at address)."""
    import ray

    started_here = connect(address, quiet)  # first, so a wrong address leaves nothing behind
    try:
        return execute(create(sweep, runs_dir), max_concurrent=max_concurrent, quiet=quiet)
    finally:
        if started_here:
            ray.shutdown()


def resume(sweep_dir: str | Path, address: str | None = None, quiet: bool = False) -> SweepOutcome:
    """Continue a sweep: its unfinished trials run again, each from what its directory holds;
    finished trials stay as they are. Tune's own saved state is never read (it is pickled, and
    a shared runs directory may hold a planted file): the trial directories are the state."""
    sweep_dir = Path(sweep_dir).resolve()
    sweep = sweep_config.read_dir(sweep_dir)
    if all(_status(sweep_dir, t.name) == "done" for t in sweep.trials):
        return _outcome(sweep_dir, sweep, failed=())  # nothing to run: rebuild the report
    return execute(sweep_dir, address, None, quiet=quiet)


def execute(
    sweep_dir: Path,
    address: str | None = None,
    max_concurrent: int | None = None,
    quiet: bool = False,
) -> SweepOutcome:
    """Run the sweep's unfinished trials as a Tune experiment, then write the report."""
    import ray

    sweep_dir = Path(sweep_dir).resolve()
    sweep = sweep_config.read_dir(sweep_dir)
    section = sweep.section
    todo = [t.name for t in sweep.trials if _status(sweep_dir, t.name) != "done"]
    started_here = connect(address, quiet)
    try:
        failed = run_trials(
            sweep_dir,
            todo,
            run_trial,
            section.resources,
            section.max_failures,
            max_concurrent or section.max_concurrent,
            quiet=quiet,
        )
    finally:
        if started_here:
            ray.shutdown()
    return _outcome(sweep_dir, sweep, failed)


def run_trial(params: dict, root: str, threads: int) -> None:
    """Ray Tune's function trainable for a sweep: one trial is one ordinary run in its own
    directory.

    A restarted trial (after a failure, or on `--resume`) continues from what its run directory
    holds (its checkpoints, finished cells); one that had saved nothing yet starts over in a
    clean directory; one that had finished only reports its results again.
    """
    from ray import tune

    torch.set_num_threads(threads)
    path = sweep_config.trial_dir(Path(root), params["trial"])
    kind, cfg = kinds.read_run(path)
    state = rundir.read_state(path)
    found = rundir.checkpoints(path)
    if state.get("status") == "done":
        record_attempt(path, state.get("agent_steps", 0))
        tune.report(tune_metrics(kind.results(path)))
        return
    record_attempt(path, found[-1][0] if found else 0)
    if not rundir.has_progress(path):
        rundir.clear(path)
    kinds.run(kind, cfg, path, quiet=True, on_result=lambda row: tune.report(tune_metrics(row)))


def start_parallel(
    cfg: Any,
    runs_dir: str | Path,
    address: str | None = None,
    max_concurrent: int | None = None,
    quiet: bool = False,
) -> SweepOutcome:
    """`emergent sweep` on a config without a `sweep:` section: a new run directory, as
    `emergent run` makes, whose trials (a zoo's cells, a grid's points) run as Tune trials."""
    kind = kinds.kind_of(cfg)
    kind.preflight(cfg)
    run_dir = rundir.create(Path(runs_dir).resolve(), cfg.name, kind.to_dict(cfg))
    return run_parallel(run_dir, address, max_concurrent, quiet)


def run_parallel(
    run_dir: str | Path,
    address: str | None = None,
    max_concurrent: int | None = None,
    quiet: bool = False,
) -> SweepOutcome:
    """Run a run directory's unfinished trials as Tune trials, then its kind's `finish`.

    What is finished lives in the run directory, so a resumed run needs none of Tune's state:
    it starts a new Tune experiment over the trials still to do.
    """

    run_dir = Path(run_dir).resolve()
    kind, cfg = kinds.read_run(run_dir)
    if rundir.read_state(run_dir).get("status") == "done":
        raise UserError(f"run {str(run_dir)!r} already finished; start a new run instead")
    kind.preflight(cfg)
    with rundir.lock(run_dir):
        return _run_parallel(kind, cfg, run_dir, address, max_concurrent, quiet)


def _run_parallel(
    kind: Kind,
    cfg: Any,
    run_dir: Path,
    address: str | None,
    max_concurrent: int | None,
    quiet: bool,
) -> SweepOutcome:
    import ray

    trials = kind.trials(cfg, run_dir)
    groups = waves(trials)
    failed: tuple[str, ...] = ()
    if groups:
        started_here = connect(address, quiet)
        try:
            for group in groups:  # a trial that reads another's result runs after it
                blocked = tuple(t.name for t in group if set(t.needs) & set(failed))
                failed += blocked
                ready = [t.name for t in group if t.name not in blocked]
                if not ready:
                    continue
                failed += run_trials(
                    run_dir,
                    ready,
                    kind_trial,
                    sweep_config.Resources(),
                    max_failures=2,
                    max_concurrent=max_concurrent,
                    quiet=quiet,
                )
        finally:
            if started_here:
                ray.shutdown()
    done = sum(t.done() for t in trials)
    report = None
    if done == len(trials):
        kinds.finish(kind, cfg, run_dir, quiet)
        report = run_dir / "report.md"
    return SweepOutcome(run_dir, report, len(trials), done, failed)


def kind_trial(params: dict, root: str, threads: int) -> None:
    """Ray Tune's function trainable for one of a run directory's own trials (a zoo's cell)."""
    from ray import tune

    torch.set_num_threads(threads)
    run_dir = Path(root)
    kind, cfg = kinds.read_run(run_dir)
    trial = by_name(kind.trials(cfg, run_dir), params["trial"])
    if not trial.done():
        with plotstyle.styled():
            trial.run(True, lambda row: tune.report(tune_metrics(row)))


def record_attempt(path: Path, start_step: int) -> None:
    """Append where this attempt of the trial runs and the step it starts from."""
    import ray

    context = ray.get_runtime_context()
    row = {
        "time": time.time(),
        "pid": os.getpid(),
        "node_id": context.get_node_id(),
        "hostname": socket.gethostname(),
        "gpu_ids": [str(g) for g in ray.get_gpu_ids()],
        "start_step": start_step,
    }
    with open(path / "attempts.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _status(sweep_dir: Path, name: str) -> str | None:
    return rundir.read_state(sweep_config.trial_dir(sweep_dir, name)).get("status")


def _outcome(
    sweep_dir: Path, sweep: sweep_config.SweepConfig, failed: tuple[str, ...]
) -> SweepOutcome:
    done = sum(_status(sweep_dir, t.name) == "done" for t in sweep.trials)
    report = sweep_report.build(sweep_dir) if done else None
    return SweepOutcome(sweep_dir, report, len(sweep.trials), done, failed)
