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

import fcntl
import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from emergent.config import read_mapping
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
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:  # an earlier run, or another started in the same second
            n += 1
            path = base / f"{stamp}-{n}"
        except OSError as err:  # a file where a folder should be, no permission, a full disk
            raise UserError(
                f"cannot create the run directory {str(path)!r} ({err.strerror or err}); "
                "choose another --runs-dir"
            ) from None


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
    return read_mapping(path, "restore the run's config.yaml or start a new run")


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
    """The run's state.json ({} when there is none yet).

    Raises:
        UserError: a state.json that is not a JSON object with a known status.
    """
    path = run_dir / "state.json"
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: damaged ({type(err).__name__}); {STATE_FIX}") from None
    if not isinstance(state, dict) or state.get("status") not in STATUSES:
        raise UserError(
            f"{path}: not a run state (status one of {', '.join(STATUSES)}); {STATE_FIX}"
        )
    return state


STATUSES = ("running", "interrupted", "done")
STATE_FIX = 'write {"status": "interrupted"} into it to resume the run'


@contextmanager
def lock(run_dir: Path) -> Iterator[None]:
    """Hold the run directory for this process: a second process that tries to run or resume
    it at the same time gets a one-line error. The lock goes with the process (a kill
    releases it), so a crashed run never blocks its own resume.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise UserError(
                f"run {str(run_dir)!r} is in use by {holder}; wait for it to finish (or stop "
                "it) before resuming"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


LOCK_FILE = ".lock"


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
    """Delete all but the newest `keep` training checkpoints."""
    for _, path in checkpoints(run_dir)[:-keep]:
        path.unlink(missing_ok=True)


KEPT_ON_RESTART = ("config.yaml", "attempts.jsonl", LOCK_FILE)
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
