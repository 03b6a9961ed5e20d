"""Generative experiment kinds through the config and the runner."""

from __future__ import annotations

import json

import pytest
import yaml

from emergent import kinds
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
    cfg = kinds.parse(raw)
    assert cfg.model.name == "realnvp" and cfg.train.steps == 10
    assert kinds.parse(kinds.to_dict(cfg)) == cfg


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
        kinds.parse({"name": "x", **raw})
    assert expected in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_pair_learning_curves_run_writes_curves_and_report(tmp_path):
    cfg = kinds.parse(
        {
            "name": "pair",
            "kind": "pair_curves",
            "datasets": ["iris", "digits_binary"],
            "sizes": [10, 40],
            "seeds": 2,
        }
    )
    run_dir = kinds.start(cfg, tmp_path, quiet=True)
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
    single = kinds.parse(
        {
            "name": "flow",
            "kind": "generative",
            "model": {"name": "realnvp"},
            "data": {"name": "moons", "n_train": 2000, "n_val": 500, "n_test": 500},
            "train": {"steps": 30, "batch_size": 128, "log_every": 10},
            "eval": {"samples": 500},
        }
    )
    run_dir = kinds.start(single, tmp_path, quiet=True)
    text = (run_dir / "report.md").read_text()
    assert "KL(data ‖ model)" in text and (run_dir / "plots" / "samples.png").is_file()
    assert (run_dir / "checkpoints" / "fit.pt").is_file()

    zoo = kinds.parse(
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
    run_dir = kinds.start(zoo, tmp_path, quiet=True)
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


@pytest.mark.slow
def test_zoo_cells_run_as_parallel_tune_trials_with_the_same_numbers(tmp_path, one_torch_thread):
    """`emergent sweep` on a zoo runs its cells as Ray Tune trials: the same cells and numbers
    as `emergent run` (one torch thread each, as Tune's trials), the report once all are done,
    and a resumed run computes only what is missing."""
    from emergent import cli
    from emergent.sweep.trial import by_name

    raw = {
        "name": "zoo",
        "kind": "gen_zoo",
        "seeds": 1,
        "datasets": ["moons"],
        "models": {"flow": {"model": "realnvp", "num_layers": 2}, "maf": {"model": "maf"}},
        "train": {"steps": 5, "batch_size": 32, "device": "cpu"},
        "eval": {"samples": 50},
    }
    config = tmp_path / "zoo.yaml"
    config.write_text(yaml.safe_dump(raw))
    argv = [str(config), "--runs-dir", str(tmp_path / "parallel"), "--quiet"]
    assert cli.main(["sweep", *argv, "--max-concurrent", "2"]) == 0
    (parallel,) = (tmp_path / "parallel" / "zoo").iterdir()
    sequential = kinds.start(kinds.parse(raw), tmp_path / "sequential", quiet=True)

    def results(run_dir, close=lambda v: v):
        """Each cell's result, timings left out."""
        found = {}
        for path in sorted((run_dir / "cells").glob("*/*/*/result.json")):
            row = json.loads(path.read_text())
            found[path.parent.relative_to(run_dir)] = {
                k: close(v) if isinstance(v, float) else v
                for k, v in row.items()
                if "seconds" not in k and "per_s" not in k
            }
        return found

    # NumPy's BLAS runs on one thread in a Ray worker and on two here: the last bit of a sum
    # may move, so floats are compared to 1e-9.
    expected = results(sequential, lambda v: pytest.approx(v, rel=1e-9))
    assert results(parallel) == expected and len(expected) == 2
    assert (parallel / "report.md").is_file() and (parallel / "tune").is_dir()
    assert not list(parallel.rglob("claim*.json"))

    # One cell lost: a resumed parallel run recomputes it alone and reports again.
    kind, cfg = kinds.read_run(parallel)
    maf = by_name(kind.trials(cfg, parallel), "moons/maf/seed0")
    (parallel / "cells" / "moons" / "maf" / "seed0" / "result.json").unlink()
    (parallel / "state.json").write_text('{"status": "running"}')
    kept = (parallel / "cells" / "moons" / "flow" / "seed0" / "result.json").stat().st_mtime_ns
    assert not maf.done()
    assert cli.main(["sweep", "--resume", str(parallel), "--quiet"]) == 0
    assert maf.done() and results(parallel) == expected
    assert (
        parallel / "cells" / "moons" / "flow" / "seed0" / "result.json"
    ).stat().st_mtime_ns == kept
