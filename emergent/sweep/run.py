"""`emergent sweep`: one experiment trained many times as Ray Tune trials, then aggregated.

```
emergent sweep CONFIG [key=value ...] [--address ADDR] [--max-concurrent K]
  -> sweep_config.load: every trial's config built and validated, before Ray starts
  -> runs/<name>/<timestamp>/  sweep.yaml, trials/<key=value,...,seed=s>/config.yaml
  -> Ray: a local one, or the cluster at ADDR -> tune.Tuner(run_trial).fit()
       a trial is `runner.train_run` in its own run directory; each evaluation -> tune.report
       FailureConfig(max_failures): a failed trial (worker killed, node lost) is restarted and
       resumes from the last checkpoint in its run directory
  -> sweep_report.build: report.md, plots/, aggregate.json
emergent sweep --resume SWEEP_DIR -> tune.Tuner.restore(resume_errored=True): finished trials
  are kept; unfinished and failed ones continue from their checkpoints
```

A sweep directory holds `sweep.yaml` (the resolved sweep config: `emergent sweep` on it gives
the same trials), `trials/` (ordinary run directories, each with `attempts.jsonl`: where and
from which step each attempt of the trial started), `tune/` (Ray Tune's experiment state, read
by `Tuner.restore`), `plots/`, `report.md` and `aggregate.json`.

Checkpoints stay in each trial's run directory (written atomically by the runner) and are not
copied into Tune's checkpoints: the run directory already lies under Tune's storage path, so a
restarted trial finds them there. On a cluster the runs directory must therefore be a file
system that every node mounts at the same path (NFS, for example).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from emergent import rundir, runner, sweep_config, sweep_report
from emergent.errors import UserError
from emergent.logger import read_rows
from emergent.worlds import eval_rows

TUNE_DIR = "tune"
KEPT_ON_RESTART = ("config.yaml", "attempts.jsonl")  # what a trial restarted from scratch keeps


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
        rundir.write_config(path, trial.config)
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
    """Continue a sweep: Tune restores its state; finished trials stay as they are."""
    sweep_dir = Path(sweep_dir).resolve()
    sweep = sweep_config.read_dir(sweep_dir)
    if all(_status(sweep_dir, t.name) == "done" for t in sweep.trials):
        return _outcome(sweep_dir, sweep, failed=())  # nothing to run: rebuild the report
    return execute(sweep_dir, address, None, resume=True, quiet=quiet)


def execute(
    sweep_dir: Path,
    address: str | None = None,
    max_concurrent: int | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> SweepOutcome:
    """Run (or, with `resume`, restore) the sweep's Tune experiment, then write the report."""
    import ray
    from ray import tune

    sweep_dir = Path(sweep_dir).resolve()
    sweep = sweep_config.read_dir(sweep_dir)
    section = sweep.section
    resources = {"cpu": section.resources.cpu, "gpu": section.resources.gpu}
    started_here = connect(address, quiet)
    try:
        check_fits(resources)
        trainable = tune.with_resources(  # with_parameters puts its values in Ray's store
            tune.with_parameters(
                run_trial, sweep_dir=str(sweep_dir), threads=max(1, int(section.resources.cpu))
            ),
            resources,
        )
        tune_path = sweep_dir / TUNE_DIR
        if resume and tune.Tuner.can_restore(str(tune_path)):
            tuner = tune.Tuner.restore(str(tune_path), trainable, resume_errored=True)
        else:
            tuner = tune.Tuner(
                trainable,
                param_space={"trial": tune.grid_search([t.name for t in sweep.trials])},
                tune_config=tune.TuneConfig(
                    max_concurrent_trials=max_concurrent or section.max_concurrent,
                    reuse_actors=True,  # a finished trial's worker takes the next trial
                    trial_name_creator=trial_name,
                    trial_dirname_creator=trial_name,
                ),
                run_config=tune.RunConfig(
                    name=TUNE_DIR,
                    storage_path=str(sweep_dir),
                    failure_config=tune.FailureConfig(max_failures=section.max_failures),
                    verbose=0 if quiet else 1,
                ),
            )
        results = tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
    failed = tuple(sorted(r.config["trial"] for r in results if r.error is not None and r.config))
    return _outcome(sweep_dir, sweep, failed)


