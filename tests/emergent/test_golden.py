"""Every experiment kind gives the same numbers as recorded before the architecture change.

A short version of each kind runs through the command line; every number it leaves on disk
(`metrics.jsonl` rows and the JSON results of cells, curves and sweeps), timings excepted, must
equal the rows recorded in `golden/<case>.json`. The records were made at commit 4bf7169, before
`emergent/` was reshaped into kinds, so a refactor that changes any number fails here.

Everything but floats must be equal; floats to a relative 1e-6 (`FLOAT_RTOL`). Since the
Gaussian log-density became one helper for every family (the architecture issue), the terms of
the VAE's and the flows' likelihoods are added in one order: their losses and bounds moved by
at most 2e-8 relative, everything else (every RL number, every sample-based metric, the pair's
curves, the diffusion cells) is bit for bit the same.

`rl_sb3_ppo` was recorded anew when `sb3_ppo` started seeding each training episode from
(seed, episode) and checkpointing its random states, so that a run resumed after a crash gives
the same numbers as one never stopped (the reliability issue): the world's own random stream,
which its episodes used to continue, cannot be rebuilt after a crash.

Every record was made anew on 2026-12-02 when `make setup` began installing the exact versions
of `constraints.txt`: a fresh install had drifted from the packages the records were made with
(explained variance, a variance of a few hundred floats, moved by 3e-5 relative in the first
update; the naive Bayes error of a 10-example training set changed), and those versions could
not be recovered. The code was unchanged; the records now go with the pinned packages.

`lm` was recorded when the kind was added; it reads the first 6,000 characters of each side of
the Shakespeare corpus that `make setup` fetches.

`grokking` was recorded when the kind was added.

`communication` was recorded when the kind was added (issue 16).

`world_model` and `world_model_dream` were recorded when the kind was added (issue 17).

Every record was made anew when the Emergence section joined every report (issue 18): each
case gained its run's `emergence.json`, and the RL rows their System Neural Diversity (`snd`);
every number recorded before is unchanged (checked key by key: equal, or floats within the
test's 1e-6; `grokking`'s and `lm`'s float32 losses moved by up to 2e-7 between recordings).

`induction_heads` and `scale_metrics` were recorded when those kinds were added (issue 15);
the `lm` record gained the MLP's `activation` and `embed_init_std` options then (their
defaults, which give the same weights as before), its numbers unchanged.

Re-record (only for a deliberate change of numbers, said in the commit):
`EMERGENT_RECORD_GOLDEN=1 python -m pytest tests/emergent/test_golden.py`.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from emergent import cli
from tests.conftest import tiny_raw
from tests.emergent.test_communication_experiment import TINY as TINY_COMMUNICATION
from tests.emergent.test_diffusion_experiment import TINY as TINY_DIFFUSION
from tests.emergent.test_grokking import TINY as TINY_GROKKING
from tests.emergent.test_induction_heads import TINY as TINY_INDUCTION
from tests.emergent.test_lm_experiment import TINY as TINY_LM
from tests.emergent.test_scale_metrics import TINY as TINY_SCALE
from tests.emergent.test_world_model_experiment import DREAM as TINY_DREAM
from tests.emergent.test_world_model_experiment import TINY as TINY_WORLD_MODEL

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).parent / "golden"
TIMING = re.compile(r"(seconds|_s$|per_s|^time$|_ms$|speedup|faster)")
"""Keys whose values are wall-clock measurements, not results."""
SKIPPED_FILES = ("state.json", "attempts.jsonl", "claim.json")
FLOAT_RTOL = 1e-6

PPO = {
    "kind": "ppo",
    "num_steps": 20,
    "num_minibatches": 2,
    "update_epochs": 2,
    "hidden_sizes": [32],
    "conv_channels": [8],
}

CASES: dict[str, dict[str, Any]] = {
    "rl_ppo": {**tiny_raw(steps=640, eval_every=320), "agent": PPO},
    "rl_sb3_ppo": tiny_raw(steps=640, eval_every=320),
    "rl_grid": {
        **tiny_raw(steps=320, eval_every=320),
        "agent": PPO,
        "grid": {"env.regrowth_scale": [0.5, 2.0]},
    },
    "generative": {
        "name": "vae_moons",
        "kind": "generative",
        "seed": 1,
        "model": {"name": "vae", "latent_dim": 2, "hidden": [32]},
        "data": {"name": "moons", "n_train": 400, "n_val": 100, "n_test": 100},
        "train": {"steps": 40, "batch_size": 64, "device": "cpu"},
        "eval": {"samples": 200, "iwae_k": 5},
    },
    "gen_zoo": {
        "name": "zoo",
        "kind": "gen_zoo",
        "seeds": 1,
        "datasets": ["moons", "digits"],
        "models": {
            "nb": {"model": "categorical_nb"},
            "flow": {"model": "realnvp", "num_layers": 2},
            "vae": {"model": "vae", "latent_dim": 4, "hidden": [32]},
            "gan": {"model": "gan", "lr": 2e-4},
        },
        "train": {"steps": 20, "batch_size": 64, "device": "cpu"},
        "eval": {"samples": 300, "iwae_k": 5},
        "code_sizes": [2],
    },
    "pair_curves": {
        "name": "pair",
        "kind": "pair_curves",
        "datasets": ["iris", "digits_binary"],
        "sizes": [10, 40],
        "seeds": 2,
    },
    "lm": TINY_LM,  # the tiny ladder on the first 6,000 characters of the real corpus
    "grokking": {**TINY_GROKKING, "seeds": 1},  # p = 11, two weight decays, 120 epochs
    "induction_heads": TINY_INDUCTION,  # 2 layers and the 1-layer control, 20 steps
    "scale_metrics": TINY_SCALE,  # five sizes on 1-digit addition, 40 steps each
    "communication": TINY_COMMUNICATION,  # a transformer speaker and a GRU listener, 20 steps
    "world_model": TINY_WORLD_MODEL,  # V + M of Wolfpack views, 30 steps each
    "world_model_dream": TINY_DREAM,  # two rounds in the dream, the reference, one temperature
    "diffusion": {  # the tiny diffusion experiment, with no zoo and one toy
        **TINY_DIFFUSION,
        "zoo_run": "",
        "toys": {**TINY_DIFFUSION["toys"], "datasets": ["ring8"]},
    },
}


def without_timings(value: Any) -> Any:
    """The value with every wall-clock entry removed (and NaN made comparable)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not TIMING.search(str(k))}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def numbers_on_disk(run_dir: Path) -> dict[str, Any]:
    """Every JSON result under a run directory, by path relative to it."""
    found: dict[str, Any] = {}
    for path in sorted(run_dir.rglob("*.json*")):
        if path.name in SKIPPED_FILES or "tensorboard" in path.parts:
            continue
        relative = str(path.relative_to(run_dir))
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            found[relative] = without_timings(rows)
        else:
            found[relative] = without_timings(json.loads(path.read_text()))
    return found


