"""`kind: scale_metrics`: configs, the metrics on models that know the answer, the verdict on
synthetic numbers, a tiny run end to end, resume, and the same run as Ray Tune trials."""

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
from emergent.kinds.scale_metrics import measure as sm_measure
from emergent.kinds.scale_metrics import run as sm_run
from emergent.kinds.scale_metrics.config import count_parameters
from emergent.kinds.scale_metrics.report import METRICS
from emergent.kinds.scale_metrics.verdict import SHARP, Point, steepness, verdict
from emergent.metrics.communication import edit_distances
from emergent.sweep import run as sweep_mod
from generative.data import DataInfo
from generative.models.language_model import LanguageModel
from generative.text.tasks import addition

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "name": "scale_tiny",
    "kind": "scale_metrics",
    "seeds": 1,
    "task": {"digits": 1, "problems": 100, "val_fraction": 0.2},
    "sizes": [
        {"n_layer": 1, "n_head": 1, "n_embd": 4},
        {"n_layer": 1, "n_head": 1, "n_embd": 6},
        {"n_layer": 1, "n_head": 2, "n_embd": 8},
        {"n_layer": 1, "n_head": 2, "n_embd": 12},
        {"n_layer": 1, "n_head": 2, "n_embd": 16},
    ],
    "train": {
        "steps": 40,
        "batch_size": 32,
        "lr": 0.01,
        "log_every": 10,
        "checkpoint_every": 20,
        "device": "cpu",
    },  # fmt: skip
    "eval": {"every": 20},
}
LABELS = ("l1h1d4", "l1h1d6", "l1h2d8", "l1h2d12", "l1h2d16")


def test_the_shipped_experiment_parses_round_trips_and_spans_over_a_decade():
    cfg = kinds.load(ROOT / "experiments" / "scale_metrics.yaml")
    assert kinds.parse(kinds.to_dict(cfg)) == cfg
    assert len(cfg.sizes) >= 5 and cfg.task.digits == 3 and cfg.seeds == 3
    counts = [count_parameters(s, cfg.task) for s in cfg.sizes]
    assert counts == sorted(counts) and counts[-1] / counts[0] > 30


