"""The same config and seed give the same numbers on CPU; another seed gives others."""

from __future__ import annotations

import pytest

from emergent import kinds
from emergent.logger import read_rows
from tests.conftest import tiny_raw

pytestmark = pytest.mark.slow


def numbers(run_dir) -> list[dict]:
    return [
        {k: v for k, v in r.items() if k != "steps_per_s"}
        for r in read_rows(run_dir / "metrics.jsonl")
    ]


def run(tmp_path, seed: int, folder: str = ""):
    cfg = kinds.parse({**tiny_raw(steps=640, eval_every=320), "seed": seed})
    return kinds.start(cfg, tmp_path / (folder or f"runs{seed}"), quiet=True)


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path):
    first = numbers(run(tmp_path, 0))
    again = numbers(run(tmp_path, 0, folder="again"))
    other = numbers(run(tmp_path, 1))
    assert first == again
    assert len(first) > 4 and any(r["kind"] == "train" for r in first)
    learned = lambda rows: [r for r in rows if r.get("policy") == "learned"]  # noqa: E731
    assert learned(first) != learned(other)
