"""The induction-head experiment (`kind: induction_heads`) through the config, the runner and
the command line: a tiny run end to end, resume giving the same numbers, the report's
sections, one-line config errors, and the measurements on hand-made attention."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from emergent import cli, kinds
from emergent.errors import Interrupted, UserError
from emergent.kinds.induction_heads import run as ih_run
from emergent.kinds.induction_heads.measure import (
    find_jump,
    largest_change,
    ngram_tokens,
    prefix_matching,
    training_sequences,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "name": "ih_tiny",
    "kind": "induction_heads",
    "seed": 2,
    "task": {"vocab": 8, "half_len": 6, "train_sequences": 64},
    "model": {"n_layer": 2, "n_head": 2, "n_embd": 16},
    "train": {"steps": 20, "batch_size": 8, "lr": 3e-3, "log_every": 5, "checkpoint_every": 10},
    "eval": {"every": 5, "sequences": 16},
}


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "ih.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def run_dir_of(tmp_path: Path) -> Path:
    return next((tmp_path / "runs" / "ih_tiny").iterdir())


def eval_rows(cell: Path) -> list[dict]:
    rows = [json.loads(line) for line in (cell / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r["kind"] == "eval"]


def test_a_tiny_run_end_to_end_writes_both_models_and_the_report(tmp_path):
    path = write(tmp_path, TINY)
    assert cli.main(["run", str(path), "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 0
    run_dir = run_dir_of(tmp_path)
    for label, layers in (("model", 2), ("control", 1)):
        result = json.loads((run_dir / "models" / label / "result.json").read_text())
        assert result["layers"] == layers
        assert np.asarray(result["prefix_matching"]).shape == (layers, 2)
        assert math.isfinite(result["in_context"])
        assert [r["step"] for r in eval_rows(run_dir / "models" / label)] == [5, 10, 15, 20]
    report = (run_dir / "report.md").read_text()
    for section in ("## The jump", "## Prefix matching of each head", "## Attention maps",
                    "## Targets"):  # fmt: skip
        assert section in report
    assert "is **met**" in report or "is **missed**" in report
    for figure in ("curves.png", "heads.png", "attention.png"):
        assert (run_dir / "plots" / figure).is_file()
    found = kinds.KINDS["induction_heads"].results(run_dir)
    assert found["best_prefix_matching"] == found["model/best_prefix_matching"]


def test_a_run_interrupted_mid_fit_resumes_to_the_numbers_of_one_never_stopped(
    tmp_path, monkeypatch
):
    cfg = kinds.parse(TINY)
    never_stopped = kinds.start(cfg, tmp_path / "a", quiet=True)
    measure = ih_run.measure
    calls = []

    def stop_at_the_third_measurement(*args, **kwargs):  # step 15: after the checkpoint at 10
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return measure(*args, **kwargs)

    monkeypatch.setattr(ih_run, "measure", stop_at_the_third_measurement)
    with pytest.raises(Interrupted) as stop:
        kinds.start(cfg, tmp_path / "b", quiet=True)
    run_dir = stop.value.run_dir
    assert not (run_dir / "models/model/result.json").is_file()
    monkeypatch.setattr(ih_run, "measure", measure)
    kinds.resume(run_dir, quiet=True)
    timings = ("seconds", "elapsed_s", "threads")
    for label in ("model", "control"):
        a, b = (d / "models" / label for d in (never_stopped, run_dir))
        expected, got = (json.loads((d / "result.json").read_text()) for d in (a, b))
        assert {k: v for k, v in got.items() if k not in timings} == {
            k: v for k, v in expected.items() if k not in timings
        }
        assert eval_rows(a) == eval_rows(b)  # each step once: the rows after it were redone


def test_a_bad_key_is_one_line(tmp_path, capsys):
    raw = {**TINY, "model": {**TINY["model"], "n_heads": 2}}
    with pytest.raises(UserError, match=r"unknown key 'model.n_heads'; did you mean 'n_head'"):
        kinds.parse(raw)
    for bad, key in (
        ({"task": {"half_len": 10**6}}, "half_len"),
        ({"task": {"ngram_scale": -1}}, "ngram_scale"),
        ({"task": {"min_repeat": 1}}, "min_repeat"),
        ({"task": {"vocab": 5000}}, "ngram_scale"),
        ({"model": {"n_layer": 1}}, "n_layer"),
        ({"eval": {"every": 7}}, "eval.every"),
    ):
        with pytest.raises(UserError, match=key) as err:
            kinds.parse({**TINY, **bad})
        assert "\n" not in str(err.value)


def test_the_shipped_experiment_parses_and_round_trips():
    raw = yaml.safe_load((ROOT / "experiments" / "induction_heads.yaml").read_text())
    cfg = kinds.parse(raw)
    assert kinds.parse(kinds.to_dict(cfg)) == cfg


def copies(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, T, T) bool: x[t] == x[t - d] at [n, t, d] (d >= 1), and (N,) the distance of each
    row's copy (with a vocabulary so large that chance repeats are absent)."""
    T = x.shape[1]
    same = np.zeros((len(x), T, T), dtype=bool)
    for d in range(1, T):
        same[:, d:, d] = x[:, d:] == x[:, :-d]
    return same, same.any(axis=1).argmax(axis=1)


