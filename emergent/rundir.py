"""Run directories: runs/<name>/<timestamp>/ with config, logs, checkpoints, plots, report.

```
config.yaml      the resolved config (every default written out)
state.json       status ('running', 'interrupted', 'done') and the last saved step
metrics.jsonl    scalars; tensorboard/ holds the same as event files
checkpoints/     step_<agent steps>.pt (training state), policy.pt (final policy)
episodes/        evaluation episode logs (.npz) and the final episode as a GIF
plots/, report.md
```
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from emergent.errors import UserError

CHECKPOINT = re.compile(r"step_(\d+)\.pt$")


def create(runs_dir: str | Path, name: str, config: dict) -> Path:
    """A new, empty run directory runs_dir/name/<timestamp> holding the resolved config."""
    run_dir = new_dir(Path(runs_dir) / name)
    write_config(run_dir, config)
    return run_dir


def new_dir(base: Path) -> Path:
    """A new empty directory base/<timestamp>, suffixed -2, -3, ... when that one exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = base / stamp, 1
    while path.exists():
        n += 1
        path = base / f"{stamp}-{n}"
    path.mkdir(parents=True)
    return path


def write_config(run_dir: Path, config: dict) -> None:
    """config.yaml: the resolved config as plain data (a kind's `to_dict`)."""
    write_text_atomic(run_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False))


def read_config(run_dir: Path) -> dict:
    """The raw config.yaml of an existing run directory (validated by its kind's `parse`)."""
    path = run_dir / "config.yaml"
    if not run_dir.is_dir():
        raise UserError(f"run directory {str(run_dir)!r} not found")
    if not path.is_file():
        raise UserError(f"{str(run_dir)!r} is not a run directory (no config.yaml in it)")
    return yaml.safe_load(path.read_text())


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_state(run_dir: Path, **state: Any) -> None:
    write_text_atomic(run_dir / "state.json", json.dumps(state) + "\n")


def read_state(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / "state.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Training checkpoints, oldest first, as (agent steps, path)."""
    found = []
    for path in (run_dir / "checkpoints").glob("step_*.pt"):
        match = CHECKPOINT.search(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return run_dir / "checkpoints" / f"step_{step:012d}.pt"


def prune_checkpoints(run_dir: Path, keep: int = 2) -> None:
    for _, path in checkpoints(run_dir)[:-keep]:
        path.unlink(missing_ok=True)


KEPT_ON_RESTART = ("config.yaml", "attempts.jsonl")
"""What a run directory restarted from scratch keeps: its config and the record of attempts."""


def clear(run_dir: Path) -> None:
    """Empty a run directory for a fresh start, keeping `KEPT_ON_RESTART` (created if missing)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for item in run_dir.iterdir():
        if item.name in KEPT_ON_RESTART:
            continue
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()


def has_progress(run_dir: Path) -> bool:
    """Whether a run directory holds work to continue from: a checkpoint or a finished result."""
    return any(run_dir.rglob("*.pt")) or any(run_dir.rglob("result.json"))
