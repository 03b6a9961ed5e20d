"""The command line as a user meets it: one-line errors with status 2, list, run, report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from tests.conftest import tiny_raw

ROOT = Path(__file__).resolve().parents[2]


def emergent(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emergent", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_list_names_environments_agents_and_experiments():
    result = emergent("list")
    assert result.returncode == 0
    assert "commons" in result.stdout and "sb3_ppo" in result.stdout
    assert "experiments/commons.yaml" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (["train.stpes=5"], ["train.stpes", "did you mean 'steps'"]),
        (["train.steps=abc"], ["train.steps", "expected an integer"]),
        (["train.steps=-5"], ["steps=-5", "must be from 1 to"]),
        (["env.name=atlantis"], ["atlantis", "known:", "commons"]),
        (["agent.kind=dqn"], ["dqn", "known:", "sb3_ppo"]),
        (["env.num_agents=99"], ["num_agents=99"]),
        (["nonsense"], ["key=value"]),
    ],
)
def test_bad_config_input_is_one_line_with_status_2(tmp_path, overrides, fragments):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(tiny_raw()))
    assert_one_line_error(
        emergent("run", str(path), *overrides, "--runs-dir", str(tmp_path)), *fragments
    )
    assert not (tmp_path / "tiny").exists()  # nothing half-made


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(tiny_raw()))
    result = emergent("run", str(path), "train.device=cuda", "--runs-dir", str(tmp_path))
    assert_one_line_error(result, "train.device=cuda", "no CUDA device")
    assert not (tmp_path / "tiny").exists()


def test_missing_config_file_and_missing_run_dir(tmp_path):
    assert_one_line_error(emergent("run", str(tmp_path / "nope.yaml")), "nope.yaml", "not found")
    assert_one_line_error(emergent("run", "--resume", str(tmp_path / "gone")), "gone", "not found")
    assert_one_line_error(emergent("report", str(tmp_path)), "not a run directory")
    assert_one_line_error(emergent("fly"), "invalid choice")


@pytest.mark.slow
def test_run_writes_everything_a_report_needs_and_checkpoint_errors_are_clear(
    tiny_config, tmp_path
):
    result = emergent("run", str(tiny_config()), "--runs-dir", str(tmp_path / "runs"), "--quiet")
    assert result.returncode == 0, result.stderr
    report = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: "))
    run_dir = report.parent
    assert report.is_file()
    for name in ("return.png", "metrics.png", "episode_frames.png"):
        assert (run_dir / "plots" / name).stat().st_size > 5_000
    assert (run_dir / "episodes" / "final.gif").is_file()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    assert {"eval_learned/return", "eval_random/peace", "train/steps_per_s"} <= set(
        events.Tags()["scalars"]
    )
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if r["kind"] == "eval"]
    assert {r["policy"] for r in evals} == {"random", "learned"}
    assert max(r["step"] for r in evals) >= 960
    for key in ("return", "efficiency", "equality", "sustainability", "peace"):
        assert key in evals[-1]
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["train"]["steps"] == 960
    text = report.read_text()
    assert "plots/return.png" in text and "Social outcomes" in text

    (run_dir / "report.md").unlink()
    assert emergent("report", str(run_dir)).returncode == 0
    assert (run_dir / "report.md").read_text() == text

    # The final policy loads safely and acts.
    from agents.sb3_ppo import SB3Policy

    policy = SB3Policy.load(run_dir / "checkpoints" / "policy.pt", device="cpu")
    assert policy.act(torch.zeros(3, 5, 5, 3, dtype=torch.uint8).numpy()).shape == (3,)

    # A finished run can't be resumed; a corrupt or missing checkpoint is named.
    assert_one_line_error(emergent("run", "--resume", str(run_dir)), "already finished")
    state = run_dir / "state.json"
    state.write_text(json.dumps({"status": "interrupted"}))
    last = sorted((run_dir / "checkpoints").glob("step_*.pt"))[-1]
    last.write_bytes(last.read_bytes()[:100])
    assert_one_line_error(
        emergent("run", "--resume", str(run_dir)), last.name, "corrupt", "delete it"
    )
    for path in (run_dir / "checkpoints").glob("step_*.pt"):
        path.unlink()
    assert_one_line_error(emergent("run", "--resume", str(run_dir)), "no checkpoint")
