"""The world-model experiment (`kind: world_model`) through the config, the runner and the
command line: a tiny run end to end, a run stopped in a fit resuming to the numbers of one never
stopped, and one-line config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import agents.world_models as world_models
from emergent import cli, kinds
from emergent.errors import Interrupted, UserError
from emergent.kinds.world_model import measure

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "name": "wm_tiny",
    "kind": "world_model",
    "seed": 2,
    "env": {"name": "wolfpack", "max_steps": 24},
    "data": {"steps": 2_000, "num_envs": 4, "length": 8},
    "model": {
        "family": "vae_rnn",
        "latent_dim": 4,
        "channels": [4],
        "hidden": [16],
        "rnn_hidden": 16,
        "mixtures": 2,
    },
    "train": {
        "threads": 1,
        "vae": {"steps": 30, "batch_size": 32, "log_every": 5, "checkpoint_every": 10},
        "rnn": {"steps": 30, "batch_size": 8, "log_every": 5, "checkpoint_every": 10},
    },
    "eval": {"horizon": 5, "segments": 16, "gifs": 1, "throughput_envs": 4,
             "temperatures": [1.0, 0.5]},
}  # fmt: skip


def result(run_dir: Path) -> dict:
    return json.loads((run_dir / "result.json").read_text())


def test_a_tiny_run_end_to_end_saves_a_model_and_measures_it(tmp_path, capsys):
    path = tmp_path / "wm.yaml"
    path.write_text(yaml.safe_dump(TINY))
    assert cli.main(["run", "--quiet", "--runs-dir", str(tmp_path / "runs"), str(path)]) == 0
    run_dir = next((tmp_path / "runs" / "wm_tiny").iterdir())
    found = result(run_dir)
    errors = found["errors"]
    assert len(errors["copy_last"]) == 5 and set(errors["model"]) == {"1", "0.5"}
    assert found["one_step_reduction"] == pytest.approx(
        1 - errors["model"]["1"][0] / errors["copy_last"][0]
    )
    assert 0 <= found["reward_accuracy"] <= 1 and found["throughput"]["batch_size"] == 4
    saved = world_models.load(run_dir / "world_model.pt")
    assert saved.world["name"] == "wolfpack" and saved.world["options"]["max_steps"] == 24
    report = (run_dir / "report.md").read_text()
    for words in (
        "## Open-loop prediction",
        "## Rewards",
        "## Throughput",
        "real_vs_imagined_0.gif",
    ):
        assert words in report
    assert (run_dir / "episodes" / "real_vs_imagined_0.gif").stat().st_size > 0
    assert (run_dir / "plots" / "open_loop.png").is_file()


def test_a_run_stopped_in_the_second_stage_resumes_to_the_numbers_of_one_never_stopped(
    tmp_path, monkeypatch
):
    cfg = kinds.parse(TINY)
    never_stopped = kinds.start(cfg, tmp_path / "a", quiet=True)
    errors = measure.errors
    monkeypatch.setattr(measure, "errors", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(Interrupted) as stop:
        kinds.start(cfg, tmp_path / "b", quiet=True)
    run_dir = stop.value.run_dir
    assert (run_dir / "world_model.pt").is_file() and not (run_dir / "result.json").exists()
    # now stopped in the middle of M's fit, after its checkpoint at step 10
    (run_dir / "world_model.pt").unlink()
    from emergent import modelfit

    real_fit = modelfit.fit

    def stopped(*args, on_log=None, **kwargs):
        def log(row):
            on_log(row)
            if kwargs.get("description", "").endswith("rnn") and row["step"] == 15:
                raise KeyboardInterrupt

        return real_fit(*args, on_log=log, **kwargs)

    rnn_checkpoint = run_dir / "fit" / "rnn" / "checkpoints" / "fit.pt"
    rnn_checkpoint.unlink()
    (run_dir / "fit" / "rnn" / "metrics.jsonl").unlink()
    monkeypatch.setattr(measure, "errors", errors)
    monkeypatch.setattr(modelfit, "fit", stopped)
    with pytest.raises(Interrupted):
        kinds.resume(run_dir, quiet=True)
    monkeypatch.setattr(modelfit, "fit", real_fit)
    kinds.resume(run_dir, quiet=True)
    timings = ("fit_seconds", "throughput")
    a, b = result(never_stopped), result(run_dir)
    assert {k: v for k, v in b.items() if k not in timings} == {
        k: v for k, v in a.items() if k not in timings
    }
    steps = [json.loads(line)["step"] for line in
             (run_dir / "fit" / "rnn" / "metrics.jsonl").read_text().splitlines()]  # fmt: skip
    assert steps == [5, 10, 15, 20, 25, 30]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"model": {"family": "gan"}}, "model.family: unknown 'gan'"),
        ({"model": {"family": "vae_rnn", "latent": 3}}, "unknown key 'model.latent'"),
        ({"env": {"name": "spread"}}, "need agents that see"),
        ({"env": {"name": "wolfpack", "max_steps": 4}}, "data.length=8; at most"),
        ({"eval": {"horizon": 9}}, "eval.horizon=9"),
        ({"train": {"vae": {"steps": 0}}}, "train.vae"),
        ({"train": {"diffusion": {}}}, "unknown key 'train.diffusion'"),
        (
            {"eval": {**TINY["eval"], "ddpm_baseline": True}},
            "ddpm_baseline needs model.family 'diffusion'",
        ),
        (
            {
                "model": {
                    "family": "diffusion",
                    "objective": "ddpm",
                    "sampler": "ddpm",
                    "context": 2,
                },
                "train": {"diffusion": {}},
            },
            "'edm' needs the EDM-trained denoiser",
        ),
        (
            {
                "model": {
                    "family": "diffusion",
                    "objective": "ddpm",
                    "sampler": "ddpm",
                    "context": 2,
                },
                "train": {"diffusion": {}},
                "eval": {**TINY["eval"], "samplers": ["ddpm"], "ddpm_baseline": True},
            },
            "DDPM-trained already",
        ),
    ],
)
def test_config_mistakes_are_one_line(change, words):
    with pytest.raises(UserError, match=words) as err:
        kinds.parse({**TINY, **change})
    assert "\n" not in str(err.value)


def test_the_config_round_trips():
    cfg = kinds.parse(TINY)
    assert kinds.parse(kinds.to_dict(cfg)) == cfg


def test_a_tiny_diffusion_run_compares_the_samplers(tmp_path):
    raw = {
        **TINY,
        "model": {"family": "diffusion", "context": 2, "channels": [8, 8], "embed_dim": 16,
                  "head_channels": [4], "head_dim": 8},
        "train": {"threads": 1, "diffusion": {"steps": 20, "batch_size": 16, "log_every": 5}},
        "eval": {**TINY["eval"], "sampler_steps": [1, 3], "temperatures": [1.0],
                 "ddpm_baseline": True},
    }  # fmt: skip
    run_dir = kinds.start(kinds.parse(raw), tmp_path, quiet=True)
    found = result(run_dir)
    assert set(found["samplers"]) == {
        f"{label}-{n}" for label in ("edm", "ddpm", "ddpm_trained") for n in (1, 3)
    }
    assert all(len(v["mse"]) == len(v["off_palette"]) == 5 for v in found["samplers"].values())
    assert "## Diffusion samplers" in (run_dir / "report.md").read_text()
    baseline = world_models.load(run_dir / "world_model_ddpm.pt").model
    assert baseline.cfg.objective == "ddpm" and "ddpm_diffusion" in found["fit_seconds"]
    log = (run_dir / "fit_ddpm" / "diffusion" / "metrics.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["step"] == 20


DREAM = {
    **TINY,
    "name": "dream_tiny",
    "env": {"name": "wolfpack", "max_steps": 24},
    "dream": {
        "agent": {"kind": "ppo", "num_steps": 8, "num_minibatches": 2, "update_epochs": 1},
        "rounds": 2,
        "round_steps": 500,
        "steps": 640,
        "num_envs": 4,
        "max_steps": 8,
        "real_steps": 4_000,
        "real_evals": 2,
        "eval_envs": 2,
        "seeds": [0],
        "temperatures": [0.5],
    },
}


def stripped(found: dict) -> dict:
    """A result without its wall-clock seconds."""
    if isinstance(found, dict):
        return {k: stripped(v) for k, v in found.items() if k != "seconds"}
    if isinstance(found, list):
        return [stripped(v) for v in found]
    return found


def test_a_dream_run_trains_in_the_dream_and_plays_the_real_world(tmp_path):
    run_dir = kinds.start(kinds.parse(DREAM), tmp_path, quiet=True)
    seed0 = result(run_dir / "dream" / "seed0")
    assert [r["round"] for r in seed0["rounds"]] == [0, 1]
    first, second = seed0["rounds"]
    assert second["real_agent_steps"] > first["real_agent_steps"]  # recorded with the policy
    assert first["dream_agent_steps"] >= 640 and second["dream_agent_steps"] >= 1280
    reference = result(run_dir / "real" / "seed0")
    assert reference["curve"][-1]["agent_steps"] >= 4_000
    steps = [r["agent_steps"] for r in reference["curve"]]
    assert any(s >= seed0["real_agent_steps"] for s in steps) and steps == sorted(steps)
    table = result(run_dir / "temperature" / "tau=0.5")
    assert table["temperature"] == 0.5 and "dream_return" in table
    report = (run_dir / "report.md").read_text()
    assert "## Trained in the dream, played in the real world" in report
    assert "### Temperature" in report and "dream_policy_seed0.gif" in report
    assert kinds.KINDS["world_model"].results(run_dir)["real_return"] == seed0["real_return"]


@pytest.mark.parametrize("dream_fails", [False, True])
def test_the_temperature_table_waits_for_its_model_when_trials_run_in_parallel(
    tmp_path, monkeypatch, dream_fails
):
    from emergent.sweep import run as sweep_run
    from emergent.sweep.trial import by_name

    raw = {**DREAM, "dream": {**DREAM["dream"], "real_steps": 0, "rounds": 1}}
    cfg = kinds.parse(raw)
    calls = []

    def tune(run_dir, names, *args, **kwargs):  # Ray Tune's part: run a group, say what failed
        calls.append(names)
        if dream_fails and "dream/seed0" in names:
            return ("dream/seed0",)
        for name in names:
            by_name(kinds.KINDS["world_model"].trials(cfg, run_dir), name).run(True, None)
        return ()

    monkeypatch.setattr(sweep_run, "connect", lambda address, quiet: False)
    monkeypatch.setattr(sweep_run, "run_trials", tune)
    outcome = sweep_run.start_parallel(cfg, tmp_path, max_concurrent=2, quiet=True)
    if dream_fails:  # the table is not even tried
        assert calls == [["dream/seed0"]]
        assert outcome.failed == ("dream/seed0", "temperature/tau=0.5") and outcome.done == 0
        return
    assert calls == [["dream/seed0"], ["temperature/tau=0.5"]]  # the table in a later group
    assert (outcome.done, outcome.total) == (2, 2)
    assert result(outcome.sweep_dir / "temperature" / "tau=0.5")["temperature"] == 0.5


def test_a_dream_run_stopped_in_its_second_round_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    from emergent.kinds.world_model import dreaming

    raw = {**DREAM, "dream": {**DREAM["dream"], "real_steps": 0, "temperatures": []}}
    cfg = kinds.parse(raw)
    never_stopped = kinds.start(cfg, tmp_path / "a", quiet=True)
    train_policy = dreaming.train_policy

    def stopped(*args, **kwargs):
        if args[7] == "dream 1":
            raise KeyboardInterrupt
        return train_policy(*args, **kwargs)

    monkeypatch.setattr(dreaming, "train_policy", stopped)
    with pytest.raises(Interrupted) as stop:
        kinds.start(cfg, tmp_path / "b", quiet=True)
    run_dir = stop.value.run_dir
    assert (run_dir / "dream" / "seed0" / "round0" / "round.json").is_file()
    monkeypatch.setattr(dreaming, "train_policy", train_policy)
    kinds.resume(run_dir, quiet=True)
    a, b = (result(d / "dream" / "seed0") for d in (never_stopped, run_dir))
    assert stripped(b) == stripped(a)


def test_dream_section_mistakes_are_one_line():
    for change, words in [
        ({"agent": {"kind": "rllib_ppo"}}, "cannot train in a dream"),
        ({"seeds": [1, 1]}, "different seeds"),
        ({"rounds": 0}, "rounds=0"),
        ({"steps_per_round": 3}, "unknown key 'dream.steps_per_round'"),
        ({"agent": {"kind": "ppo", "lr": 3}}, "dream.agent"),
    ]:
        with pytest.raises(UserError, match=words) as err:
            kinds.parse({**DREAM, "dream": {**DREAM["dream"], **change}})
        assert "\n" not in str(err.value)
    cfg = kinds.parse(DREAM)
    assert kinds.parse(kinds.to_dict(cfg)) == cfg
