"""Crash matrix: every learner and every generative kind, killed three ways, resumes exactly.

`python -m benchmarks.crash_matrix [--cases ppo,sb3_ppo] [--crashes kill9,ctrl_c]` runs, for
each case (the learners `ppo`, `sb3_ppo`, `rllib_ppo` on a small Commons Harvest, and the kinds
`generative`, `gen_zoo`, `pair_curves`, `diffusion`, `lm`, `grokking`, `induction_heads`,
`scale_metrics`, `communication`, `world_model`), one run that is never stopped and then,
for each crash kind, one run that is stopped once it has progress on disk:

- `kill9`: SIGKILL, no chance to save anything;
- `ctrl_c`: one SIGINT (the run saves what it can and exits 130);
- `two_ctrl_c`: SIGINT, then a second one 50 ms later, in the middle of the save.

Each crash lands at a random moment (seeded by `--seed`) after the first checkpoint, then
`emergent run --resume RUN_DIR` finishes the run. A cell of the matrix checks:

- the stop: exit -9 or 130, and for Ctrl-C one message line and no traceback;
- `resumed from`: the progress on disk when the run was stopped (the checkpoint's agent-steps
  or fit step; for kinds made of cells, the finished cells and the step of the open one; for
  a world model, its finished fit stages and the step of the open one);
- `rows`: every number the finished run left on disk (metrics.jsonl rows and JSON results,
  wall-clock timings excepted) against the never-stopped run: `identical` (bit for bit),
  `1e-6` (equal to a relative 1e-6) or `differ`; and whether each (kind, policy, step) row
  appears once (`once`);
- `logs agree`: TensorBoard holds exactly the numbers of metrics.jsonl, each step once.

Prints the matrix as a Markdown table and saves it with the git SHA to
benchmarks/results/crash_matrix.json. About 15 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from benchmarks.env_speed import git_sha

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "crash_matrix.json"
TIMING_KEYS = ("seconds", "_s", "per_s", "time", "_ms", "speedup", "faster", "throughput")
SKIPPED_FILES = ("state.json", "attempts.jsonl", "claim.json")

TINY_MAP = ["@@@@@@@@@@", "@P AAA  P@", "@ AAAAA  @", "@P AAA  P@", "@@@@@@@@@@"]
WORLD = {"name": "commons", "num_agents": 2, "map": TINY_MAP, "view_radius": 2, "max_steps": 40}


def rl(agent: dict, steps: int, checkpoint_every: int) -> dict:
    return {
        "name": f"crash_{agent['kind']}",
        "seed": 0,
        "env": WORLD,
        "agent": agent,
        "train": {
            "steps": steps,
            "num_envs": 2,
            "eval_every": steps // 2,
            "eval_envs": 2,
            "checkpoint_every": checkpoint_every,
            "keep_checkpoints": 2,
            "device": "cpu",
        },
    }


FIT = {"batch_size": 64, "device": "cpu", "log_every": 25}

CASES: dict[str, dict[str, Any]] = {
    "ppo": rl(
        {
            "kind": "ppo",
            "num_steps": 20,
            "num_minibatches": 2,
            "update_epochs": 2,
            "hidden_sizes": [32],
            "conv_channels": [8],
        },
        steps=48_000,
        checkpoint_every=1_600,
    ),
    "sb3_ppo": rl(
        {
            "kind": "sb3_ppo",
            "n_steps": 40,
            "batch_size": 80,
            "n_epochs": 2,
            "conv_channels": [8],
            "hidden_size": 32,
            "head_size": 16,
        },
        steps=12_800,
        checkpoint_every=640,
    ),
    "rllib_ppo": rl(
        {
            "kind": "rllib_ppo",
            "num_env_runners": 0,
            "train_batch_size": 320,
            "minibatch_size": 160,
            "num_epochs": 2,
            "conv_channels": [8],
            "hidden_sizes": [16],
            "lr": 1e-3,
        },
        steps=9_600,
        checkpoint_every=640,
    ),
    "generative": {
        "name": "crash_generative",
        "kind": "generative",
        "seed": 1,
        "model": {"name": "vae", "latent_dim": 2, "hidden": [32]},
        "data": {"name": "moons", "n_train": 400, "n_val": 100, "n_test": 100},
        "train": {**FIT, "steps": 12_000, "checkpoint_every": 500},
        "eval": {"samples": 200, "iwae_k": 5},
    },
    "gen_zoo": {
        "name": "crash_zoo",
        "kind": "gen_zoo",
        "seeds": 1,
        "datasets": ["moons", "digits"],
        "models": {
            "nb": {"model": "categorical_nb"},
            "flow": {"model": "realnvp", "num_layers": 2},
            "vae": {"model": "vae", "latent_dim": 4, "hidden": [32]},
        },
        "train": {**FIT, "steps": 4_000, "checkpoint_every": 500},
        "eval": {"samples": 300, "iwae_k": 5},
        "code_sizes": [2],
    },
    "pair_curves": {
        "name": "crash_pair",
        "kind": "pair_curves",
        "datasets": ["iris", "breast_cancer", "digits_binary"],
        "sizes": [10, 40, 160],
        "seeds": 6,
    },
    "diffusion": {
        "name": "crash_diffusion",
        "kind": "diffusion",
        "seeds": 1,
        "zoo_run": "",
        "train": {"batch_size": 64, "lr": 0.002, "ema": 0.99, "steps": 300, "device": "cpu"},
        "pixel": {
            "model": {
                "timesteps": 20,
                "channels": [8, 16],
                "embed_dim": 16,
                "attention": False,
                "class_conditional": True,
                "sample_steps": 4,
            }
        },
        "latent": {
            "model": {
                "timesteps": 20,
                "latent_dim": 4,
                "hidden": [32],
                "embed_dim": 16,
                "vae_hidden": [32],
                "stage1_steps": 100,
                "class_conditional": True,
                "sample_steps": 4,
            }
        },
        "toys": {
            "datasets": ["ring8"],
            "data": {"n_train": 300, "n_val": 50, "n_test": 50},
            "model": {"timesteps": 20, "hidden": [32, 32], "embed_dim": 16, "sample_steps": 4},
        },
        "eval": {
            "samples": 60,
            "ddpm_steps": [2, 20],
            "ddim_steps": [2, 4],
            "compare_steps": 4,
            "guidance": [0, 2],
            "guidance_steps": 4,
            "chain_examples": 2,
            "chain_frames": 3,
            "per_class": 2,
        },
    },
    "lm": {
        "name": "crash_lm",
        "kind": "lm",
        "seed": 3,
        "corpus": {"max_chars": 20_000},
        "block_size": 32,
        "models": {
            "bigram": {"model": "bigram"},
            "transformer": {"model": "transformer", "n_layer": 2, "n_head": 2, "n_embd": 32},
        },
        "train": {**FIT, "batch_size": 16, "lr": 3e-3, "steps": 1_500, "checkpoint_every": 100},
        "eval": {"samples": 2, "sample_chars": 60, "val_windows": 8},
    },
    "grokking": {
        "name": "crash_grokking",
        "kind": "grokking",
        "task": {"p": 23, "train_fraction": 0.6},
        "model": {
            "name": "mlp",
            "embed_dim": 32,
            "hidden": [64],
            "activation": "relu",
            "embed_init_std": 0.1,
        },
        "train": {
            "epochs": 3_000,
            "lr": 0.01,
            "eval_every": 10,
            "checkpoint_every": 200,
            "device": "cpu",
            "threads": 1,
        },
        "weight_decays": [1.0],
        "seeds": 1,
    },
    "induction_heads": {
        "name": "crash_induction",
        "kind": "induction_heads",
        "seed": 2,
        "task": {"vocab": 16, "half_len": 8, "train_sequences": 2_000},
        "model": {"n_layer": 2, "n_head": 2, "n_embd": 32},
        "train": {
            "steps": 1_500,
            "batch_size": 32,
            "lr": 3e-3,
            "log_every": 25,
            "checkpoint_every": 100,
        },
        "eval": {"every": 50, "sequences": 64},
    },
    "scale_metrics": {
        "name": "crash_scale",
        "kind": "scale_metrics",
        "seeds": 1,
        "task": {"digits": 2, "problems": 2_000, "val_fraction": 0.1},
        "sizes": [
            {"n_layer": 1, "n_head": 1, "n_embd": 4},
            {"n_layer": 1, "n_head": 1, "n_embd": 6},
            {"n_layer": 1, "n_head": 2, "n_embd": 8},
            {"n_layer": 1, "n_head": 2, "n_embd": 12},
            {"n_layer": 1, "n_head": 2, "n_embd": 16},
        ],
        "train": {**FIT, "batch_size": 32, "lr": 0.01, "steps": 600, "checkpoint_every": 100},
        "eval": {"every": 100},
    },
    "communication": {
        "name": "crash_talk",
        "kind": "communication",
        "seed": 1,
        "env": {
            "name": "signalling",
            "n_attributes": 3,
            "n_values": 4,
            "message_length": 3,
            "vocab_size": 6,
            "num_candidates": 4,
            "end_token": True,
            "held_out": 8,
        },
        "agent": {"n_layer": 1, "n_head": 2, "n_embd": 32, "listener_hidden": 64},
        "train": {
            **FIT,
            "batch_size": 64,
            "lr": 3e-3,
            "steps": 800,
            "checkpoint_every": 100,
            "games": 20_000,
        },  # fmt: skip
        "eval": {"every": 100, "games": 200, "cic_states": 50},
    },
    # The VAE's fit ends about 0.4 s after its first checkpoint (2 CPU cores), so a crash lands
    # in either stage: a resume continues the open fit or starts the next one.
    "world_model": {
        "name": "crash_world_model",
        "kind": "world_model",
        "seed": 2,
        "env": {"name": "wolfpack", "max_steps": 24},
        "data": {"steps": 2_000, "num_envs": 4, "length": 8},
        "model": {
            "family": "vae_rnn",
            "latent_dim": 4,
            "channels": [4],
            "hidden": [16],
            "rnn_hidden": 16,
            "mixtures": 2,
        },
        "train": {
            "device": "cpu",
            "vae": {**FIT, "batch_size": 32, "steps": 150, "checkpoint_every": 25},
            "rnn": {**FIT, "batch_size": 16, "steps": 600, "checkpoint_every": 50},
        },
        "eval": {"horizon": 4, "segments": 16, "throughput_envs": 4, "gifs": 1},
    },
}

CRASHES: dict[str, tuple[int, ...]] = {
    "kill9": (signal.SIGKILL,),
    "ctrl_c": (signal.SIGINT,),
    "two_ctrl_c": (signal.SIGINT, signal.SIGINT),
}
SECOND_SIGNAL_AFTER = 0.05


def emergent(*args: str) -> list[str]:
    return [sys.executable, "-m", "emergent", *args, "--quiet"]


def env() -> dict[str, str]:
    """One torch thread in every run, so the numbers of two runs can be bit for bit equal."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def only_run(runs: Path) -> Path:
    (run_dir,) = (p for p in runs.glob("*/*") if p.is_dir())
    return run_dir


