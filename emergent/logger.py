"""Scalars of a run: `metrics.jsonl` (one JSON object a line) and TensorBoard event files.

Each row is flushed and fsynced as it is written, so a killed run keeps every row it wrote.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from torch.utils.tensorboard import SummaryWriter

from emergent.errors import UserError


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a metrics.jsonl (or attempts.jsonl); a last line cut short by a kill is skipped.

    Raises:
        UserError: a damaged line before the last, or a row that is not a JSON object with an
            integer `step`; the message names the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot be read ({type(err).__name__}); {ROWS_FIX}") from None
    rows = []
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if i == last:  # cut short by a kill while it was written
                continue
            raise UserError(f"{path}:{i + 1}: not a JSON row; {ROWS_FIX}") from None
        if not isinstance(row, dict) or not _is_step(row.get("step", 0)):
            raise UserError(f"{path}:{i + 1}: not a row with an integer step; {ROWS_FIX}")
        rows.append(row)
    return rows


ROWS_FIX = "the file is damaged: delete the line (or the run) and rebuild the report"


def _is_step(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def truncate_after(path: Path, step: int) -> None:
    """Keep only rows up to `step` (rows after it are redone by a resumed run)."""
    rows = [r for r in read_rows(path) if r.get("step", 0) <= step]
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    os.replace(tmp, path)


class MetricsLogger:
    """Appends rows to metrics.jsonl and mirrors numbers to TensorBoard under `kind/key`."""

    def __init__(self, run_dir: Path, resume_step: int | None = None) -> None:
        self.path = run_dir / "metrics.jsonl"
        if resume_step is not None:
            truncate_after(self.path, resume_step)
        self._file = open(self.path, "a")  # noqa: SIM115 - held open for the run's life
        # TensorBoard drops events at purge_step and after: the checkpoint's own step is kept,
        # as in metrics.jsonl.
        purge = None if resume_step is None else resume_step + 1
        self._tb = SummaryWriter(str(run_dir / "tensorboard"), purge_step=purge)

    def log(self, row: dict[str, Any]) -> None:
        row = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()
        }
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        prefix = row.get("kind", "")
        if row.get("policy"):
            prefix += "_" + row["policy"]
        for key, value in row.items():
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and key not in ("step", "kind", "policy"):
                self._tb.add_scalar(f"{prefix}/{key}", value, global_step=row["step"])

    def close(self) -> None:
        self._tb.flush()
        self._tb.close()
        self._file.close()


def numeric(row: dict[str, Any]) -> dict[str, float]:
    """The row's numbers (booleans, strings and missing values left out)."""
    return {
        key: float(value)
        for key, value in row.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
