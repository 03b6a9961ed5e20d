"""Generative experiment kinds through the config and the runner."""

from __future__ import annotations

import json

import pytest

from emergent import config, runner
from emergent.errors import UserError


def test_generative_configs_validate_and_round_trip():
    raw = {
        "name": "flow",
        "kind": "generative",
        "seed": 1,
        "model": {"name": "realnvp"},
        "data": {"name": "moons"},
        "train": {"steps": 10, "batch_size": 64},
    }
    cfg = config.parse(raw)
    assert cfg.model.name == "realnvp" and cfg.train.steps == 10
    assert config.parse(config.to_dict(cfg)) == cfg


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"kind": "generative", "model": {"name": "glow"}, "data": {"name": "moons"}},
            "unknown model 'glow'",
        ),
        (
            {"kind": "generative", "model": {"name": "vae"}, "data": {"name": "mnist"}},
            "unknown dataset 'mnist'",
        ),
        (
            {"kind": "generative", "model": {"name": "vae", "latnt": 3}, "data": {"name": "moons"}},
            "unknown key 'model.latnt'",
        ),
        (
            {
                "kind": "generative",
                "model": {"name": "vae"},
                "data": {"name": "moons"},
                "train": {"lr": -1},
            },
            "lr=-1",
        ),
        ({"kind": "pair_curves", "datasets": ["wine"], "seeds": 1}, "seeds=1"),
        ({"kind": "pair_curves", "datasets": ["cifar"]}, "unknown dataset 'cifar'"),
        (
            {"kind": "gen_zoo", "datasets": ["moons"], "models": {"a": {"model": "nope"}}},
            "unknown model 'nope'",
        ),
        ({"kind": "score_sde"}, "kind 'score_sde' is not known"),
    ],
)
def test_bad_generative_configs_are_one_line_errors(raw, expected):
    with pytest.raises(UserError) as err:
        config.parse({"name": "x", **raw})
    assert expected in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_pair_learning_curves_run_writes_curves_and_report(tmp_path):
    cfg = config.parse(
        {
            "name": "pair",
            "kind": "pair_curves",
            "datasets": ["iris", "digits_binary"],
            "sizes": [10, 40],
            "seeds": 2,
        }
    )
    run_dir = runner.start(cfg, config.to_dict(cfg), tmp_path, quiet=True)
    result = json.loads((run_dir / "pair" / "digits_binary.json").read_text())
    assert set(result["summary"]) == {"nb", "lr", "nb_mismatched"}
    assert result["sizes"] == [10, 40] and result["nb_variant"] == "BernoulliNB"
    for curve in result["summary"].values():
        assert all(0.0 <= e <= 1.0 for e in curve["mean"])
    assert (run_dir / "plots" / "learning_curves.png").stat().st_size > 10_000
    text = (run_dir / "report.md").read_text()
    assert "| digits_binary | BernoulliNB |" in text and "Why the choice" in text