@pytest.fixture
def one_thread():
    """Float sums depend on the thread count; the records were made with one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("case", sorted(CASES))
def test_numbers_equal_the_records(case: str, tmp_path: Path, one_thread: None) -> None:
    config = tmp_path / f"{case}.yaml"
    config.write_text(yaml.safe_dump(CASES[case]))
    runs = tmp_path / "runs"
    assert cli.main(["run", str(config), "--runs-dir", str(runs), "--quiet"]) == 0
    (run_dir,) = (runs / CASES[case]["name"]).iterdir()
    assert (run_dir / "report.md").is_file()
    measured = numbers_on_disk(run_dir)
    record = GOLDEN / f"{case}.json"
    if os.environ.get("EMERGENT_RECORD_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        record.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"recorded {record.name}")
    expected = json.loads(record.read_text())
    assert sorted(measured) == sorted(expected), "a result file appeared or went missing"
    for name in expected:
        assert measured[name] == close(expected[name]), f"{case}: {name} differs from the record"


def close(value: Any) -> Any:
    """The recorded value with its floats compared to `FLOAT_RTOL`, the rest exactly."""
    if isinstance(value, dict):
        return {k: close(v) for k, v in value.items()}
    if isinstance(value, list):
        return [close(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=FLOAT_RTOL, abs=0.0)
    return value