def progress(run_dir: Path) -> tuple[int, int]:
    """(finished cells, the largest checkpoint step): what a resume continues from."""
    import torch

    if (run_dir / "fit").is_dir():
        return stage_progress(run_dir)
    cells = sum(1 for _ in run_dir.rglob("result.json")) + len(list(run_dir.glob("pair/*.json")))
    step = 0
    for path in run_dir.rglob("*.pt"):
        if path.name.startswith("step_"):
            step = max(step, int(path.stem.split("_")[1]))
        elif path.name != "policy.pt":
            try:
                saved = torch.load(path, map_location="cpu", weights_only=True)
            except Exception:  # noqa: BLE001 - a file being written; counted next time
                continue
            if isinstance(saved, dict) and isinstance(saved.get("step"), int):
                step = max(step, saved["step"])
    return cells, step


def stage_progress(run_dir: Path) -> tuple[int, int]:
    """A world-model run's (finished fit stages, the step of the open one): a stage is finished
    when its checkpoint (`fit/<stage>/checkpoints/fit.pt`) holds the steps config.yaml gives it."""
    import torch

    train = yaml.safe_load((run_dir / "config.yaml").read_text())["train"]
    done, step = 0, 0
    for path in run_dir.glob("fit/*/checkpoints/fit.pt"):
        stage = path.parents[1].name
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - a file being written; counted next time
            continue
        if saved["step"] >= train[stage]["steps"]:
            done += 1
        else:
            step = max(step, saved["step"])
    return done, step


