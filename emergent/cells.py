"""A trial computed in a directory of its own whose result is one JSON file written last: the
shape the language-model kinds (lm, grokking, induction_heads, scale_metrics) share.

```
<cell>/
  checkpoints/, metrics.jsonl, ...   what the computation keeps while it runs (and resumes)
  result.json                        its final numbers: written atomically and last, so the
                                     trial is finished exactly when the file is there
```
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from emergent import rundir
from emergent.errors import UserError
from emergent.logger import numeric, read_rows
from emergent.sweep.trial import OnResult, Trial

RESULT = "result.json"


def result_trial(
    name: str,
    cell: Path,
    banner: str,
    compute: Callable[[bool], dict],
    needs: tuple[str, ...] = (),
) -> Trial:
    """The trial `name` that runs `compute(quiet)` in `cell` (printing `banner` first unless
    quiet), writes what it returns to `cell/result.json` and hands its numbers to the
    executor's `on_result` (a Ray Tune trial reports them); `needs`: see `Trial.needs`."""
    path = cell / RESULT

    def run(quiet: bool, on_result: OnResult | None) -> None:
        cell.mkdir(parents=True, exist_ok=True)
        if not quiet:
            print(banner, file=sys.stderr)
        result = compute(quiet)
        rundir.write_text_atomic(path, json.dumps(result, indent=1))
        if on_result is not None:
            on_result(numeric(result))

    return Trial(name, path.is_file, run, needs)


def read_result(path: Path, is_result: Callable[[dict], bool]) -> dict | None:
    """A trial's result.json (None before it is finished). A damaged file, or one that
    `is_result` rejects, is one line naming it and the fix: delete it, and the trial runs
    again."""
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(
            f"{path}: damaged ({type(err).__name__}); delete it to run the trial again"
        ) from None
    if not isinstance(result, dict) or not is_result(result):
        raise UserError(f"{path}: not a trial's result; delete it to run the trial again")
    return result


class TrainClock:
    """Seconds a cell has spent training: the measurements made along the way left out
    (`paused`), and a resumed fit continuing from the `elapsed_s` of the cell's last "train"
    row, so a run stopped and resumed reports about what one never stopped would."""

    def __init__(self, cell: Path, resume_step: int) -> None:
        rows = [r for r in read_rows(cell / "metrics.jsonl") if r.get("kind") == "train"]
        self.before = float(rows[-1].get("elapsed_s") or 0.0) if rows and resume_step else 0.0
        self.began = time.perf_counter()
        self.excluded = 0.0

    @property
    def seconds(self) -> float:
        return self.before + time.perf_counter() - self.began - self.excluded

    @contextmanager
    def paused(self) -> Iterator[None]:
        """What runs inside is not training time."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.excluded += time.perf_counter() - start


@contextmanager
def cpu_threads(threads: int) -> Iterator[None]:
    """PyTorch's CPU threads set to `threads` (0: left as they are), restored after."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def subnormals_flushed() -> Iterator[None]:
    """Flush subnormal floats to zero on the CPU while a trial trains (PyTorch's default, off,
    restored after).

    Weight decay pulls every weight that gets no gradient (a dead ReLU unit's, the MLP's pad
    embedding) geometrically to 0, and Adam's moments of zero gradients decay the same way; at
    weight decay 5 and lr 3e-2 (a factor 0.85 an epoch) they fall below float32's smallest
    normal number, 1.2e-38, within a few hundred epochs, and x86 CPUs are about 100 times
    slower on subnormals. Measured on (a + b) mod 53 (experiments/grokking.yaml, weight decay
    5, a loaded 2-core machine): epochs 1,000 to 1,500 took 258 s, 13 s flushed, with the same
    losses (what is lost is below 1.2e-38); fitting dream_commons' VAE took 2 min 39 s instead
    of 5 min 59 s, with the same losses. The grokking and world-model trials train under it.
    """
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)