def trial_name(trial: Any) -> str:
    """Tune's name and directory for a trial: the trial's own name."""
    return str(trial.config["trial"])


def connect(address: str | None, quiet: bool = False) -> bool:
    """Connect to Ray (start a local one without address); True if this call started it.

    Trials' own output stays in Ray's worker logs; Tune's progress table reports them.
    """
    import ray

    check_reachable(address)
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {"log_to_driver": False}
    if quiet:
        options["logging_level"] = "warning"
    if address is None:
        options["include_dashboard"] = False
    try:
        ray.init(address=address, **options)
    except ConnectionError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "no answer"
        raise UserError(
            f"--address {address}: no Ray cluster reachable ({first}); "
            "start one with `ray start --head`"
        ) from None
    return True


def check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Fail fast on a HOST:PORT nobody listens on (Ray itself retries for minutes)."""
    if address is None or address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--address {address!r}: expected auto or HOST:PORT (e.g. 10.0.0.1:6379)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise UserError(
            f"--address {address}: no Ray head node answers there ({err.strerror or err}); "
            "start one with `ray start --head`"
        ) from None


def check_fits(resources: dict[str, float]) -> None:
    """Refuse a trial that no node of the cluster could hold (Tune would wait forever)."""
    import ray

    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    if not any(
        n.get("CPU", 0) >= resources["cpu"] and n.get("GPU", 0) >= resources["gpu"] for n in nodes
    ):
        largest = max(nodes, key=lambda n: (n.get("GPU", 0), n.get("CPU", 0)), default={})
        raise UserError(
            f"sweep.resources cpu={resources['cpu']:g} gpu={resources['gpu']:g} per trial, but "
            f"the largest Ray node has cpu={largest.get('CPU', 0):g} "
            f"gpu={largest.get('GPU', 0):g}; lower sweep.resources or add a node"
        )


def run_trial(params: dict, sweep_dir: str, threads: int) -> None:
    """Ray Tune's function trainable: one trial is one ordinary run in its own directory.

    A restarted trial (after a failure, or on `--resume`) continues from the last checkpoint
    in its run directory; one that had not checkpointed yet starts over in a clean directory;
    one that had finished only reports its final evaluation again.
    """
    from ray import tune

    torch.set_num_threads(threads)
    path = sweep_config.trial_dir(Path(sweep_dir), params["trial"])
    _, cfg = rundir.read_config(path)
    state = rundir.read_state(path)
    found = rundir.checkpoints(path)
    if state.get("status") == "done":
        record_attempt(path, state.get("agent_steps", 0))
        learned = eval_rows(read_rows(path / "metrics.jsonl"), "learned")
        if learned:
            tune.report(tune_metrics(learned[-1]))
        return
    record_attempt(path, found[-1][0] if found else 0)
    if not found:
        clear_trial_dir(path)

    def report(row: dict[str, Any]) -> None:
        if row.get("policy") == "learned":
            tune.report(tune_metrics(row))

    runner.train_run(cfg, path, resume=bool(found), quiet=True, on_eval=report)


def tune_metrics(row: dict[str, Any]) -> dict[str, float]:
    """An evaluation row as Tune metrics: its numbers, with the step as `agent_steps`."""
    metrics = {
        key: value
        for key, value in row.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and key != "step"
    }
    return {"agent_steps": row["step"], **metrics}


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


def clear_trial_dir(path: Path) -> None:
    """Remove what an attempt killed before its first checkpoint wrote (it is redone)."""
    for item in path.iterdir():
        if item.name in KEPT_ON_RESTART:
            continue
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()


def _status(sweep_dir: Path, name: str) -> str | None:
    return rundir.read_state(sweep_config.trial_dir(sweep_dir, name)).get("status")


def _outcome(
    sweep_dir: Path, sweep: sweep_config.SweepConfig, failed: tuple[str, ...]
) -> SweepOutcome:
    done = sum(_status(sweep_dir, t.name) == "done" for t in sweep.trials)
    report = sweep_report.build(sweep_dir) if done else None
    return SweepOutcome(sweep_dir, report, len(sweep.trials), done, failed)
