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
import time
from pathlib import Path
from typing import Any

import yaml

from emergent import config as config_mod
from emergent.errors import UserError

CHECKPOINT = re.compile(r"step_(\d+)\.pt$")


def create(runs_dir: str | Path, cfg: config_mod.ExperimentConfig) -> Path:
    """A new, empty run directory holding the resolved config."""
    run_dir = new_dir(Path(runs_dir) / cfg.name)
    write_config(run_dir, cfg)
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


def write_config(run_dir: Path, cfg: config_mod.ExperimentConfig) -> None:
    write_text_atomic(
        run_dir / "config.yaml", yaml.safe_dump(config_mod.to_dict(cfg), sort_keys=False)
    )


def read_config(run_dir: Path) -> tuple[dict, config_mod.ExperimentConfig]:
    """The raw and validated config of an existing run directory."""
    path = run_dir / "config.yaml"
    if not run_dir.is_dir():
        raise UserError(f"run directory {str(run_dir)!r} not found")
    if not path.is_file():
        raise UserError(f"{str(run_dir)!r} is not a run directory (no config.yaml in it)")
    raw = yaml.safe_load(path.read_text())
    return raw, config_mod.parse(raw)


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
