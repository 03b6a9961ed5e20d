"""A sweep on a 2-node Ray cluster (`ray.cluster_utils.Cluster` on this machine): trials run on
both nodes, and a trial whose worker process is killed mid-run is restarted by Tune and
continues from its checkpoint, with every row written before the kill kept."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from emergent import rundir
from emergent.logger import read_rows
from emergent.sweep import config as sweep_config
from emergent.sweep import run as sweep_mod
from tests.conftest import tiny_raw
from tests.emergent.test_sweep import TINY_PPO

pytestmark = pytest.mark.slow

ROLLOUT = 20 * 2 * 2  # agent-steps per update: num_steps x copies x agents


@pytest.fixture(scope="module")
def two_nodes():
    """A head node and a worker node with one CPU each: two 1-CPU trials need both."""
    import ray
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    cluster.wait_for_nodes()
    yield {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    ray.shutdown()
    cluster.shutdown()


def kill_mid_run(victim: Path, min_step: int, seen: dict, timeout: float = 240) -> None:
    """SIGKILL the victim trial's worker once it has a checkpoint at min_step or later, then
    note the checkpoint it left and the rows written up to it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = rundir.checkpoints(victim)
        attempts = read_rows(victim / "attempts.jsonl")
        if found and found[-1][0] >= min_step and attempts:
            pid = attempts[-1]["pid"]
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.01)
            saved = rundir.checkpoints(victim)[-1][0]
            rows = read_rows(victim / "metrics.jsonl")
            seen.update(
                pid=pid,
                saved=saved,
                status=rundir.read_state(victim).get("status"),
                before=[r for r in rows if r["step"] <= saved],
            )
            return
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_trials_use_both_nodes_and_a_killed_trial_resumes_from_its_checkpoint(tmp_path, two_nodes):
    raw = tiny_raw(steps=6000, eval_every=2000, checkpoint_every=400)
    raw = {**raw, "agent": dict(TINY_PPO), "sweep": {"seeds": 2, "max_failures": 2}}
    sweep = sweep_config.parse(raw)
    sweep_dir = sweep_mod.create(sweep, tmp_path / "runs")
    victim = sweep_config.trial_dir(sweep_dir, "seed=0")
    seen: dict = {}
    killer = threading.Thread(target=kill_mid_run, args=(victim, 1200, seen), daemon=True)
    killer.start()

    outcome = sweep_mod.execute(sweep_dir, quiet=True)
    killer.join(timeout=5)

    assert seen and seen["status"] != "done", "the worker was killed mid-run"
    assert (outcome.summary()[0], outcome.done, outcome.failed) == (0, 2, ())
    first_attempts = [
        read_rows(sweep_config.trial_dir(sweep_dir, t.name) / "attempts.jsonl")[0]
        for t in sweep.trials
    ]
    assert {a["node_id"] for a in first_attempts} == two_nodes  # one trial on each node

    attempts = read_rows(victim / "attempts.jsonl")
    assert [a["start_step"] for a in attempts] == [0, seen["saved"]]
    assert attempts[1]["pid"] != seen["pid"]
    rows = read_rows(victim / "metrics.jsonl")
    assert [r for r in rows if r["step"] <= seen["saved"]] == seen["before"]  # nothing lost
    train = [r["step"] for r in rows if r["kind"] == "train"]
    assert train == sorted(train) and max(train) == 6000
    resumed = [s for s in train if s > seen["saved"]]
    assert resumed[0] == seen["saved"] + ROLLOUT  # continues the step count, not from 0
    for trial in sweep.trials:
        path = sweep_config.trial_dir(sweep_dir, trial.name)
        assert rundir.read_state(path) == {"status": "done", "agent_steps": 6000}

    data = json.loads((sweep_dir / "aggregate.json").read_text())
    assert data["settings"][0]["metrics"]["return"]["n"] == 2
    text = (sweep_dir / "report.md").read_text()
    assert "on 2 Ray node(s), 1 restart(s) after failures" in text
