"""`kind: grokking`: configs, a tiny run end to end, resume, the report and its verdicts, the
Fourier probe, the MLP recipe that groks where the default MLP does not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from emergent import cli, kinds
from emergent.errors import Interrupted, UserError
from emergent.kinds.grokking import fourier
from emergent.kinds.grokking import report as grok_report
from emergent.kinds.grokking import run as grok_run

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "name": "grok_tiny",
    "kind": "grokking",
    "task": {"p": 11, "train_fraction": 0.6},
    "model": {"name": "mlp", "embed_dim": 16, "hidden": [32]},
    "train": {"epochs": 120, "lr": 0.01, "eval_every": 10, "checkpoint_every": 40, "device": "cpu"},
    "weight_decays": [0.1, 1.0],
    "seeds": 2,
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("grok")
    config = tmp / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    runs = tmp / "runs"
    assert cli.main(["run", str(config), "--runs-dir", str(runs), "--quiet"]) == 0
    (run_dir,) = (runs / TINY["name"]).iterdir()
    return run_dir


def test_the_shipped_experiments_parse_and_round_trip():
    for name in ("grokking", "grokking_transformer"):
        cfg = kinds.load(ROOT / "experiments" / f"{name}.yaml")
        assert kinds.parse(kinds.to_dict(cfg)) == cfg
    cfg = kinds.load(ROOT / "experiments" / "grokking.yaml")
    assert (cfg.task.p, cfg.task.train_fraction, cfg.train.lr) == (53, 0.6, 0.03)
    assert cfg.model.options.context == 3 and cfg.weight_decays == (0.03, 5.0)
    assert list(cfg.trial_seeds) == [0, 1, 2] and cfg.train.epochs == 10_000
    assert (cfg.model.options.activation, cfg.model.options.embed_init_std) == ("relu", 0.1)
    assert cfg.train.threads == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"task": {"p": 1}}, "task: p=1; must be from 2"),
        ({"task": {"train_fraction": 1.0}}, "train_fraction=1.0; must leave at least one"),
        ({"task": {"pp": 3}}, "unknown key 'task.pp'; did you mean 'p'?"),
        ({"train": {"epoch": 3}}, "unknown key 'train.epoch'; did you mean 'epochs'?"),
        ({"train": {"lr": 0}}, "train: lr=0.0; must be from"),
        ({"train": {"threads": -1}}, "train: threads=-1; must be from 0"),
        ({"weight_decays": []}, "weight_decays=[]; give 1 to 16"),
        ({"weight_decays": [-1]}, "weight_decays: -1.0; each must be from 0"),
        ({"seeds": 0}, "seeds=0; give 1 to 64"),
        ({"seed": 2**32 - 1}, "the last of 2 seeds passes"),
        ({"model": {"name": "vae"}}, "model.name: 'vae'; allowed: mlp, transformer"),
        ({"model": {"name": "mlp", "context": 2}}, "model.context=2; must be at least 3"),
        ({"model": {"name": "transformer", "block_size": 2}}, "model.block_size=2"),
        ({"model": {"name": "mlp", "embeddim": 2}}, "unknown key 'model.embeddim'"),
        ({"epochs": 3}, "unknown key 'epochs'"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_key(change, expected):
    with pytest.raises(UserError) as err:
        kinds.parse({**TINY, **change})
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_bad_key_from_the_command_line_is_one_line_with_status_2(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({**TINY, "train": {"eval_evry": 5}}))
    assert cli.main(["run", str(config), "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "unknown key 'train.eval_evry'; did you mean 'eval_every'?" in line


def test_a_run_measures_every_trial_and_writes_the_report(finished):
    for wd in ("0.1", "1"):
        for seed in (0, 1):
            cell = finished / "cells" / f"wd{wd}" / f"seed{seed}"
            result = json.loads((cell / "result.json").read_text())
            rows = [json.loads(line) for line in (cell / "metrics.jsonl").read_text().splitlines()]
            assert [r["step"] for r in rows] == list(range(10, 121, 10))
            assert result["memorised_epoch"] is not None  # 73 pairs are memorised fast
            first = next(r["step"] for r in rows if r["train_acc"] >= 0.99)
            assert result["memorised_epoch"] == first
            assert np.load(cell / "embedding_final.npy").shape == (11, 16)
            assert (cell / "embedding_memorised.npy").is_file()
    report = (finished / "report.md").read_text()
    for section in ("## Memorisation and generalisation", "## Targets", "## Accuracy",
                    "## Weight norm", "## Fourier structure of the embeddings"):  # fmt: skip
        assert section in report
    assert "- Weight decay 0.1: generalisation at least 20×" in report
    assert "- Weight decay 1: generalisation at most 5×" in report
    for plot in ("accuracy", "weight_norm", "fourier"):
        assert (finished / "plots" / f"{plot}.png").stat().st_size > 1000
    numbers = kinds.KINDS["grokking"].results(finished)
    assert numbers["wd0.1/memorised_epoch"] > 0


@pytest.mark.parametrize(
    ("small", "control", "verdicts"),
    [
        ([127.3, 25.0], [2.0, 5.0], ["**met** (127.3×, 25.0×)", "**met** (2.0×, 5.0×)"]),
        ([127.3, 19.0], [2.0, 5.5], ["**missed** (127.3×, 19.0×)", "**missed** (2.0×, 5.5×)"]),
        ([127.3, None], [2.0, None], ["**missed**: 1 of 2 seeds never", "**missed**: 1 of 2"]),
    ],
)
def test_the_targets_are_judged_from_every_seeds_ratio(small, control, verdicts):
    cfg = kinds.parse(TINY)  # weight decays 0.1 (at least 20x) and 1 (the control, at most 5x)
    found = {
        wd: {seed: {"ratio": ratio} for seed, ratio in enumerate(ratios)}
        for wd, ratios in ((0.1, small), (1.0, control))
    }
    lines = [line for line in grok_report.target_lines(cfg, found) if line.startswith("- ")]
    assert lines[0].startswith("- Weight decay 0.1: generalisation at least 20×")
    assert lines[1].startswith("- Weight decay 1: generalisation at most 5×")
    for line, verdict in zip(lines, verdicts, strict=True):
        assert verdict in line, line
    found[1.0] = {0: found[1.0][0], 1: None}
    assert "not every seed has finished; no verdict" in grok_report.target_lines(cfg, found)[3]


def test_measuring_leaves_the_training_untouched(tmp_path):
    """Rows every epoch or every 30 epochs: the same weights at epoch 60."""
    finals = []
    for every in (1, 30):
        raw = {**TINY, "train": {**TINY["train"], "epochs": 60, "eval_every": every},
               "weight_decays": [0.1], "seeds": 1}  # fmt: skip
        run_dir = kinds.start(kinds.parse(raw), tmp_path / str(every), quiet=True)
        finals.append(np.load(run_dir / "cells/wd0.1/seed0/embedding_final.npy"))
    np.testing.assert_array_equal(finals[0], finals[1])


def test_a_run_interrupted_mid_fit_resumes_to_the_numbers_of_one_never_stopped(
    tmp_path, monkeypatch
):
    raw = {**TINY, "weight_decays": [0.1]}
    cfg = kinds.parse(raw)
    never_stopped = kinds.start(cfg, tmp_path / "a", quiet=True)

    measure = grok_run.measure
    calls = []

    def stop_in_the_second_trial(*args, **kwargs):  # epoch 90 of seed 1, after the 80th
        calls.append(1)
        if len(calls) == 12 + 9:
            raise KeyboardInterrupt
        return measure(*args, **kwargs)

    monkeypatch.setattr(grok_run, "measure", stop_in_the_second_trial)
    with pytest.raises(Interrupted) as stop:
        kinds.start(cfg, tmp_path / "b", quiet=True)
    run_dir = stop.value.run_dir
    assert (run_dir / "cells/wd0.1/seed0/result.json").is_file()
    assert not (run_dir / "cells/wd0.1/seed1/result.json").is_file()
    monkeypatch.setattr(grok_run, "measure", measure)
    kinds.resume(run_dir, quiet=True)
    for seed in (0, 1):
        cell = f"cells/wd0.1/seed{seed}"
        a, b = (
            (d / cell / "metrics.jsonl").read_text().splitlines() for d in (never_stopped, run_dir)
        )
        strip = [{k: v for k, v in json.loads(x).items() if k != "elapsed_s"} for x in a]
        again = [{k: v for k, v in json.loads(x).items() if k != "elapsed_s"} for x in b]
        assert strip == again
        np.testing.assert_array_equal(
            np.load(never_stopped / cell / "embedding_final.npy"),
            np.load(run_dir / cell / "embedding_final.npy"),
        )


@pytest.mark.parametrize(
    ("activation", "embed_init_std", "groks"), [("relu", 0.1, True), ("tanh", 1.0, False)]
)
def test_relu_and_small_embeddings_generalise_where_the_default_mlp_does_not(
    tmp_path, activation, embed_init_std, groks
):
    """(a + b) mod 23 at weight decay 1: the shipped recipe generalises by epoch 400, a few
    times later than it memorises (measured: epochs 30 and 140); Bengio's tanh MLP with
    N(0, 1) embeddings memorises as fast but has not generalised (41 % at epoch 400)."""
    model = {"name": "mlp", "embed_dim": 32, "hidden": [64], "activation": activation,
             "embed_init_std": embed_init_std}  # fmt: skip
    raw = {**TINY, "task": {"p": 23, "train_fraction": 0.8}, "model": model,
           "train": {**TINY["train"], "epochs": 400, "lr": 0.03, "checkpoint_every": 400},
           "weight_decays": [1.0], "seeds": 1}  # fmt: skip
    run_dir = kinds.start(kinds.parse(raw), tmp_path, quiet=True)
    result = json.loads((run_dir / "cells/wd1/seed0/result.json").read_text())
    assert result["memorised_epoch"] <= 100, result
    if groks:
        assert result["generalised_epoch"] >= 2 * result["memorised_epoch"], result
        assert result["final_val_acc"] >= 0.95
    else:
        assert result["generalised_epoch"] is None and result["final_val_acc"] < 0.8, result


def test_a_trial_trains_with_its_threads_and_restores_them(tmp_path):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        raw = {**TINY, "train": {**TINY["train"], "epochs": 20, "threads": 1},
               "weight_decays": [1.0], "seeds": 1}  # fmt: skip
        run_dir = kinds.start(kinds.parse(raw), tmp_path, quiet=True)
        assert json.loads((run_dir / "cells/wd1/seed0/result.json").read_text())["threads"] == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_fourier_probe_finds_the_frequencies_of_a_trigonometric_embedding():
    p, a = 23, np.arange(23)
    rng = np.random.default_rng(0)
    waves = [np.cos(2 * np.pi * k * a / p + phase) for k in (3, 7) for phase in (0.0, 1.0)]
    embedding = np.stack(waves, axis=1) @ rng.normal(size=(4, 16))  # (p, 16)
    power = fourier.frequency_power(embedding)
    assert power.shape == (11,) and np.isclose(power.sum(), 1.0)
    assert sorted(fourier.key_frequencies(power, 2)) == [3, 7]
    assert fourier.top_share(power, 2) > 0.999
    noise = fourier.frequency_power(rng.normal(size=(p, 64)))
    assert fourier.top_share(noise, 2) < 0.4  # spread: about 2 / 11 of the power


def test_the_transformer_trains_on_the_same_problems(tmp_path):
    raw = {
        **TINY,
        "model": {"name": "transformer", "n_layer": 1, "n_head": 2, "n_embd": 16},
        "train": {**TINY["train"], "epochs": 100, "lr": 0.01},
        "weight_decays": [1.0],
        "seeds": 1,
    }
    run_dir = kinds.start(kinds.parse(raw), tmp_path, quiet=True)
    result = json.loads((run_dir / "cells/wd1/seed0/result.json").read_text())
    assert result["final_train_acc"] > 0.5  # 73 pairs, far above chance (1 / 11)
    assert np.load(run_dir / "cells/wd1/seed0/embedding_final.npy").shape == (11, 16)