def describe(cells: int, step: int) -> str:
    return f"{cells} cells, step {step:,}" if cells else f"step {step:,}"


def numbers_on_disk(run_dir: Path) -> dict[str, Any]:
    """Every JSON result and metrics row under a run directory, timings removed."""
    found: dict[str, Any] = {}
    for path in sorted(run_dir.rglob("*.json*")):
        if path.name in SKIPPED_FILES or "tensorboard" in path.parts:
            continue
        relative = str(path.relative_to(run_dir))
        text = path.read_text()
        if path.suffix == ".jsonl":
            found[relative] = without_timings([json.loads(x) for x in text.splitlines() if x])
        else:
            found[relative] = without_timings(json.loads(text))
    return found


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: without_timings(v)
            for k, v in value.items()
            if not any(str(k).endswith(t) or str(k) == t.strip("_") for t in TIMING_KEYS)
        }
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def compare(a: Any, b: Any) -> str:
    """'identical', '1e-6' (floats within a relative 1e-6) or 'differ'."""
    if a == b:
        return "identical"
    return "1e-6" if _close(a, b) else "differ"


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    return a == b


def each_row_once(run_dir: Path) -> bool:
    for path in run_dir.rglob("metrics.jsonl"):
        seen: set[tuple] = set()
        for line in path.read_text().splitlines():
            row = json.loads(line)
            key = (row.get("kind"), row.get("policy"), row.get("step"))
            if key in seen:
                return False
            seen.add(key)
    return True


