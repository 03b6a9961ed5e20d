"""The diffusion experiment (`kind: diffusion`) through the command line: a tiny run end to end,
its report and targets, resume after an interrupted cell (finished cells kept, a cell held by a
live process left to it), one-line config errors, and the target thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from emergent import cli, kinds
from emergent.kinds.diffusion import run as diffusion_runner
from emergent.kinds.diffusion.run import chain_timesteps
from emergent.kinds.diffusion.speed import speed_dir
from emergent.kinds.diffusion.targets import targets
from emergent.modelfit import cell_dir

ROOT = Path(__file__).resolve().parents[2]

TINY = {
    "name": "diffusion_tiny",
    "kind": "diffusion",
    "seeds": 1,
    "zoo_run": "latest",
    "train": {"batch_size": 64, "lr": 0.002, "ema": 0.99, "steps": 12, "device": "cpu"},
    "pixel": {
        "model": {
            "timesteps": 20,
            "channels": [8, 16],
            "embed_dim": 16,
            "attention": False,
            "class_conditional": True,
            "sample_steps": 4,
        }
    },
    "latent": {
        "model": {
            "timesteps": 20,
            "latent_dim": 4,
            "hidden": [32],
            "embed_dim": 16,
            "vae_hidden": [32],
            "stage1_steps": 6,
            "class_conditional": True,
            "sample_steps": 4,
        }
    },
    "toys": {
        "datasets": ["ring8", "grid25"],
        "data": {"n_train": 300, "n_val": 50, "n_test": 50},
        "model": {"timesteps": 20, "hidden": [32, 32], "embed_dim": 16, "sample_steps": 4},
    },
    "eval": {
        "samples": 60,
        "ddpm_steps": [2, 20],
        "ddim_steps": [2, 4],
        "compare_steps": 4,
        "guidance": [0, 2],
        "guidance_steps": 4,
        "chain_examples": 2,
        "chain_frames": 3,
        "per_class": 2,
    },
}

SECTIONS = (
    "## Targets",
    "## The Markov chains",
    "## Fewer sampling steps: FD against S",
    "## Classifier-free guidance: the trade-off",
    "### Samples per class",
    "## Latent against pixel diffusion",
    "## The toys: modes, high-quality share, KL",
    "## The likelihood bound",
    "## The zoo with the diffusion rows",
)
TARGETS = (
    "| ring8: 8 / 8 modes",
    "| grid25: 25 / 25 modes",
    "| toys: the smallest KL",
    "| digits: DDPM 20 steps FD ≤ 1.5 × the real-data floor",
    "| digits: DDIM 4 steps FD within 10 % of DDPM 20",
    "| digits: a classifier recognises ≥ 95 %",
    "| digits: latent diffusion ≥ 3 × faster",
)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


MINIMAL = {"pixel": {"model": {"class_conditional": True}}}
"""The smallest valid config's sections (every other key has a default)."""


def merged(base: dict, change: dict) -> dict:
    """`base` with `change` written over it, section by section."""
    out = dict(base)
    for key, value in change.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both else value
    return out


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "diffusion.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def fake_zoo(runs: Path) -> None:
    """A zoo run with one VAE cell on ring8, as `emergent run experiments/gen_zoo.yaml`
    leaves it."""
    cell = runs / "gen_zoo" / "20260101-000000" / "cells" / "ring8" / "vae" / "seed0"
    cell.mkdir(parents=True)
    row = {"dataset": "ring8", "view": "ring8", "model": "vae", "label": "vae", "seed": 0}
    row.update(likelihood="bound", nll=1.5, kl=4.35, fd=0.03, modes_covered=8, modes_total=8)
    (cell / "result.json").write_text(json.dumps(row))


