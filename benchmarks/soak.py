"""Soak: a long run with frequent checkpoints keeps its memory, open files and disk use flat.

`python -m benchmarks.soak [--minutes 10]` runs `emergent run` on Commons Harvest (5 agents,
the fast `ppo`) in a subprocess twice in the same session: once with a checkpoint every
`--checkpoint-every` agent-steps and `train.keep_checkpoints` of them kept, and once, the
baseline, with no periodic checkpoint. Once a second it samples the process's resident memory
(VmRSS), its open file descriptors (/proc/<pid>/fd) and the size of the run directory; each run
is stopped with Ctrl-C (SIGINT) after `--minutes`. It prints, for each run, the medians of the
first and the last minute, the growth per hour (least-squares slope over the second half, after
warm-up), the training speed, and the ratio of the checkpointing run's speed to the baseline's.
Saves the numbers with the git SHA to benchmarks/results/soak.json. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from benchmarks.env_speed import git_sha
from emergent.logger import read_rows

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "soak.json"


def config(checkpoint_every: int, keep: int) -> dict:
    """experiments/commons.yaml learned by `ppo` for as long as the soak lasts."""
    raw = yaml.safe_load((ROOT / "experiments" / "commons.yaml").read_text())
    raw["name"] = "soak"
    raw["agent"] = {"kind": "ppo", "num_steps": 128, "hidden_sizes": [64], "conv_channels": [16]}
    raw["train"] = {
        **raw.get("train", {}),
        "steps": 10**11,
        "num_envs": 8,
        "eval_every": 10**11,
        "checkpoint_every": checkpoint_every,
        "keep_checkpoints": keep,
        "device": "cpu",
    }
    return raw


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def soak(raw: dict, seconds: float, root: Path, label: str) -> dict:
    """Run the config for `seconds`, sampling once a second; stop it with SIGINT."""
    path = root / f"{label}.yaml"
    path.write_text(yaml.safe_dump(raw))
    runs = root / label
    proc = subprocess.Popen(
        [sys.executable, "-m", "emergent", "run", str(path), "--runs-dir", str(runs), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    samples = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds and proc.poll() is None:
        time.sleep(1.0)
        try:
            rss, fds = rss_bytes(proc.pid), len(os.listdir(f"/proc/{proc.pid}/fd"))
        except OSError:
            break
        run_dirs = list((runs / "soak").glob("*"))
        disk = disk_bytes(run_dirs[0]) if run_dirs else 0
        samples.append((time.perf_counter() - began, rss, fds, disk))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    (run_dir,) = (runs / "soak").glob("*")
    rows = [r for r in read_rows(run_dir / "metrics.jsonl") if r.get("kind") == "train"]
    speeds = [r["steps_per_s"] for r in rows if r.get("steps_per_s")]
    checkpoints = sorted(p.name for p in (run_dir / "checkpoints").glob("step_*.pt"))
    return {
        "label": label,
        "exit_code": proc.returncode,
        "stderr_tail": err.strip().splitlines()[-1:] if err.strip() else [],
        "agent_steps": rows[-1]["step"] if rows else 0,
        "steps_per_s": float(np.median(speeds)) if speeds else float("nan"),
        "checkpoints_kept": len(checkpoints),
        "samples": samples,
        **{name: trend(samples, i) for i, name in ((1, "rss"), (2, "fds"), (3, "disk"))},
    }


def trend(samples: list[tuple], column: int) -> dict:
    """First- and last-minute medians and the growth per hour over the second half."""
    t = np.array([s[0] for s in samples])
    y = np.array([s[column] for s in samples], dtype=float)
    first, last = y[t <= 60], y[t >= t[-1] - 60]
    half = t >= t[-1] / 2
    slope = np.polyfit(t[half], y[half], 1)[0] * 3600 if half.sum() > 2 else float("nan")
    return {
        "first_minute": float(np.median(first)),
        "last_minute": float(np.median(last)),
        "max": float(y.max()),
        "growth_per_hour": float(slope),
    }


def show(result: dict) -> None:
    mib = 2**20
    rss, fds, disk = result["rss"], result["fds"], result["disk"]
    print(
        f"{result['label']:>12}: {result['agent_steps']:,} agent-steps at "
        f"{result['steps_per_s']:,.0f}/s, exit {result['exit_code']}, "
        f"{result['checkpoints_kept']} checkpoints kept"
    )
    print(
        f"{'':>12}  RSS {rss['first_minute'] / mib:.0f} -> {rss['last_minute'] / mib:.0f} MiB "
        f"(max {rss['max'] / mib:.0f}, {rss['growth_per_hour'] / mib:+.1f} MiB/h); "
        f"open files {fds['first_minute']:.0f} -> {fds['last_minute']:.0f} "
        f"({fds['growth_per_hour']:+.1f}/h); disk {disk['first_minute'] / mib:.1f} -> "
        f"{disk['last_minute'] / mib:.1f} MiB (max {disk['max'] / mib:.1f}, "
        f"{disk['growth_per_hour'] / mib:+.1f} MiB/h)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of each run")
    parser.add_argument("--checkpoint-every", type=int, default=20_000, help="agent-steps")
    parser.add_argument("--keep", type=int, default=2, help="train.keep_checkpoints")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        soaked = soak(
            config(args.checkpoint_every, args.keep), 60 * args.minutes, root, "checkpoints"
        )
        baseline = soak(config(10**11, args.keep), 60 * args.minutes, root, "baseline")
    for result in (soaked, baseline):
        show(result)
    ratio = soaked["steps_per_s"] / baseline["steps_per_s"]
    print(f"speed with checkpoints / without: {ratio:.2f}x")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "git_sha": git_sha(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "minutes": args.minutes,
        "checkpoint_every": args.checkpoint_every,
        "keep_checkpoints": args.keep,
        "speed_ratio_with_checkpoints": ratio,
        "runs": [soaked, baseline],
    }
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