def test_training_sequences_copy_one_segment_at_any_distance():
    L, shortest = 8, 2
    x = training_sequences(4000, L, shortest, 10**6, seed=0).numpy()
    assert x.shape == (4000, 2 * L) and x.dtype == np.int64
    same, d = copies(x)
    assert (same.any(axis=1).sum(axis=1) == 1).all()  # one distance per row
    m = same.sum(axis=(1, 2))  # (N,) copied tokens
    assert (m >= shortest).all() and (m <= np.minimum(d, 2 * L - d)).all()
    t = np.arange(2 * L)
    for row, dist in zip(same[:50], d[:50], strict=True):
        at = t[row[:, dist]]
        assert (np.diff(at) == 1).all()  # one contiguous segment
    counts = np.bincount(d, minlength=2 * L)[shortest : 2 * L - shortest + 1]
    assert counts.min() > 0.6 * counts.mean()  # distances uniform over the whole context
    np.testing.assert_array_equal(x, training_sequences(4000, L, shortest, 10**6, 0).numpy())


def test_ngram_tokens_follow_their_second_order_model():
    """x[t] given (x[t-2], x[t-1]) is drawn with softmax(A[x[t-1]] + B[x[t-2]]), A and B drawn
    first from the generator; scale 0 draws uniform tokens."""
    V = 3
    x = ngram_tokens(30000, 3, V, 1.0, np.random.default_rng(4))
    rng = np.random.default_rng(4)
    A, B = rng.normal(size=(V, V)), rng.normal(size=(V, V))
    for a in range(V):
        for b in range(V):
            rows = (x[:, 0] == a) & (x[:, 1] == b)
            logits = A[b] + B[a]
            expected = np.exp(logits) / np.exp(logits).sum()
            got = np.bincount(x[rows, 2], minlength=V) / rows.sum()
            np.testing.assert_allclose(got, expected, atol=0.04)
    flat = ngram_tokens(30000, 3, V, 0.0, np.random.default_rng(4))
    np.testing.assert_allclose(np.bincount(flat.ravel()) / flat.size, 1 / V, atol=0.01)


def test_training_sequences_of_ngram_tokens_keep_their_copy():
    x = training_sequences(300, 8, 2, 16, seed=3, ngram_scale=1.0).numpy()
    again = training_sequences(300, 8, 2, 16, seed=3, ngram_scale=1.0).numpy()
    np.testing.assert_array_equal(x, again)
    T = 16
    has_copy = [
        any(
            (row[c : c + 2] == row[c - d : c - d + 2]).all()
            for d in range(2, T - 1)
            for c in range(d, T - 1)
        )
        for row in x
    ]
    assert all(has_copy)


def test_no_fixed_offset_predicts_the_copies_of_training_sequences():
    """At each query position of the second half, the copies there come from many
    distances, half_len no more often than the rest: attending a fixed offset back (as a
    one-layer model can) predicts few of them."""
    L = 16
    same, _ = copies(training_sequences(20000, L, 2, 10**6, seed=1).numpy())
    for t in range(L, 2 * L):
        by_distance = same[:, t, :].sum(axis=0)  # (T,) copies at t from each distance
        share = by_distance / by_distance.sum()
        assert share[L] < 0.12, t
        assert share.max() < 0.2, t


def test_prefix_matching_of_a_perfect_induction_head_is_one_and_jump_is_interpolated():
    L = 5
    T = 2 * L
    perfect = torch.zeros(1, 2, T, T)
    for t in range(T):
        perfect[0, 0, t, t - L + 1 if t >= L else 0] = 1.0
        perfect[0, 1, t, t] = 1.0  # attends to itself
    scores = prefix_matching([perfect], L)
    np.testing.assert_allclose(scores, [[1.0, 0.0]])
    steps = [0, 10, 20, 30, 40, 50, 60, 70]
    jump = find_jump(steps, [0.0, -0.1, -0.1, -3.0, -6.0, -6.0, -6.1, -6.0])
    assert jump.start < jump.step < jump.end
    assert 10 <= jump.start <= 20 and 40 <= jump.end <= 50
    assert jump.total == pytest.approx(-6.0)
    assert jump.change < 0.8 * jump.total


def test_largest_change_is_the_biggest_move_within_a_window_of_steps():
    steps = [0, 10, 20, 30, 40, 50, 60, 70]
    values = [0.0, -0.1, -0.1, -3.0, -6.0, -6.0, -6.1, -6.0]
    smooth = [0.0, -0.2 / 3, -3.2 / 3, -9.1 / 3, -15 / 3, -18.1 / 3, -18.1 / 3, -6.0]
    assert largest_change(steps, values, 10) == pytest.approx(np.diff(smooth).min())
    assert largest_change(steps, values, 70) == pytest.approx(-18.1 / 3)
    assert largest_change(steps, [1.0, 1.1] * 4, 30) == pytest.approx(0.2 / 3)  # stays flat
    assert largest_change([5], [1.0], 10) == 0.0