def logs_agree(run_dir: Path) -> bool:
    """TensorBoard's scalars equal metrics.jsonl's numbers (float32), each step once."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logging.getLogger("tensorboard").setLevel(logging.ERROR)  # the purge of a resume is expected
    for path in run_dir.rglob("metrics.jsonl"):
        expected: dict[str, list[tuple[int, float]]] = {}
        for line in path.read_text().splitlines():
            row = json.loads(line)
            prefix = row.get("kind", "") + ("_" + row["policy"] if row.get("policy") else "")
            for key, value in row.items():
                if key in ("step", "kind", "policy") or isinstance(value, bool):
                    continue
                if isinstance(value, int | float):
                    expected.setdefault(f"{prefix}/{key}", []).append((row["step"], value))
        events = EventAccumulator(str(path.parent / "tensorboard"), size_guidance={"scalars": 0})
        events.Reload()
        tags = events.Tags()["scalars"]
        if sorted(tags) != sorted(expected):
            return False
        for tag, want in expected.items():
            got = [(e.step, e.value) for e in events.Scalars(tag)]
            if [s for s, _ in got] != [s for s, _ in want]:
                return False
            for (_, g), (_, w) in zip(got, want, strict=True):
                if not math.isclose(g, w, rel_tol=1e-6, abs_tol=1e-6) and not (
                    math.isinf(w) and g == w
                ):
                    return False
    return True


def finished(name: str, raw: dict, root: Path) -> Path:
    """The run never stopped: the reference."""
    config = root / f"{name}.yaml"
    config.write_text(yaml.safe_dump(raw))
    runs = root / "reference"
    done = subprocess.run(
        emergent("run", str(config), "--runs-dir", str(runs)),
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name}: the reference run failed:\n{done.stderr}")
    return only_run(runs)


def crashed(
    name: str, raw: dict, root: Path, crash: str, rng: random.Random, reference: Path
) -> dict:
    """Start the run, stop it `crash`'s way after its first checkpoint, resume, compare."""
    config = root / f"{name}.yaml"
    runs = root / crash
    proc = subprocess.Popen(
        emergent("run", str(config), "--runs-dir", str(runs)),
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_dir = wait_for(lambda: first_progress(runs), proc)
    time.sleep(rng.uniform(0.0, 0.5))
    if proc.poll() is not None:
        raise SystemExit(f"{name}/{crash}: the run ended before the crash; make it longer")
    for i, sig in enumerate(CRASHES[crash]):
        if i:
            time.sleep(SECOND_SIGNAL_AFTER)
        if proc.poll() is None:
            proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=600)
    stopped_cleanly = (
        proc.returncode == -9
        if crash == "kill9"
        else proc.returncode == 130
        and "Traceback" not in stderr
        and len(stderr.strip().splitlines()) == 1
    )
    cells, step = progress(run_dir)
    resumed = subprocess.run(
        emergent("run", "--resume", str(run_dir)),
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
    )
    state = json.loads((run_dir / "state.json").read_text())
    ok_resume = resumed.returncode == 0 and state.get("status") == "done"
    return {
        "case": name,
        "crash": crash,
        "exit": proc.returncode,
        "stop_message": stderr.strip().splitlines()[-1:] if stderr.strip() else [],
        "stopped_cleanly": stopped_cleanly,
        "resumed_from": describe(cells, step),
        "resumed_cells": cells,
        "resumed_step": step,
        "resume_exit": resumed.returncode,
        "resume_error": resumed.stderr.strip().splitlines()[-1:] if not ok_resume else [],
        "finished": ok_resume,
        "rows": compare(numbers_on_disk(run_dir), numbers_on_disk(reference)),
        "each_row_once": each_row_once(run_dir),
        "logs_agree": logs_agree(run_dir),
    }


