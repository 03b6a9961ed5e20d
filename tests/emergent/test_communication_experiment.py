"""The talking-agents experiment (`kind: communication`) through the config, the runner and the
command line: a tiny run end to end, resume giving the same numbers, grounding with a
language model, the report's sections and one-line config errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from emergent import cli, kinds
from emergent.errors import Interrupted, UserError
from emergent.kinds.communication import measure

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "name": "talk_tiny",
    "kind": "communication",
    "seed": 3,
    "env": {
        "name": "signalling",
        "n_attributes": 2,
        "n_values": 3,
        "message_length": 2,
        "vocab_size": 6,
        "num_candidates": 3,
        "end_token": True,
        "held_out": 3,
    },
    "agent": {"n_layer": 1, "n_head": 2, "n_embd": 16, "listener_hidden": 16},
    "train": {
        "steps": 20,
        "batch_size": 16,
        "lr": 3e-3,
        "log_every": 5,
        "checkpoint_every": 10,
        "games": 1000,
    },
    "eval": {"every": 5, "games": 40, "cic_states": 20},
}


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "talk.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def rows(cell: Path, kind: str) -> list[dict]:
    found = [json.loads(line) for line in (cell / "metrics.jsonl").read_text().splitlines()]
    return [r for r in found if r["kind"] == kind]


def test_a_tiny_run_end_to_end_measures_the_pair_in_the_world(tmp_path):
    path = write(tmp_path, TINY)
    assert cli.main(["run", str(path), "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 0
    (run_dir,) = (tmp_path / "runs" / "talk_tiny").iterdir()
    cell = run_dir / "pairs" / "agents"
    result = json.loads((cell / "result.json").read_text())
    assert [r["step"] for r in rows(cell, "eval")] == [5, 10, 15, 20]
    assert result["chance"] == pytest.approx(1 / 3)
    for key in ("success_train", "success_held_out", "success_cut", "success_scrambled"):
        assert 0.0 <= result[key] <= 1.0
    assert result["objects_train"] == 6 and result["objects_all"] == 9
    assert 0.0 <= result["cic_open"] <= math.log2(3) + 1e-9
    assert result["cic_cut"] == result["cic_scrambled"] == 0.0  # nothing m-dependent arrives
    report = (run_dir / "report.md").read_text()
    for section in ("## Success", "## The language", "## Does the listener listen?", "## Verdict"):
        assert section in report
    for figure in ("training.png", "channels.png"):
        assert (run_dir / "plots" / figure).is_file()
    assert kinds.KINDS["communication"].results(run_dir)["success_train"] == result["success_train"]


@pytest.mark.parametrize("training", ["gumbel", "ppo"])
def test_a_run_interrupted_mid_fit_resumes_to_the_numbers_of_one_never_stopped(
    tmp_path, monkeypatch, training
):
    agent = {**TINY["agent"], "training": training, "ppo_epochs": 1, "minibatches": 2}
    cfg = kinds.parse({**TINY, "agent": agent})
    never_stopped = kinds.start(cfg, tmp_path / "a", quiet=True)
    successes = measure.successes
    calls = []

    def stop_at_the_third_measurement(*args, **kwargs):  # step 15: after the checkpoint at 10
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return successes(*args, **kwargs)

    monkeypatch.setattr(measure, "successes", stop_at_the_third_measurement)
    with pytest.raises(Interrupted) as stop:
        kinds.start(cfg, tmp_path / "b", quiet=True)
    run_dir = stop.value.run_dir
    monkeypatch.setattr(measure, "successes", successes)
    kinds.resume(run_dir, quiet=True)
    timings = ("seconds", "elapsed_s", "threads")
    a, b = (d / "pairs" / "agents" for d in (never_stopped, run_dir))
    expected, got = (json.loads((d / "result.json").read_text()) for d in (a, b))
    assert {k: v for k, v in got.items() if k not in timings} == {
        k: v for k, v in expected.items() if k not in timings
    }
    assert rows(a, "eval") == rows(b, "eval")
    strip = [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows(a, "train")]
    assert strip == [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows(b, "train")]


def test_ppo_channel_trains_and_checkpoints_between_rollouts(tmp_path):
    raw = {
        **TINY,
        "agent": {**TINY["agent"], "training": "ppo", "ppo_epochs": 1, "minibatches": 2},
        "train": {**TINY["train"], "checkpoint_every": 10},
    }
    run_dir = kinds.start(kinds.parse(raw), tmp_path, quiet=True)
    train = rows(run_dir / "pairs" / "agents", "train")
    assert {"pg_loss", "v_loss", "entropy"} <= set(train[0])
    with pytest.raises(UserError, match="checkpoint_every=6; must be a multiple of"):
        kinds.parse({**raw, "agent": {**raw["agent"], "ppo_epochs": 2, "minibatches": 2},
                     "train": {**raw["train"], "checkpoint_every": 6, "log_every": 1}})  # fmt: skip


def test_grounding_trains_the_language_model_once_and_one_pair_per_beta(tmp_path):
    pytest.importorskip("generative.text.shakespeare").load_corpus()  # the corpus is set up
    env = {k: v for k, v in TINY["env"].items() if k != "vocab_size"}
    raw = {
        **TINY,
        "env": {**env, "message_length": 3},
        "grounding": {
            "betas": [0.0, 1.0],
            "prior": {
                "n_layer": 1,
                "n_head": 2,
                "n_embd": 16,
                "block_size": 8,
                "steps": 10,
                "batch_size": 4,
            },
        },  # fmt: skip
    }
    run_dir = kinds.start(kinds.parse(raw), tmp_path, quiet=True)
    prior = json.loads((run_dir / "prior" / "result.json").read_text())
    for label in ("beta=0", "beta=1"):
        result = json.loads((run_dir / "pairs" / label / "result.json").read_text())
        assert result["vocab_size"] == prior["vocab_size"] > 26  # Shakespeare's characters
        assert result["perplexity"] > 1.0 and result["kl_per_token"] >= 0.0
        assert len(result["examples"]) == 6 and all(
            len(e["message"]) <= 3 for e in result["examples"]
        )
    report = (run_dir / "report.md").read_text()
    assert "## Grounded speech" in report and (run_dir / "plots" / "trade_off.png").is_file()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"env": {**TINY["env"], "held_out": 0}}, "env.held_out=0"),
        ({"env": {**TINY["env"], "name": "spread"}}, "env.name='spread'"),
        ({"env": {**TINY["env"], "channel": "cut"}}, "set by the run"),
        ({"env": {**TINY["env"], "vocab": 4}}, "unknown key 'env.vocab'"),
        ({"agent": {"kl_beta": 0.5}}, "needs a grounding section"),
        ({"agent": {"training": "reinforce"}}, "training='reinforce'"),
        ({"eval": {"every": 7}}, "eval.every=7"),
        ({"train": {**TINY["train"], "games": 10}}, "games"),
        (
            {
                "env": {k: v for k, v in TINY["env"].items() if k != "vocab_size"},
                "grounding": {"betas": [0.1, 0.1]},
            },
            "each value once",
        ),  # fmt: skip
        ({"grounding": {"betas": [0.1]}}, "env.vocab_size with grounding"),
    ],
)
def test_config_mistakes_are_one_line(change, words):
    with pytest.raises(UserError, match=words) as err:
        kinds.parse({**TINY, **change})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["signalling_lm", "signalling_lm_ppo", "grounded_speech"])
def test_the_shipped_experiments_parse_and_round_trip(name):
    raw = yaml.safe_load((ROOT / "experiments" / f"{name}.yaml").read_text())
    cfg = kinds.parse(raw)
    assert kinds.parse(kinds.to_dict(cfg)) == cfg
