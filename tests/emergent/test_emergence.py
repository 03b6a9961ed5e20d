"""The Emergence section every report gains: transitions found on the curves a kind names,
peaks, all-or-nothing metrics paired with continuous ones, the section spliced into report.md,
emergence.json; and through a real tiny RL run and the gallery."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from emergent import cli, emergence, gallery
from emergent.emergence import Analysis, Curve
from emergent.kinds.rl import emergence as rl_emergence
from emergent.rollout import EpisodeLog

NAMES = ("cleaned", "apples")  # Cleanup's per-agent events

X = np.arange(0, 10_000, 100.0)


def sigmoid(center: float, width: float, seed: int, noise: float = 0.03) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 1 / (1 + np.exp(-(X - center) / width)) + noise * rng.normal(size=len(X))


def test_a_jump_is_found_with_its_place_and_a_flat_curve_is_not():
    record = emergence.analyse(
        Analysis(
            [
                Curve("acc", "accuracy", X, sigmoid(6_000, 50, 0), measure="all_or_nothing"),
                Curve("flat", "a flat metric", X, 0.5 + 0.03 * np.random.default_rng(1).normal(
                    size=len(X))),
            ],
            x_label="step",
        )
    )  # fmt: skip
    (found,) = record["transitions"]
    assert found["metric"] == "acc" and found["direction"] == 1
    assert abs(found["midpoint"] - 6_000) < 250
    assert record["verdict"].startswith("accuracy rises sharply at step")
    assert "a flat metric: no transition" in " ".join(record["claims"])


def test_across_seeds_gives_an_interval_and_log_x_reports_positions_in_x():
    x = np.round(np.geomspace(10, 10_000, 80))
    curves = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        y = 1 / (1 + np.exp(-(np.log10(x) - 3.0) / 0.05)) + 0.02 * rng.normal(size=len(x))
        curves.append(Curve("val", "validation accuracy", x, y, run=f"seed {seed}", log_x=True))
    record = emergence.analyse(Analysis(curves, x_label="epoch"))
    seeds = record["seeds"]["val"]
    assert seeds["runs"] == seeds["detected"] == 4
    point, low, high = seeds["onset"]
    assert low <= point <= high and 500 < point < 1_000  # onset before the midpoint at 10^3
    assert all(600 < t["midpoint"] < 1_600 for t in record["transitions"])


def test_a_sharp_accuracy_beside_a_smooth_loss_is_called_the_metric_s():
    acc = sigmoid(5_000, 30, 2)
    smooth_loss = 2.0 - 1.5 * X / X[-1] + 0.01 * np.random.default_rng(3).normal(size=len(X))
    sharp_loss = 2.0 - 1.5 * sigmoid(5_000, 30, 4, noise=0.01)
    for loss, confirmed in ((smooth_loss, False), (sharp_loss, True)):
        record = emergence.analyse(
            Analysis(
                [
                    Curve("acc", "accuracy", X, acc, measure="all_or_nothing"),
                    Curve("loss", "loss", X, loss),
                ],
                pairs=[("acc", "loss")],
            )
        )
        (pair,) = record["pairs"]
        assert pair["confirmed"] is confirmed
        words = "may be the metric's" if not confirmed else "not an artefact"
        assert words in pair["sentence"] and pair["sentence"].startswith("Accuracy jumps at step")


def test_a_peak_that_collapses_is_claimed_and_too_short_a_curve_says_so():
    y = np.interp(X, [0, 4_000, 10_000], [0, 10, 4]) + 0.2 * np.random.default_rng(0).normal(
        size=len(X)
    )
    record = emergence.analyse(
        Analysis(
            [
                Curve("return", "return", X, y, peak=True),
                Curve("rare", "a rare metric", [1, 2, 3], [0.0, 1.0, 0.0]),
            ]
        )
    )
    (peak,) = record["peaks"]
    assert abs(peak["x"] - 4_000) < 600 and 0.4 < peak["decline_fraction"] < 0.8
    claims = " ".join(record["claims"])
    assert "return peaks at step" in claims and "3 points logged, too few" in claims


def test_the_section_goes_before_the_first_section_and_replaces_an_older_one(tmp_path):
    (tmp_path / "report.md").write_text("# title\n\nintro\n\n## Learning\n\ntext\n")
    analysis = Analysis([Curve("acc", "accuracy", X, sigmoid(6_000, 50, 0))], verdict="It grew.")
    emergence.write(tmp_path, analysis)
    emergence.write(tmp_path, analysis)  # a rebuilt report: still one section
    text = (tmp_path / "report.md").read_text()
    assert text.count("## Emergence") == 1
    assert text.index("intro") < text.index("## Emergence\n\nIt grew.") < text.index("## Learning")
    assert (
        "![emergence](plots/emergence.png)" in text and (tmp_path / "plots/emergence.png").is_file()
    )
    record = json.loads((tmp_path / "emergence.json").read_text())
    assert record["verdict"] == "It grew." and record["plot"] == "plots/emergence.png"


@pytest.mark.slow
def test_a_real_run_writes_its_emergence_and_the_gallery_shows_it(tmp_path, one_torch_thread):
    config = {
        "name": "cleanup_tiny",
        "env": {"name": "cleanup", "num_agents": 3, "max_steps": 60},
        "agent": {"kind": "ppo", "num_steps": 20, "num_minibatches": 2, "update_epochs": 1,
                  "share_parameters": False},
        "train": {"steps": 3_600, "num_envs": 2, "eval_every": 360, "eval_envs": 2,
                  "checkpoint_every": 3_600},
    }  # fmt: skip
    path = tmp_path / "cleanup.yaml"
    path.write_text(yaml.safe_dump(config))
    runs = tmp_path / "runs"
    assert cli.main(["run", "--quiet", "--runs-dir", str(runs), str(path)]) == 0
    run_dir = next((runs / "cleanup_tiny").iterdir())
    record = json.loads((run_dir / "emergence.json").read_text())
    assert {"verdict", "claims", "transitions", "pairs", "roles", "table"} <= set(record)
    assert set(record["roles"]) == {"learned", "random"}  # cleaners and eaters, or one role
    assert any(c.startswith("System Neural Diversity") for c in record["claims"])
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    snd = [r["snd"] for r in rows if r.get("kind") == "eval" and r.get("policy") == "learned"]
    assert len(snd) == 10 and all(0 <= v <= 2**0.5 for v in snd) and max(snd) > 0
    evals = [r for r in rows if r.get("kind") == "eval"]  # who cleans and who eats, each time
    assert all(r["roles"] >= 1 and 0 < r["roles_p"] <= 1 for r in evals)
    assert len(record["roles_over_training"]) == 10
    assert "## Emergence" in (run_dir / "report.md").read_text()
    assert cli.main(["gallery", str(runs)]) == 0
    page = (runs / "gallery" / f"cleanup_tiny--{run_dir.name}.html").read_text()
    assert "System Neural Diversity" in page and gallery.broken_links(runs / "gallery") == []


def test_rl_roles_read_cleaners_and_eaters_and_turn_down_counting_noise():
    rng = np.random.default_rng(0)
    cleaner, eater = [0.2, 0.01], [0.02, 0.1]
    planted = np.array([cleaner] * 4 + [eater])  # (A, E) per-step rates
    learned = {k: rng.poisson(planted[:, e], size=(8, 200, 5)) for e, k in enumerate(NAMES)}
    alike = np.full((5, 2), 0.005)  # random play: a handful of events per agent and episode
    random = {k: rng.poisson(alike[:, e], size=(8, 200, 5)) for e, k in enumerate(NAMES)}
    found = rl_emergence.log_roles(EpisodeLog(np.zeros((8, 200, 5)), learned), NAMES)
    assert found["k"] == 2 and found["labels"] == [0, 0, 0, 0, 1]
    text = rl_emergence.describe(found)
    assert text.startswith("2 roles, cleaners (agents 0, 1, 2, 3) and eaters (agent 4)")
    assert "differ beyond counting noise: permutation p = 0.001 over 8 episodes" in text
    chance = rl_emergence.log_roles(EpisodeLog(np.zeros((8, 200, 5)), random), NAMES)
    assert chance["k"] == 1 and chance["p_value"] >= 0.05
    assert "do not differ beyond counting noise" in rl_emergence.describe(chance)


def test_roles_over_training_say_when_they_separate_and_whether_they_hold():
    flicker = [[100, 1], [200, 2], [300, 1], [400, 2], [500, 2]]
    text = rl_emergence.separation_claim(flicker)
    assert "first separate at agent-steps 200 " in text
    assert "at 3 of the 4 evaluations from then on; every evaluation from 400 on." in text
    assert rl_emergence.separation_claim([[100, 1], [200, 2], [300, 1]]).endswith(
        "not at the last."
    )
    assert "one role at each of the 2 evaluations" in rl_emergence.separation_claim(
        [[100, 1], [200, 1]]
    )


def test_one_role_says_why_the_best_split_was_turned_down():
    found = {"k": 1, "names": ["generalists"], "specialisation": 0.1, "silhouette": 0.2,
             "structure": "no substantial", "episodes": 8, "p_value": 0.001,
             "best_split": {"names": ["cleaners", "eaters"], "labels": [0, 0, 1]}}  # fmt: skip
    text = rl_emergence.describe(found)
    assert "(no substantial structure); too little structure" in text
    assert "although the agents differ beyond counting noise" in text
    noise = rl_emergence.describe({**found, "silhouette": 0.4, "structure": "weak", "p_value": 0.5})
    assert "(a weak structure) but the agents do not differ beyond counting noise" in noise
