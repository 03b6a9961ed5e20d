"""Sweep scaling: 8 short trials one after another against the same 8 as a Ray Tune sweep.

Run `python -m benchmarks.sweep_scaling [--trials 8] [--workers 2] [--steps 20000]`.

Peer (measured in the same run): the trials run sequentially in this process, each an ordinary
its kind's `run` in its own run directory (training, evaluations, checkpoints, per-run
report), with one torch thread. Ours: `emergent sweep`'s path, `sweep.execute` on a local Ray
started for it with `--workers` CPUs and one CPU per trial, so `--workers` trials run at once;
its wall time includes starting Ray, Tune's scheduling and the sweep report. The trials are
the seeds 0..N-1 of Commons Harvest (5 agents, 8 copies) with the batched `ppo` learner.

Prints both wall times, the speed-up (sequential / sweep), the parallel efficiency
(speed-up / workers; 1.0 is perfect scaling) and the mean time of one trial in each mode (a
trial slower in the sweep than alone means the cores were shared with other work), checks
that both produced the same final returns (a trial is the same run wherever it runs), and
saves benchmarks/results/sweep_scaling.json with the git SHA. Ray runs its workers at niceness 15 by
default; both sides run at the same priority here (`RAY_worker_niceness=0`) so that a loaded
machine slows them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.env_speed import git_sha
from emergent import kinds
from emergent.logger import read_rows
from emergent.sweep import config as sweep_config
from emergent.sweep import run as sweep

RESULTS = Path(__file__).parent / "results" / "sweep_scaling.json"


def trials_config(trials: int, steps: int) -> sweep_config.SweepConfig:
    return sweep_config.parse(
        {
            "name": "sweep_scaling",
            "seed": 0,
            "env": {"name": "commons", "num_agents": 5},
            "agent": {"kind": "ppo", "num_steps": 64, "num_minibatches": 4, "update_epochs": 4},
            "train": {
                "steps": steps,
                "num_envs": 8,
                "eval_every": steps,
                "eval_envs": 4,
                "checkpoint_every": steps // 2,
                "device": "cpu",
            },
            "sweep": {"seeds": trials, "resources": {"cpu": 1}},
        }
    )


def final_returns(sweep_dir: Path, config: sweep_config.SweepConfig) -> list[float]:
    found = []
    for trial in config.trials:
        rows = read_rows(sweep_config.trial_dir(sweep_dir, trial.name) / "metrics.jsonl")
        found.append([r for r in rows if r.get("policy") == "learned"][-1]["return"])
    return found


def sequential(config: sweep_config.SweepConfig, root: Path) -> tuple[float, list[float], Path]:
    """Every trial in this process, one after another; (wall seconds, per-trial seconds, dir)."""
    torch.set_num_threads(1)
    sweep_dir = sweep.create(config, root / "sequential")
    start, per_trial = time.perf_counter(), []
    for trial in config.trials:
        path = sweep_config.trial_dir(sweep_dir, trial.name)
        begin = time.perf_counter()
        kinds.run(kinds.kind_of(trial.config), trial.config, path, quiet=True)
        per_trial.append(time.perf_counter() - begin)
    return time.perf_counter() - start, per_trial, sweep_dir


def tune_trial_seconds(sweep_dir: Path, config: sweep_config.SweepConfig) -> list[float]:
    """Each trial's running time as Tune measured it (its last result's time_total_s)."""
    return [
        read_rows(sweep_dir / sweep.TUNE_DIR / t.name / "result.json")[-1]["time_total_s"]
        for t in config.trials
    ]


def on_ray(config: sweep_config.SweepConfig, root: Path, workers: int) -> tuple[float, float, Path]:
    """The sweep on a local Ray with `workers` CPUs; (wall seconds, of which Ray start, dir)."""
    import ray

    os.environ.setdefault("RAY_worker_niceness", "0")
    sweep_dir = sweep.create(config, root / "ray")
    start = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - start
    try:
        outcome = sweep.execute(sweep_dir, quiet=True)
    finally:
        ray.shutdown()
    wall = time.perf_counter() - start
    assert outcome.done == len(config.trials), outcome.summary()[1]
    return wall, ray_start, sweep_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--steps", type=int, default=20_000, help="agent-steps per trial")
    args = parser.parse_args()

    config = trials_config(args.trials, args.steps)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seq_wall, seq_trials, seq_dir = sequential(config, root)
        ray_wall, ray_start, ray_dir = on_ray(config, root, args.workers)
        ray_trials = tune_trial_seconds(ray_dir, config)
        same = final_returns(seq_dir, config) == final_returns(ray_dir, config)
    speedup = seq_wall / ray_wall
    efficiency = speedup / args.workers
    concurrency = sum(ray_trials) / ray_wall  # trials running at once, on average
    print(f"{args.trials} trials of {args.steps:,} agent-steps (commons, ppo, 1 thread each)")
    print(f"{'sequential, in process':<34}{seq_wall:>9.1f} s")
    print(
        f"{f'Ray Tune sweep, {args.workers} workers':<34}{ray_wall:>9.1f} s"
        f"   (starting Ray: {ray_start:.1f} s)"
    )
    print(
        f"speed-up {speedup:.2f}x, parallel efficiency {efficiency:.0%}; "
        f"same final returns: {'yes' if same else 'NO'}"
    )
    print(
        f"mean trial time: {sum(seq_trials) / len(seq_trials):.1f} s alone, "
        f"{sum(ray_trials) / len(ray_trials):.1f} s in the sweep (Tune's clock); trials running "
        f"at once on average: {concurrency:.2f}"
    )
    print(f"load average before the run: {load:.2f} on {os.cpu_count()} CPUs")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "git_sha": git_sha(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load": load},
        "trials": args.trials,
        "workers": args.workers,
        "steps_per_trial": args.steps,
        "sequential_s": seq_wall,
        "sweep_s": ray_wall,
        "ray_start_s": ray_start,
        "trial_s_sequential": seq_trials,
        "trial_s_sweep": ray_trials,
        "concurrency": concurrency,
        "speedup": speedup,
        "efficiency": efficiency,
        "same_final_returns": same,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
