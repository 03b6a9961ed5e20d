"""Ray Tune plumbing shared by every sweep: connect to Ray, check that a trial fits a node,
run a list of named trials as Tune trials with restarts on failure.

A trial is identified by its name alone: the trainable rebuilds it in the worker from what is
on disk under `root` (a sweep directory, or a run directory whose kind's trials run in
parallel), so nothing but names and paths crosses to the workers.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emergent.errors import UserError
from emergent.logger import numeric
from emergent.sweep.config import Resources

TUNE_DIR = "tune"


def run_trials(
    root: Path,
    names: list[str],
    trainable: Callable[..., None],
    resources: Resources,
    max_failures: int,
    max_concurrent: int | None = None,
    quiet: bool = False,
) -> tuple[str, ...]:
    """Run `trainable(params, root=..., threads=...)` once per name as Tune trials (Ray must
    be connected); return the names that failed after all their restarts.

    Each call is a new Tune experiment in root/tune (an earlier one there is removed first):
    Tune's saved state is pickled, so it is never restored; what is finished lives in the
    trials' own directories, which the trainable reads.
    """
    from ray import tune

    wanted = {"cpu": resources.cpu, "gpu": resources.gpu}
    check_fits(wanted)
    wrapped = tune.with_resources(  # with_parameters puts its values in Ray's store
        tune.with_parameters(trainable, root=str(root), threads=max(1, int(resources.cpu))),
        wanted,
    )
    shutil.rmtree(root / TUNE_DIR, ignore_errors=True)
    tuner = tune.Tuner(
        wrapped,
        param_space={"trial": tune.grid_search(names)},
        tune_config=tune.TuneConfig(
            max_concurrent_trials=max_concurrent,
            reuse_actors=True,  # a finished trial's worker takes the next trial
            trial_name_creator=trial_name,
            trial_dirname_creator=trial_name,
        ),
        run_config=tune.RunConfig(
            name=TUNE_DIR,
            storage_path=str(root),
            failure_config=tune.FailureConfig(max_failures=max_failures),
            verbose=0 if quiet else 1,
        ),
    )
    results = tuner.fit()
    return tuple(sorted(r.config["trial"] for r in results if r.error is not None and r.config))


def trial_name(trial: Any) -> str:
    """Tune's name and directory for a trial: the trial's own name ('/' made '-')."""
    return str(trial.config["trial"]).replace("/", "-")


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


def tune_metrics(row: dict[str, Any]) -> dict[str, float]:
    """A result row as Tune metrics: its numbers, an RL row's step as `agent_steps`."""
    metrics = numeric(row)
    if "step" in metrics:
        metrics["agent_steps"] = metrics.pop("step")
    return metrics
