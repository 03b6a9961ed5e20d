"""`emergent sweep` on a real local Ray: every trial runs in its own run directory and is
aggregated across seeds; mistakes are one line; a partial sweep resumes with its finished
trials kept as they are, never unpickling Tune's saved state."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from emergent import cli, kinds, rundir
from emergent.logger import read_rows
from emergent.sweep import config as sweep_config
from emergent.sweep import run as sweep_mod
from tests.conftest import tiny_raw

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TINY_PPO = {
    "kind": "ppo",
    "num_steps": 20,
    "num_minibatches": 2,
    "update_epochs": 2,
    "conv_channels": [8],
    "hidden_sizes": [32],
}


def tiny_sweep(**section: object) -> dict:
    """2 agents on a 5x10 map, 1,600 agent-steps per trial, evaluated at 800 and 1,600."""
    raw = tiny_raw(steps=1600, eval_every=800, checkpoint_every=400)
    return {**raw, "agent": dict(TINY_PPO), "sweep": {"seeds": 2, **section}}


def final_return(sweep_dir: Path, name: str) -> float:
    rows = read_rows(sweep_config.trial_dir(sweep_dir, name) / "metrics.jsonl")
    return [r for r in rows if r.get("policy") == "learned"][-1]["return"]


def test_every_trial_runs_reports_to_tune_and_is_aggregated_across_seeds(tmp_path, local_ray):
    sweep = sweep_config.parse(tiny_sweep(grid={"env.regrowth_scale": [0.5, 2.0]}))
    outcome = sweep_mod.start(sweep, tmp_path / "runs", quiet=True)

    assert outcome.summary()[0] == 0 and (outcome.done, outcome.total) == (4, 4)
    sweep_dir = outcome.sweep_dir
    for trial in sweep.trials:
        path = sweep_config.trial_dir(sweep_dir, trial.name)
        assert rundir.read_state(path) == {"status": "done", "agent_steps": 1600}
        _, cfg = kinds.read_run(path)
        assert cfg == trial.config  # an ordinary run directory with the trial's own config
        evals = [r["step"] for r in read_rows(path / "metrics.jsonl") if r["kind"] == "eval"]
        assert evals == [0, 800, 1600]  # random at 0, learned at 800 and 1,600
        tune_rows = read_rows(sweep_dir / "tune" / trial.name / "result.json")
        assert [r["agent_steps"] for r in tune_rows] == [800, 1600]  # one report per eval

    data = json.loads((sweep_dir / "aggregate.json").read_text())
    assert [s["setting"] for s in data["settings"]] == sweep.settings
    for entry in data["settings"]:
        names = [f"{entry['setting']},seed={s}" for s in entry["seeds"]]
        assert entry["seeds"] == [0, 1]
        score = entry["metrics"]["return"]
        assert score["n"] == 2
        assert score["mean"] == pytest.approx(np.mean([final_return(sweep_dir, n) for n in names]))
        assert score["ci_low"] <= score["mean"] <= score["ci_high"]
        assert set(entry["metrics"]) >= {"efficiency", "equality", "sustainability", "peace"}
    text = (sweep_dir / "report.md").read_text()
    assert "IQM [95% CI]" in text and "| env.regrowth_scale=2.0 | 2 |" in text
    assert "## What the sweep shows" in text
    # each seed's detected transitions and roles, aggregated per setting (emergence.across_seeds)
    assert text.index("## Emergence") < text.index("## What the sweep shows")
    found = json.loads((sweep_dir / "emergence.json").read_text())
    assert found["verdict"] and found["table"]["columns"][0] == "setting"
    assert all((sweep_config.trial_dir(sweep_dir, t.name) / "emergence.json").is_file()
               for t in sweep.trials)  # fmt: skip
    for name in ("final_return", "profile", "learning_curves", "against_parameter"):
        assert (sweep_dir / "plots" / f"{name}.png").stat().st_size > 5_000

    # a finished sweep: --resume runs nothing again; `emergent report` rebuilds from disk
    before = {
        t.name: (sweep_dir / "trials" / t.name / "metrics.jsonl").read_text() for t in sweep.trials
    }
    assert sweep_mod.resume(sweep_dir, quiet=True).done == 4
    for name, rows in before.items():
        assert (sweep_dir / "trials" / name / "metrics.jsonl").read_text() == rows
    (sweep_dir / "report.md").unlink()
    assert cli.main(["report", str(sweep_dir)]) == 0
    assert (sweep_dir / "report.md").read_text() == text


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["sweep", "CFG", "sweep.max_concurency=2"], ["sweep.max_concurency", "did you mean"]),
        (["sweep", "CFG", "sweep.grid.env.regrowth_scale=[1, -2]"], ["regrowth_scale=-2", ">= 0"]),
        (["sweep", "CFG", "--address", "127.0.0.1:1"], ["127.0.0.1:1", "ray start --head"]),
        (["sweep", "--resume", "RUNS"], ["not found"]),
        (["run", "CFG"], ["sweep: section", "emergent sweep"]),
    ],
)
def test_bad_sweep_input_is_one_line_with_status_2_and_leaves_nothing(
    tmp_path, capsys, argv, fragments
):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep()))
    runs = tmp_path / "runs"
    argv = [{"CFG": str(path), "RUNS": str(runs)}.get(a, a) for a in argv]
    assert cli.main([*argv, *(["--runs-dir", str(runs)] if "--resume" not in argv else [])]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0]
    assert not runs.exists()  # nothing half-made


def test_the_command_prints_a_bad_sweep_config_as_one_line_without_traceback(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep(seedz=3)))
    result = subprocess.run(
        [sys.executable, "-m", "emergent", "sweep", str(path), "--runs-dir", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "emergent: error: config: unknown key 'sweep.seedz'; did you mean 'seeds'? allowed: "
        "grid, seeds, sample, num_samples, max_concurrent, resources, max_failures"
    )
    assert not (tmp_path / "r").exists()


def test_failed_trial_resumes_and_finished_trials_are_kept(tmp_path, local_ray):
    sweep = sweep_config.parse(tiny_sweep(max_failures=0))
    sweep_dir = sweep_mod.create(sweep, tmp_path / "runs")
    bad = sweep_config.trial_dir(sweep_dir, "seed=1") / "checkpoints" / "step_000000000400.pt"
    bad.parent.mkdir()
    bad.write_bytes(b"not a checkpoint")  # the trial fails when it tries to resume from it

    outcome = sweep_mod.execute(sweep_dir, quiet=True)
    status, message = outcome.summary()
    assert (status, outcome.done, outcome.failed) == (1, 1, ("seed=1",))
    assert f"emergent sweep --resume {sweep_dir}" in message
    assert "| seed=1 | failed |" in outcome.report.read_text()
    kept = sweep_config.trial_dir(sweep_dir, "seed=0")
    rows_before = (kept / "metrics.jsonl").read_text()

    bad.unlink()
    marker = tmp_path / "planted_code_ran"

    class Planted:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for name in ("tuner.pkl", "trainable.pkl"):  # what Tuner.restore would unpickle
        (sweep_dir / "tune" / name).write_bytes(pickle.dumps(Planted()))
    outcome = sweep_mod.resume(sweep_dir, quiet=True)
    assert not marker.exists()
    assert (outcome.summary()[0], outcome.done, outcome.failed) == (0, 2, ())
    assert (kept / "metrics.jsonl").read_text() == rows_before
    assert len(read_rows(kept / "attempts.jsonl")) == 1  # the finished trial did not run again
    redone = sweep_config.trial_dir(sweep_dir, "seed=1")
    assert [a["start_step"] for a in read_rows(redone / "attempts.jsonl")] == [400, 0]
    assert rundir.read_state(redone)["status"] == "done"


def test_any_kind_sweeps_a_generative_model_is_aggregated_on_its_metric(tmp_path, local_ray):
    """A `sweep:` section on a generative model: settings x seeds as Tune trials, each an
    ordinary run, the report aggregating the kind's headline metric (test NLL) across seeds."""
    raw = {
        "name": "vae_sweep",
        "kind": "generative",
        "model": {"name": "vae", "latent_dim": 2, "hidden": [16]},
        "data": {"name": "moons", "n_train": 300, "n_val": 50, "n_test": 100},
        "train": {"steps": 20, "batch_size": 64, "device": "cpu"},
        "eval": {"samples": 100, "iwae_k": 4},
        "sweep": {"grid": {"model.latent_dim": [1, 2]}, "seeds": 2},
    }
    sweep = sweep_config.parse(raw)
    assert [t.name for t in sweep.trials] == [
        "model.latent_dim=1,seed=0",
        "model.latent_dim=1,seed=1",
        "model.latent_dim=2,seed=0",
        "model.latent_dim=2,seed=1",
    ]
    outcome = sweep_mod.start(sweep, tmp_path / "runs", quiet=True)
    assert outcome.summary()[0] == 0 and (outcome.done, outcome.total) == (4, 4)
    data = json.loads((outcome.sweep_dir / "aggregate.json").read_text())
    assert data["score"] == "nll"
    for entry in data["settings"]:
        nlls = [
            kinds.KINDS["generative"].results(
                sweep_config.trial_dir(outcome.sweep_dir, f"{entry['setting']},seed={s}")
            )["nll"]
            for s in entry["seeds"]
        ]
        assert entry["metrics"]["nll"]["mean"] == pytest.approx(np.mean(nlls))
    text = outcome.report.read_text()
    assert "## Final nll across seeds" in text and "| model.latent_dim=2 | 2 |" in text
    assert not (outcome.sweep_dir / "plots" / "learning_curves.png").exists()