@pytest.mark.slow
def test_single_generative_run_and_a_tiny_zoo(tmp_path):
    single = config.parse(
        {
            "name": "flow",
            "kind": "generative",
            "model": {"name": "realnvp"},
            "data": {"name": "moons", "n_train": 2000, "n_val": 500, "n_test": 500},
            "train": {"steps": 30, "batch_size": 128, "log_every": 10},
            "eval": {"samples": 500},
        }
    )
    run_dir = runner.start(single, config.to_dict(single), tmp_path, quiet=True)
    text = (run_dir / "report.md").read_text()
    assert "KL(data ‖ model)" in text and (run_dir / "plots" / "samples.png").is_file()
    assert (run_dir / "checkpoints" / "fit.pt").is_file()

    zoo = config.parse(
        {
            "name": "zoo",
            "kind": "gen_zoo",
            "seeds": 1,
            "datasets": ["moons", "digits"],
            "models": {
                "nb": {"model": "categorical_nb"},
                "flow": {"model": "realnvp"},
                "vae": {"model": "vae", "latent_dim": 4, "hidden": [32]},
                "gan": {"model": "gan", "lr": 2e-4},
            },
            "train": {"steps": 20, "batch_size": 64},
            "eval": {"samples": 300, "iwae_k": 5},
            "code_sizes": [2],
        }
    )
    run_dir = runner.start(zoo, config.to_dict(zoo), tmp_path, quiet=True)
    results = {(p.parts[-4], p.parts[-3]) for p in (run_dir / "cells").glob("*/*/*/result.json")}
    assert results == {
        ("moons", "flow"),
        ("moons", "vae"),
        ("moons", "gan"),
        ("digits", "nb"),
        ("digits", "flow"),
        ("digits", "vae"),
        ("digits", "gan"),
    }
    text = (run_dir / "report.md").read_text()
    assert "## moons" in text and "## digits" in text and "Autoencoders against PCA" in text
    assert "lecture's claims" in text
    assert (run_dir / "plots" / "samples_digits.png").stat().st_size > 5_000


def test_claims_share_a_zoo_between_processes(tmp_path, monkeypatch):
    import socket
    import subprocess
    import sys

    from emergent import gen_runner, rundir

    here = tmp_path / "claim.json"
    assert gen_runner.claim(here) and gen_runner.claim(here)  # ours, and still ours
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        here.write_text(json.dumps({"host": socket.gethostname(), "pid": holder.pid}))
        assert not gen_runner.claim(here)  # a live process holds it
        raw = {
            "name": "zoo",
            "kind": "gen_zoo",
            "seeds": 1,
            "datasets": ["moons"],
            "models": {"flow": {"model": "realnvp", "num_layers": 2}, "maf": {"model": "maf"}},
            "train": {"steps": 5, "batch_size": 32},
            "eval": {"samples": 50},
        }
        zoo = config.parse(raw)
        cell = tmp_path / "runs"
        run_dir = runner.start(zoo, raw, cell, quiet=True)
        claimed = gen_runner.cell_dir(run_dir, "moons", "maf", 0)
        assert (gen_runner.cell_dir(run_dir, "moons", "flow", 0) / "result.json").is_file()
        # the holder took "maf" before we started: it is left to it, no report yet
        claimed.mkdir(parents=True, exist_ok=True)
        (claimed / "result.json").unlink(missing_ok=True)
        (claimed / "claim.json").write_text(here.read_text())
        rundir.write_state(run_dir, status="running")
        runner.resume(run_dir, quiet=True)
        assert not (claimed / "result.json").is_file()
        assert rundir.read_state(run_dir)["status"] == "running"
        # the holder finishes after our pass skipped its cell: we end last, so we report
        flow = json.loads(
            (gen_runner.cell_dir(run_dir, "moons", "flow", 0) / "result.json").read_text()
        )
        finished = {**flow, "model": "maf", "label": "maf"}
        table = gen_runner.reconstruction_table

        def holder_finishes_meanwhile(*args):
            (claimed / "result.json").write_text(json.dumps(finished))
            return table(*args)

        monkeypatch.setattr(gen_runner, "reconstruction_table", holder_finishes_meanwhile)
        runner.resume(run_dir, quiet=True)
        assert rundir.read_state(run_dir)["status"] == "done"
        assert "maf" in (run_dir / "report.md").read_text()
        monkeypatch.undo()
        (claimed / "result.json").unlink()
        (run_dir / "report.md").unlink()
        rundir.write_state(run_dir, status="running")
    finally:
        holder.kill()
        holder.wait()
    runner.resume(run_dir, quiet=True)  # the holder died: its cell is taken over
    assert (claimed / "result.json").is_file() and not (claimed / "claim.json").exists()
    assert rundir.read_state(run_dir)["status"] == "done"
    assert (run_dir / "report.md").is_file()