def test_sizes_are_sorted_by_parameters():
    raw = {**TINY, "sizes": list(reversed(TINY["sizes"]))}
    assert [s.label for s in kinds.parse(raw).sizes] == list(LABELS)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sizes": TINY["sizes"][:4]}, "sizes has 4 models; give 5 to 16"),
        ({"sizes": {"n_layer": 1}}, "sizes: expected a list"),
        (
            {"sizes": [*TINY["sizes"][:4], {"n_layer": 1, "n_head": 3, "n_embd": 16}]},
            "sizes[4]: n_embd=16; must be divisible by n_head=3",
        ),  # fmt: skip
        ({"sizes": [*TINY["sizes"][:4], {"n_layers": 1}]}, "unknown key 'sizes[4].n_layers'"),
        (
            {"sizes": [*TINY["sizes"][:4], {"n_layer": 1, "n_head": 2, "n_embd": 4}]},
            "l1h1d4 and l1h2d4 both have",
        ),  # fmt: skip
        ({"task": {"digits": 0}}, "task: digits=0; must be from 1"),
        ({"task": {"digits": 1, "problems": 101}}, "problems=101; must be from 2 to 100"),
        ({"task": {"digits": 1, "problems": 100, "val_fraction": 0.001}}, "on each side"),
        ({"task": {"digit": 3}}, "unknown key 'task.digit'; did you mean 'digits'?"),
        ({"eval": {"every": 15}}, "eval.every=15; must be a multiple of train.log_every=10"),
        ({"eval": {"every": 20, "problems": 21}}, "eval.problems=21; only 20 problems"),
        ({"train": {"step": 3}}, "unknown key 'train.step'; did you mean 'steps'?"),
        ({"seeds": 0}, "seeds=0; give 1 to 16"),
        ({"threads": -1}, "threads=-1; give 0 (PyTorch's setting) to 1024"),
        ({"seed": 2**32 - 1, "seeds": 2}, "the last of 2 seeds passes"),
        ({"size": []}, "unknown key 'size'; did you mean 'sizes'?"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_key(change, expected):
    with pytest.raises(UserError) as err:
        kinds.parse({**TINY, **change})
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_bad_key_from_the_command_line_is_one_line_with_status_2(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({**TINY, "eval": {"evry": 5}}))
    assert cli.main(["run", str(config), "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "unknown key 'eval.evry'; did you mean 'every'?" in line


def test_edit_distance_counts_insertions_deletions_and_substitutions():
    def edit_distance(a, b):  # the shared Levenshtein distance the measurement uses
        return torch.from_numpy(edit_distances(a.numpy(), b.numpy()))

    a = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [5, 6, 7, 8]])
    b = torch.tensor([[1, 2, 3, 4], [1, 9, 3, 4], [2, 3, 4, 5], [1, 2, 3, 4]])
    assert edit_distance(a, b).tolist() == [0, 1, 2, 4]
    kitten = torch.tensor([[10, 8, 19, 19, 4, 13]])  # "kitten" -> "sitting": 3
    sitting = torch.tensor([[18, 8, 19, 19, 8, 13, 6]])
    assert edit_distance(kitten, sitting).tolist() == [3]


class Oracle(LanguageModel):
    """Reads "a+b=" (k digits each, answer units first) and puts logit 20 on the true next
    answer digit, with the units digit shifted by `units_off`."""

    def __init__(self, k: int, units_off: int) -> None:
        super().__init__(DataInfo("addition", (3 * k + 2,), "tokens", 12))
        self.k, self.units_off = k, units_off

    def logits(self, idx: torch.Tensor) -> torch.Tensor:
        k, (B, T) = self.k, idx.shape
        powers = 10 ** torch.arange(k - 1, -1, -1)
        c = (idx[:, :k] * powers).sum(1) + (idx[:, k + 1 : 2 * k + 1] * powers).sum(1)  # (B,)
        answer = torch.stack([(c // 10**i) % 10 for i in range(k + 1)], dim=1)  # (B, k + 1)
        answer[:, 0] = (answer[:, 0] + self.units_off) % 10
        out = torch.zeros(B, T, 12)
        for t in range(2 * k + 1, T):
            out[torch.arange(B), t, answer[:, t - 2 * k - 1]] = 20.0
        return out


def test_the_metrics_of_a_model_that_knows_the_answer_and_of_one_that_misses_the_units():
    task = addition(3, 500, seed=0, val_fraction=0.2)
    right = sm_measure.measure(Oracle(3, 0), task, task.val)
    assert right.exact_match == 1.0 and right.digit_accuracy == 1.0
    assert right.edit_distance == 0.0 and right.cross_entropy < 1e-6
    off = sm_measure.measure(Oracle(3, 1), task, task.val)
    assert off.exact_match == 0.0 and off.digit_accuracy == 0.75
    assert off.teacher_forced_accuracy == 0.75 and off.edit_distance == 1.0
    assert off.cross_entropy == pytest.approx(20.0 / 4, rel=1e-3)  # one digit in 4 at -20


def log_spaced(n: int) -> list[int]:
    return [int(1000 * 2**i) for i in range(n)]


def points(em: list[float], ce: list[float], ed: list[float], p: list[float]) -> list[Point]:
    n = log_spaced(len(em))
    return [Point(f"s{i}", n[i], em[i], ce[i], ed[i], p[i] ** 4) for i in range(len(em))]


def test_steepness_is_one_for_a_metric_linear_in_log_parameters_and_n_minus_1_for_a_step():
    n = log_spaced(6)
    line = steepness(n, [0.1 * i for i in range(6)])
    assert line is not None and np.allclose(line.per_step, 1.0)
    step = steepness(n, [0, 0, 0, 1, 1, 1])
    assert step is not None and step.steepest == 2 and step.most == pytest.approx(5.0)
    assert steepness(n, [0.5] * 6) is None


def test_verdict_exact_match_jumps_while_the_cross_entropy_falls_smoothly():
    """Schaeffer et al.'s case: p rises steadily, exact match = p^4 shoots up at the end."""
    p = [0.30, 0.42, 0.55, 0.68, 0.82, 0.97]
    ce = [-math.log(v) for v in p]
    em = [v**4 for v in p]
    judged = verdict(points(em, ce, [4 * (1 - v) for v in p], p), digits=3)
    assert judged.outcome == "metric" and judged.exact_match.most >= SHARP
    assert judged.cross_entropy.most < SHARP and judged.prediction_gap < 1e-9
    text = " ".join(judged.text)
    assert "The jump is the metric's, as Schaeffer et al. argue" in text
    assert "between s4 (16,000 parameters) and s5 (32,000)" in text


def test_verdict_a_jump_in_the_cross_entropy_too_is_in_the_model():
    em = [0.0, 0.0, 0.01, 0.02, 0.9, 0.95]
    ce = [1.8, 1.78, 1.75, 1.72, 0.1, 0.05]
    p = [0.25, 0.26, 0.3, 0.35, 0.97, 0.99]
    judged = verdict(points(em, ce, [4 * (1 - v) for v in p], p), digits=3)
    assert judged.outcome == "model"
    assert "The jump is in the models, not only in the metric" in " ".join(judged.text)


def test_verdict_names_the_sizes_whose_seeds_split_into_runs_that_learnt_and_did_not():
    em = [0.0, 0.0, 0.01, 0.5, 0.99, 1.0]
    p = [0.25, 0.26, 0.3, 0.8, 0.99, 1.0]
    runs = {f"s{i}": [(v, 1.0 - v)] * 2 for i, v in enumerate(em)}
    runs["s3"] = [(0.01, 1.5), (0.99, 0.05)]
    judged = verdict(points(em, [1.5, 1.5, 1.4, 0.8, 0.05, 0.02], [1] * 6, p), 3, runs)
    (split,) = [t for t in judged.text if "the seeds split" in t]
    assert split.startswith("At s3 the seeds split") and "0.050 nats" in split
    assert "1.500 nats" in split
    assert not any("the seeds split" in t for t in verdict(judged_points(em, p), 3).text)


def judged_points(em: list[float], p: list[float]) -> list[Point]:
    return points(em, [1.5 - 0.2 * i for i in range(len(em))], [1.0] * len(em), p)


def test_verdict_a_steady_rise_of_exact_match_is_gradual_and_a_small_one_flat():
    em = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    p = [v**0.25 for v in em]
    smooth = verdict(points(em, [1.5 - 0.3 * i for i in range(6)], [1.0] * 6, p), digits=3)
    assert smooth.outcome == "gradual" and "gradually" in smooth.text[0]
    flat = [0.0, 0.0, 0.01, 0.02, 0.05, 0.15]
    none = verdict(points(flat, [1.5 - 0.1 * i for i in range(6)], [3.0] * 6, [0.3] * 6), 3)
    assert none.outcome == "flat" and "no ability emerges" in none.text[0]
    assert "departs from p^4" in none.text[-1]  # 0.3^4 = 0.008, measured 0.15 at the end


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("scale")
    config = tmp / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    runs = tmp / "runs"
    assert cli.main(["run", str(config), "--runs-dir", str(runs), "--quiet"]) == 0
    (run_dir,) = (runs / TINY["name"]).iterdir()
    return run_dir


@pytest.mark.slow
def test_a_run_measures_every_size_and_writes_the_report(finished):
    counts = []
    for label in LABELS:
        cell = finished / "cells" / label / "seed0"
        result = json.loads((cell / "result.json").read_text())
        rows = [json.loads(line) for line in (cell / "metrics.jsonl").read_text().splitlines()]
        evals = [r for r in rows if r["kind"] == "eval"]
        assert [r["step"] for r in rows if r["kind"] == "train"] == [10, 20, 30, 40]
        assert [r["step"] for r in evals] == [20, 40]
        assert result["exact_match"] == evals[-1]["exact_match"] and result["problems"] == 20
        assert 0 <= result["edit_distance"] <= 2 and result["cross_entropy"] > 0
        counts.append(result["parameters"])
    assert counts == sorted(counts)
    report = (finished / "report.md").read_text()
    for section in ("## Exact match and per-token metrics against parameters", "## Per size",
                    "## Verdict", "## Training curves", "arXiv:2304.15004"):  # fmt: skip
        assert section in report
    assert "no verdict" not in report
    for plot in ("scale", "curves"):
        assert (finished / "plots" / f"{plot}.png").stat().st_size > 1000
    numbers = kinds.KINDS["scale_metrics"].results(finished)
    assert numbers["l1h2d16/parameters"] == counts[-1]
    assert set(numbers) >= {f"{label}/exact_match" for label in LABELS}


@pytest.mark.slow
def test_a_run_interrupted_mid_fit_resumes_to_the_numbers_of_one_never_stopped(
    tmp_path, monkeypatch, finished
):
    cfg = kinds.parse(TINY)
    measure = sm_run.measure
    calls = []

    def stop_in_the_second_size(*args, **kwargs):  # step 40 of l1h1d6, after its checkpoint
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return measure(*args, **kwargs)

    monkeypatch.setattr(sm_run, "measure", stop_in_the_second_size)
    with pytest.raises(Interrupted) as stop:
        kinds.start(cfg, tmp_path, quiet=True)
    run_dir = stop.value.run_dir
    assert (run_dir / "cells/l1h1d4/seed0/result.json").is_file()
    assert not (run_dir / "cells/l1h1d6/seed0/result.json").is_file()
    monkeypatch.setattr(sm_run, "measure", measure)
    kinds.resume(run_dir, quiet=True)
    for label in LABELS:
        cell = f"cells/{label}/seed0"
        a, b = ((d / cell / "metrics.jsonl").read_text().splitlines() for d in (finished, run_dir))
        strip = [{k: v for k, v in json.loads(x).items() if k != "elapsed_s"} for x in a]
        again = [{k: v for k, v in json.loads(x).items() if k != "elapsed_s"} for x in b]
        assert strip == again
        a, b = (json.loads((d / cell / "result.json").read_text()) for d in (finished, run_dir))
        assert {k: a[k] for k in METRICS} == {k: b[k] for k in METRICS}


@pytest.mark.slow
def test_sweep_runs_every_size_as_a_tune_trial_with_the_numbers_of_emergent_run(
    tmp_path, local_ray, finished
):
    outcome = sweep_mod.start_parallel(kinds.parse(TINY), tmp_path / "runs", quiet=True)
    assert outcome.summary()[0] == 0 and (outcome.done, outcome.total) == (5, 5)
    assert outcome.report is not None and "## Verdict" in outcome.report.read_text()
    here = kinds.KINDS["scale_metrics"].results(finished)
    there = kinds.KINDS["scale_metrics"].results(outcome.sweep_dir)
    assert there == pytest.approx(here)  # both train on one thread (`threads`)
