"""Learners trained in a world model's dream (`env.name: dream`) and evaluated in the real world
the model was trained on: the run, its rows and report, resume, and bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emergent import cli, rundir
from emergent.kinds.rl import run as rl_run
from emergent.logger import read_rows
from tests.conftest import TINY_REAL_WORLD, write_tiny_world_model_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY_PPO = {
    "kind": "ppo",
    "num_steps": 20,
    "num_minibatches": 2,
    "update_epochs": 1,
    "conv_channels": [4],
    "hidden_sizes": [16],
}
HUNTING = ("captures_per_episode", "team_capture_share", "wolves_per_capture")
"""Wolfpack's metrics (`emergent.worlds.wolfpack`): rows of the real world, not the dream's."""


@pytest.fixture(scope="module")
def world_model(tmp_path_factory) -> Path:
    """A tiny world-model run directory (an untrained model of Wolfpack and its segments)."""
    return write_tiny_world_model_run(tmp_path_factory.mktemp("dream") / "wm")


def dream_raw(world_model: Path, agent: dict | None = None, **env: object) -> dict:
    """An rl experiment training in the dream: 2 copies x 2 wolves x 20 dreamed steps."""
    return {
        "name": "dreamer",
        "seed": 0,
        "env": {"name": "dream", "world_model": str(world_model), "max_steps": 20, **env},
        "agent": agent or dict(TINY_PPO),
        "train": {
            "steps": 480,
            "num_envs": 2,
            "eval_every": 240,
            "eval_envs": 2,
            "checkpoint_every": 80,
            "device": "auto",
        },
    }


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "dream.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def run(path: Path, runs: Path, *overrides: str) -> int:
    return cli.main(["run", str(path), *overrides, "--runs-dir", str(runs), "--quiet"])


def evals(run_dir: Path) -> list[dict]:
    return [r for r in read_rows(run_dir / "metrics.jsonl") if r["kind"] == "eval"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ppo", "sb3_ppo"])
def test_a_learner_trains_in_the_dream_and_is_evaluated_in_the_real_world(
    world_model, tmp_path, kind
):
    agent = dict(TINY_PPO) if kind == "ppo" else {
        "kind": "sb3_ppo", "n_steps": 20, "batch_size": 40, "n_epochs": 1, "conv_channels": [4],
        "hidden_size": 16, "head_size": 8,
    }  # fmt: skip
    assert run(write(tmp_path, dream_raw(world_model, agent)), tmp_path / "runs") == 0
    (run_dir,) = (tmp_path / "runs" / "dreamer").iterdir()
    rows = evals(run_dir)
    assert {r["policy"] for r in rows} == {"random", "learned"}
    assert max(r["step"] for r in rows) >= 480
    for row in rows:  # the real Wolfpack's metrics and events, not the dream's
        assert set(HUNTING) <= set(row) and "dreamed_reward_per_agent" not in row
    assert rows[-1]["policy"] == "learned"
    train = [r for r in read_rows(run_dir / "metrics.jsonl") if r["kind"] == "train"]
    assert len(train) >= 4  # updates on rollouts of the dream
    report = (run_dir / "report.md").read_text()
    title = report.splitlines()[0]
    assert f"wolfpack with {kind}, trained in a dream" in title and str(world_model) in title
    assert "Every evaluation below (random play included) plays the real wolfpack" in report
    assert (run_dir / "episodes" / "final.gif").is_file()
    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())["env"]
    assert resolved == {
        "name": "dream", "world_model": str(world_model), "temperature": 1.0, "max_steps": 20
    }  # fmt: skip


@pytest.mark.slow
def test_an_interrupted_dream_run_resumes_to_the_same_numbers(world_model, tmp_path, monkeypatch):
    path = write(tmp_path, dream_raw(world_model))
    assert run(path, tmp_path / "whole") == 0
    (whole,) = (tmp_path / "whole" / "dreamer").iterdir()

    save = rl_run.RunHooks.save_checkpoint

    def stop_after_160(hooks: rl_run.RunHooks, agent_steps: int) -> None:
        save(hooks, agent_steps)
        if agent_steps >= 160:
            hooks.stop_requested = True  # as Ctrl-C does

    monkeypatch.setattr(rl_run.RunHooks, "save_checkpoint", stop_after_160)
    assert run(path, tmp_path / "runs") == 130
    (run_dir,) = (tmp_path / "runs" / "dreamer").iterdir()
    assert rundir.read_state(run_dir)["status"] == "interrupted"
    stopped = rundir.checkpoints(run_dir)[-1][0]
    assert 160 <= stopped < 480

    monkeypatch.setattr(rl_run.RunHooks, "save_checkpoint", save)
    assert cli.main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    assert rundir.read_state(run_dir)["status"] == "done"

    def numbers(folder: Path) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "time"} for r in evals(folder)]

    assert numbers(run_dir) == numbers(whole)  # the dream replays: nothing lost or redone


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        ({"wolrd_model": "x"}, ["env.wolrd_model", "did you mean 'world_model'"]),
        ({"temperature": 0}, ["temperature=0.0", "> 0"]),
        ({"temperature": float("nan")}, ["temperature", "finite"]),
        ({"max_steps": 0}, ["max_steps=0", "from 1 to 100,000"]),
        ({"world_model": "{missing}"}, ["missing", "not found", "emergent run experiments/"]),
        ({"world_model": None}, ["world_model"]),
    ],
)
def test_bad_dream_settings_are_one_line_errors(world_model, tmp_path, capsys, env, fragments):
    raw = dream_raw(world_model)
    for key, value in env.items():
        if value is None:
            del raw["env"][key]
        elif value == "{missing}":
            raw["env"][key] = str(tmp_path / "missing")
        else:
            raw["env"][key] = value
    assert run(write(tmp_path, raw), tmp_path / "runs") == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not (tmp_path / "runs").exists()  # nothing half-made


def test_a_dream_directory_without_its_model_says_how_to_make_one(world_model, tmp_path, capsys):
    (tmp_path / "half" / "data").mkdir(parents=True)
    raw = dream_raw(tmp_path / "half")
    assert run(write(tmp_path, raw), tmp_path / "runs") == 2
    err = capsys.readouterr().err.strip()
    assert "world_model.pt" in err and "run a world_model experiment first" in err
    assert "\n" not in err


def test_rllib_cannot_train_in_a_dream_and_says_so(world_model, tmp_path, capsys):
    raw = dream_raw(world_model, {"kind": "rllib_ppo"})
    assert run(write(tmp_path, raw), tmp_path / "runs") == 2
    err = capsys.readouterr().err.strip()
    assert "rllib_ppo cannot train in a dream" in err and "\n" not in err


def test_the_real_world_is_read_from_the_world_model_file(world_model):
    from emergent import kinds

    cfg = kinds.parse(dream_raw(world_model))
    assert cfg.dreamed and cfg.world.name == TINY_REAL_WORLD["name"]
    assert cfg.world.options.max_steps == TINY_REAL_WORLD["options"]["max_steps"]
    assert cfg.world.options.view_radius == TINY_REAL_WORLD["options"]["view_radius"]
