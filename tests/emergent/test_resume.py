"""Interrupted runs lose nothing and resume where they stopped (SIGKILL and SIGINT)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emergent import rundir

pytestmark = pytest.mark.slow


def start_run(config: Path, runs: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "emergent", "run", str(config), "--runs-dir", str(runs), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_checkpoint(
    runs: Path, min_step: int, proc: subprocess.Popen, timeout: float = 120
) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run_dir in runs.glob("*/*"):
            found = rundir.checkpoints(run_dir)
            if found and found[-1][0] >= min_step:
                return run_dir
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def resume(run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emergent", "run", "--resume", str(run_dir), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sigkill_then_resume_continues_the_step_count(tiny_config, tmp_path):
    runs = tmp_path / "runs"
    proc = start_run(tiny_config(steps=8000, eval_every=4000), runs)
    run_dir = wait_for_checkpoint(runs, 800, proc)
    proc.kill()
    proc.wait()
    saved_step = rundir.checkpoints(run_dir)[-1][0]
    before = [r for r in rows(run_dir) if r["step"] <= saved_step]
    assert before, "rows written before the kill"

    result = resume(run_dir)
    assert result.returncode == 0, result.stderr
    after = rows(run_dir)
    assert after[: len(before)] == before  # nothing already written was lost
    train_steps = [r["step"] for r in after if r["kind"] == "train"]
    assert train_steps == sorted(train_steps)
    resumed = [s for s in train_steps if s > saved_step]
    assert resumed and resumed[0] <= saved_step + 2 * 160  # continues, does not restart at 0
    assert max(train_steps) >= 7000
    assert rundir.read_state(run_dir)["status"] == "done"
    assert (run_dir / "report.md").is_file()


def test_sigint_saves_a_checkpoint_and_says_how_to_resume(tiny_config, tmp_path):
    runs = tmp_path / "runs"
    proc = start_run(tiny_config(steps=40000, eval_every=40000, checkpoint_every=400), runs)
    run_dir = wait_for_checkpoint(runs, 400, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"emergent run --resume {run_dir}" in stderr
    assert "Traceback" not in stderr
    state = rundir.read_state(run_dir)
    assert state["status"] == "interrupted"
    assert rundir.checkpoints(run_dir)[-1][0] == state["agent_steps"] < 40000


@pytest.mark.parametrize("gap", [0.0, 0.05, 0.3])
def test_two_ctrl_c_leave_a_loadable_checkpoint_and_no_traceback(tiny_config, tmp_path, gap):
    """The second Ctrl-C lands at once, during the save, or after it: exit 130, one message,
    no traceback, and the run resumes from a checkpoint that loads."""
    runs = tmp_path / "runs"
    proc = start_run(tiny_config(steps=40000, eval_every=40000, checkpoint_every=400), runs)
    run_dir = wait_for_checkpoint(runs, 400, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "emergent: interrupted" in stderr
    before = rundir.checkpoints(run_dir)[-1][0]
    assert rundir.read_state(run_dir)["status"] == "interrupted"

    (run_dir / "config.yaml").write_text(
        (run_dir / "config.yaml").read_text().replace("steps: 40000", f"steps: {before + 800}")
    )  # a short continuation: this test is about loading, not training
    result = resume(run_dir)
    assert result.returncode == 0, result.stderr
    assert rundir.read_state(run_dir)["agent_steps"] >= before


def test_sigint_stops_a_generative_run_started_with_sigint_ignored(tmp_path):
    """A shell's background job (or a script) starts its children with SIGINT ignored, which
    Python keeps: `kill -INT` must still stop and save a run of any kind, as it does RL's."""
    raw = {
        "name": "bg",
        "kind": "generative",
        "model": {"name": "vae", "latent_dim": 2, "hidden": [16]},
        "data": {"name": "moons", "n_train": 200, "n_val": 20, "n_test": 20},
        "train": {"steps": 10**7, "batch_size": 32, "checkpoint_every": 50, "device": "cpu"},
    }
    config = tmp_path / "bg.yaml"
    config.write_text(json.dumps(raw))
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emergent", "run", str(config), "--runs-dir", str(runs), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 120
        while not list(runs.glob("*/*/checkpoints/fit.pt")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()  # a run that ignored the signal must not outlive the test
    assert proc.returncode == 130, stderr
    assert "Resume with: emergent run --resume" in stderr and "Traceback" not in stderr