def first_progress(runs: Path) -> Path | None:
    for run_dir in runs.glob("*/*"):
        cells, step = progress(run_dir)
        if cells or step:
            return run_dir
    return None


def wait_for(found: Callable[[], Path | None], proc: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        result = found()
        if result is not None:
            return result
        if proc.poll() is not None:
            raise SystemExit(f"the run ended before any checkpoint:\n{proc.communicate()[1]}")
        time.sleep(0.1)
    raise SystemExit("no checkpoint within 10 minutes")


def table(cells: list[dict]) -> str:
    lines = [
        "| case | crash | stop | resumed from | resume | rows vs never stopped | each row once "
        "| TensorBoard = jsonl |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        stop = f"exit {c['exit']}" + ("" if c["stopped_cleanly"] else " (!)")
        lines.append(
            f"| {c['case']} | {c['crash']} | {stop} | {c['resumed_from']} | "
            f"{'done' if c['finished'] else 'FAILED'} | {c['rows']} | "
            f"{'yes' if c['each_row_once'] else 'NO'} | {'yes' if c['logs_agree'] else 'NO'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    parser.add_argument("--crashes", default=",".join(CRASHES), help="comma-separated")
    parser.add_argument("--seed", type=int, default=0, help="when the crashes land")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cells = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            root = Path(tmp) / name
            root.mkdir()
            reference = finished(name, copy.deepcopy(CASES[name]), root)
            for crash in args.crashes.split(","):
                cell = crashed(name, CASES[name], root, crash, rng, reference)
                print(
                    f"{name:>12} {crash:>10}: exit {cell['exit']}, resumed from "
                    f"{cell['resumed_from']}, rows {cell['rows']}, once "
                    f"{cell['each_row_once']}, logs agree {cell['logs_agree']}"
                    + (f" RESUME FAILED {cell['resume_error']}" if not cell["finished"] else ""),
                    flush=True,
                )
                cells.append(cell)
    print()
    print(table(cells))
    minutes = (time.perf_counter() - began) / 60
    print(f"\n{len(cells)} crashes in {minutes:.1f} min")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {"git_sha": git_sha(), "seed": args.seed, "minutes": minutes, "cells": cells}
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
