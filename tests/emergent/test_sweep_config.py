"""The sweep section: trials are grid x samples x seeds, each a validated config; mistakes are
one line naming the key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from emergent.errors import UserError
from emergent.sweep import config as sweep_config
from tests.conftest import tiny_raw

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def sweep_raw(**section: object) -> dict:
    return {**tiny_raw(), "sweep": {"grid": {"env.regrowth_scale": [0.5, 2.0]}, **section}}


def test_trials_cover_grid_times_seeds_each_with_its_own_validated_config():
    sweep = sweep_config.parse(sweep_raw(seeds=3))
    assert [t.name for t in sweep.trials[:4]] == [
        "env.regrowth_scale=0.5,seed=0",
        "env.regrowth_scale=0.5,seed=1",
        "env.regrowth_scale=0.5,seed=2",
        "env.regrowth_scale=2.0,seed=0",
    ]
    assert len(sweep.trials) == 6
    assert sweep.settings == ["env.regrowth_scale=0.5", "env.regrowth_scale=2.0"]
    for trial in sweep.trials:
        assert trial.config.env.options.regrowth_scale == trial.values["env.regrowth_scale"]
        assert trial.config.seed == trial.seed and not trial.config.grid


def test_seed_list_two_grid_keys_and_overrides_of_the_section(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sweep_raw()))
    sweep = sweep_config.load(path, ["sweep.seeds=[4, 9]", "sweep.grid.train.num_envs=[1, 2]"])
    assert len(sweep.trials) == 2 * 2 * 2
    assert {t.seed for t in sweep.trials} == {4, 9}
    assert sweep.trials[-1].name == "env.regrowth_scale=2.0,train.num_envs=2,seed=9"
    assert sweep.trials[-1].config.train.num_envs == 2


def test_samples_are_reproducible_within_bounds_and_shared_by_the_seeds():
    section = {
        "seeds": 2,
        "num_samples": 20,
        "sample": {
            "agent.learning_rate": {"loguniform": [1e-4, 1e-2]},
            "agent.ent_coef": {"uniform": [0.0, 0.1]},
            "agent.n_epochs": {"choice": [1, 3]},
        },
    }
    raw = {**sweep_raw(**section)}
    raw["sweep"].pop("grid")
    first, again = sweep_config.parse(raw), sweep_config.parse(raw)
    assert [t.values for t in first.trials] == [t.values for t in again.trials]
    assert len(first.trials) == 40 and len(first.settings) == 20
    draws = [first.trials[i].values for i in range(0, 40, 2)]
    assert first.trials[1].values == draws[0]  # both seeds of a setting share its draw
    lr = np.array([d["agent.learning_rate"] for d in draws])
    assert lr.min() >= 1e-4 and lr.max() <= 1e-2
    assert abs(np.log10(lr).mean() - (-3)) < 4 * (2 / np.sqrt(12)) / np.sqrt(20)  # log-uniform
    assert {d["agent.n_epochs"] for d in draws} == {1, 3}
    assert first.trials[0].config.agent.options.learning_rate == draws[0]["agent.learning_rate"]


def test_sweep_yaml_round_trip_gives_the_same_trials():
    sweep = sweep_config.parse(sweep_raw(seeds=2, max_concurrent=1, resources={"cpu": 2}))
    again = sweep_config.parse(yaml.safe_load(yaml.safe_dump(sweep.to_dict())))
    assert [(t.name, t.config) for t in again.trials] == [(t.name, t.config) for t in sweep.trials]
    assert again.section == sweep.section


@pytest.mark.parametrize(
    ("section", "fragments"),
    [
        ({"seedz": 3}, ["unknown key 'sweep.seedz'", "did you mean 'seeds'", "allowed:"]),
        ({"resources": {"cpus": 1}}, ["sweep.resources.cpus", "allowed: cpu, gpu"]),
        ({"grid": {"env.regrowth_scale": [-1.0]}}, ["regrowth_scale=-1.0", ">= 0"]),
        ({"grid": {"seed": [1, 2]}}, ["sweep.grid.seed", "sweep.seeds"]),
        ({"grid": {"env.regrowth_scale": 2}}, ["sweep.grid.env.regrowth_scale", "list"]),
        ({"grid": {"env.regrowh_scale": [1]}}, ["env.regrowh_scale", "regrowth_scale"]),
        ({"grid": {"enb.regrowth_scale": [1]}}, ["sweep.grid.enb.regrowth_scale", "env.*"]),
        ({"grid": {"name": ["a", "b"]}}, ["sweep.grid.name", "agent.*"]),
        ({"sample": {"agent.learning_rate": {"normal": [0, 1]}}}, ["uniform", "choice"]),
        ({"sample": {"agent.learning_rate": {"loguniform": [0, 1]}}}, ["low 0.0 must be pos"]),
        ({"num_samples": 3}, ["num_samples=3", "sweep.sample"]),
        ({"seeds": 0}, ["sweep.seeds=0"]),
        ({"max_concurrent": 0}, ["max_concurrent=0"]),
        ({"resources": {"gpu": 1}}, ["train.device=cpu", "gpu"]),
    ],
)
def test_mistakes_are_one_line_naming_the_key(section, fragments):
    raw = sweep_raw()
    raw["sweep"].update(section)
    with pytest.raises(UserError) as err:
        sweep_config.parse(raw)
    message = str(err.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_a_bad_trial_is_named_in_its_error():
    raw = sweep_raw()
    raw["sweep"]["grid"] = {"env.regrowth_scale": [1.0], "agent.n_steps": [40, -3]}
    with pytest.raises(UserError, match=r"sweep trial env.regrowth_scale=1.0,agent.n_steps=-3"):
        sweep_config.parse(raw)


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(EXPERIMENTS.glob("*.yaml")) if sweep_config.is_sweep_file(p)],
    ids=lambda p: p.name,
)
def test_every_shipped_sweep_validates(path):
    assert sweep_config.load(path).name == path.stem


def test_shipped_scarcity_sweep_has_three_rates_five_seeds_and_the_fast_learner():
    path = EXPERIMENTS / "commons_scarcity_sweep.yaml"
    assert sweep_config.is_sweep_file(path)
    sweep = sweep_config.load(path)
    assert sweep.name == path.stem
    assert len(sweep.section.grid["env.regrowth_scale"]) >= 3
    assert len(sweep.section.seeds) >= 5
    assert {t.config.agent.kind for t in sweep.trials} == {"ppo"}
    assert not sweep_config.is_sweep_file(EXPERIMENTS / "commons_scarcity.yaml")


def test_an_override_of_the_sweep_section_makes_any_experiment_a_sweep():
    path = EXPERIMENTS / "cleanup.yaml"
    assert not sweep_config.makes_a_sweep(path, ["train.steps=1e5"])
    assert sweep_config.makes_a_sweep(path, ["sweep.seeds=3"])
    sweep = sweep_config.load(path, ["sweep.seeds=3"])
    assert [t.config.seed for t in sweep.trials] == [0, 1, 2]