@pytest.mark.slow
def test_tiny_run_reports_every_section_and_resumes_after_an_interrupted_cell(
    tmp_path, monkeypatch, capsys
):
    runs = tmp_path / "runs"
    fake_zoo(runs)
    real = diffusion_runner.train_and_evaluate

    def dies_on_grid25(cell, label, *args, **kwargs):
        if "grid25" in cell.parts:
            raise KeyboardInterrupt
        return real(cell, label, *args, **kwargs)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    # 1. Ctrl-C in the pixel cell's guidance sweep, after its training and steps sweep
    guidance_sweep = diffusion_runner.guidance_sweep
    monkeypatch.setattr(diffusion_runner, "guidance_sweep", dies)
    path = write(tmp_path, TINY)
    assert cli.main(["run", str(path), "--runs-dir", str(runs), "--quiet"]) == 130
    (run_dir,) = (runs / "diffusion_tiny").iterdir()
    pixel_cell = cell_dir(run_dir, "digits", "ddpm", 0)
    phases = [pixel_cell / f for f in ("evaluate.json", "sweep.json", "checkpoints/fit.pt")]
    phase_mtimes = [f.stat().st_mtime_ns for f in phases]
    assert not (pixel_cell / "guidance.json").exists()

    # 2. resumed: the finished phases are read back, not recomputed; Ctrl-C in a later cell
    monkeypatch.setattr(diffusion_runner, "guidance_sweep", guidance_sweep)
    monkeypatch.setattr(diffusion_runner, "train_and_evaluate", dies_on_grid25)
    assert cli.main(["run", "--resume", str(run_dir), "--quiet"]) == 130
    assert [f.stat().st_mtime_ns for f in phases] == phase_mtimes
    assert (pixel_cell / "guidance.json").is_file()
    finished = [
        *(cell_dir(run_dir, *c, 0) for c in (("digits", "ddpm"), ("digits", "latent_diffusion"))),
        cell_dir(run_dir, "ring8", "ddpm", 0),
    ]
    mtimes = [(cell / "result.json").stat().st_mtime_ns for cell in finished]
    assert not (cell_dir(run_dir, "grid25", "ddpm", 0) / "result.json").exists()
    assert not (speed_dir(run_dir, 0) / "result.json").exists()  # timed once all cells are done
    assert not (run_dir / "report.md").exists()

    # 3. resumed again: the last cell, then both digits models timed side by side, the report
    monkeypatch.setattr(diffusion_runner, "train_and_evaluate", real)
    assert cli.main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    assert [(cell / "result.json").stat().st_mtime_ns for cell in finished] == mtimes  # kept
    result = json.loads((cell_dir(run_dir, "grid25", "ddpm", 0) / "result.json").read_text())
    assert result["modes_total"] == 25 and result["likelihood"] == "bound"
    assert (speed_dir(run_dir, 0) / "result.json").is_file()

    pixel = json.loads((cell_dir(run_dir, "digits", "ddpm", 0) / "result.json").read_text())
    assert [(r["sampler"], r["steps"]) for r in pixel["sweep"]] == [
        ("ddpm", 2),
        ("ddpm", 20),
        ("ddim", 2),
        ("ddim", 4),
    ]
    assert all(r["fd"] > 0 and r["seconds"] > 0 and r["samples"] == 60 for r in pixel["sweep"])
    assert [r["guidance"] for r in pixel["guidance"]] == [0, 2]
    assert all(0 <= r["accuracy"] <= 1 for r in pixel["guidance"])
    with np.load(cell_dir(run_dir, "digits", "ddpm", 0) / "chains.npz") as f:
        assert f["forward"].shape == f["reverse"].shape == (2, 3, 8, 8)
        assert len(f["timesteps"]) == 2 and f["timesteps"][-1] == 19  # T - 1: pure noise
        assert f["forward"].min() >= 0 and f["forward"].max() <= 1

    speed = json.loads((speed_dir(run_dir, 0) / "result.json").read_text())
    for key in ("pixel_step_s", "latent_step_s", "autoencoder_step_s", "latent_sample_s"):
        assert 0 < speed[key] < 1, key
    text = (run_dir / "report.md").read_text()
    for heading in (*SECTIONS, *TARGETS):
        assert heading in text, heading
    assert "ring8: " in text and "against vae 4.35" in text  # the zoo's KL beside ours
    assert "| vae (ring8) |" in text and "| **ddpm** (ring8) |" in text
    for name in ("chains", "fd_steps", "guidance", "per_class", "samples_ring8"):
        assert (run_dir / "plots" / f"{name}.png").stat().st_size > 5_000, name

    (run_dir / "report.md").unlink()
    capsys.readouterr()
    assert cli.main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.md").read_text() == text


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"toy": {}}, ["unknown key 'toy'", "did you mean 'toys'"]),
        ({"pixel": {"modle": {}}}, ["unknown key 'pixel.modle'"]),
        ({"pixel": {"model": {"chanels": [8]}}}, ["unknown key 'pixel.model.chanels'"]),
        ({"latent": {"train": {"stesp": 3}}}, ["unknown key 'latent.train.stesp'"]),
        ({"train": {"amp": "fp8"}}, ["amp='fp8'", "off, auto, bf16, fp16"]),
        ({"pixel": {"model": {"class_conditional": False}}}, ["class_conditional must be true"]),
        ({"toys": {"datasets": ["digits"]}}, ["'digits' is not a 2-D toy"]),
        ({"eval": {"compare_steps": 7}}, ["compare_steps=7", "ddim_steps"]),
        ({"eval": {"ddpm_steps": [5000]}}, ["eval.ddpm_steps=[5000]", "timesteps=1000"]),
    ],
)
def test_bad_config_is_one_line_with_status_2(tmp_path, capsys, change, fragments):
    raw = merged({"name": "d", "kind": "diffusion"}, MINIMAL)
    path = write(tmp_path, merged(raw, change))
    assert cli.main(["run", str(path), "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_shipped_config_parses_round_trips_and_is_listed(capsys):
    cfg = kinds.load(ROOT / "experiments" / "diffusion.yaml")
    assert kinds.parse(kinds.to_dict(cfg)) == cfg
    assert max(cfg.eval.ddpm_steps) == cfg.pixel.model.timesteps == 1000
    assert cfg.eval.compare_steps == 50 and cfg.pixel.model.p_uncond > 0
    assert cli.main(["list"]) == 0
    assert "experiments/diffusion.yaml" in capsys.readouterr().out


def sweep_cell(ddpm_fd: float, ddim_fd: float, ddim_seconds: float, accuracy: float) -> dict:
    sweep = [
        {"sampler": "ddpm", "steps": 1000, "fd": ddpm_fd, "fd_floor": 1.0, "seconds": 100.0},
        {"sampler": "ddim", "steps": 50, "fd": ddim_fd, "fd_floor": 1.0, "seconds": ddim_seconds},
    ]
    for row in sweep:
        row["per_sample_s"] = row["seconds"] / 1000
    guidance = [
        {"guidance": 0.0, "accuracy": 0.9, "fd": 1.0},
        {"guidance": 2.0, "accuracy": accuracy, "fd": 2.0},
    ]
    return {"sweep": sweep, "guidance": guidance, "steps_per_s": 10.0}


@pytest.mark.parametrize(
    ("cell", "met"),
    [
        (sweep_cell(1.4, 1.5, 5.0, 0.96), ["yes", "yes", "yes"]),
        (sweep_cell(1.6, 1.5, 5.0, 0.96), ["**no**", "yes", "yes"]),  # DDPM > 1.5 x floor
        (sweep_cell(1.0, 1.11, 5.0, 0.96), ["yes", "**no**", "yes"]),  # DDIM 11 % worse
        (sweep_cell(1.0, 1.0, 7.0, 0.94), ["yes", "**no**", "**no**"]),  # 14 x faster; 94 %
    ],
)
def test_digit_targets_apply_their_thresholds(cell, met):
    cfg = kinds.parse(merged({"name": "d", "kind": "diffusion"}, MINIMAL))
    rows = targets(cfg, [cell], [], [], [])
    assert [r[0].split(":")[1].split()[0] for r in rows] == ["DDPM", "DDIM", "a"]
    assert [r[3] for r in rows] == met


def test_chain_frames_are_evenly_spaced_in_the_signal_left():
    from generative.models.diffusion.schedules import alpha_bars, make_betas

    alpha_bar = alpha_bars(make_betas("linear", 1000))
    ts = chain_timesteps(alpha_bar, 5)
    assert ts.tolist() == sorted(ts.tolist()) and ts[-1] == 999
    signal = alpha_bar[ts].sqrt().numpy()  # the share of x_0 left in x_t
    assert np.abs(signal - [0.75, 0.5, 0.25, 0.0]).max() < 0.01
