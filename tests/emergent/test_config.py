"""Configs: YAML + overrides into typed configs; every mistake is one clear line."""

from pathlib import Path

import pytest
import yaml

from emergent import kinds
from emergent.errors import UserError
from emergent.kinds.rl.config import grid_points
from tests.conftest import tiny_raw

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(EXPERIMENTS.glob("*.yaml")) if "sweep" not in yaml.safe_load(p.read_text())],
    ids=lambda p: p.name,
)
def test_every_shipped_experiment_validates(path):  # sweeps: tests/emergent/test_sweep_config.py
    cfg = kinds.load(path)
    assert cfg.name == path.stem


def test_overrides_are_typed_and_scientific_notation_counts_as_integer(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(tiny_raw()))
    cfg = kinds.load(path, ["train.steps=2e3", "seed=3", "env.regrowth_scale=0.5"])
    assert cfg.train.steps == 2000 and isinstance(cfg.train.steps, int)
    assert cfg.seed == 3
    assert cfg.env.options.regrowth_scale == 0.5
    assert cfg.agent.options.conv_channels == (8,)


def test_round_trip_through_to_dict_is_identity():
    cfg = kinds.parse(tiny_raw())
    assert kinds.parse(kinds.to_dict(cfg)) == cfg


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"train": {"stesp": 10}}, "unknown key 'train.stesp'; did you mean 'steps'?"),
        ({"env": {"name": "commons", "num_agnets": 3}}, "unknown key 'env.num_agnets'"),
        ({"agent": {"kind": "sb3_ppo", "lr": 0.1}}, "unknown key 'agent.lr'"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"train": {"steps": "many"}}, "train.steps: expected an integer, got 'many'"),
        ({"train": {"steps": 1.5}}, "train.steps: expected an integer"),
        ({"train": {"steps": 0}}, "train: steps=0; must be from 1 to 1,000,000,000,000"),
        ({"train": {"device": "tpu"}}, "device='tpu'"),
        ({"agent": {"kind": "sb3_ppo", "gamma": 1.5}}, "gamma=1.5; must lie in [0, 1]"),
        ({"env": {"name": "commons", "num_agents": 0}}, "num_agents=0"),
        ({"env": {"name": "commons", "regrowth_probs": [0.1, 2, 0, 0]}}, "regrowth_probs"),
        (
            {"env": {"name": "commons", "view_radius": "big"}},
            "env.view_radius: expected an integer",
        ),
        ({"env": {"name": "atlantis"}}, "unknown environment 'atlantis'; known: cleanup, commons"),
        ({"agent": {"kind": "dqn"}}, "unknown agent 'dqn'; known: "),
        (
            {"grid": {"env.regrowth_scale": 0.5}},
            "grid.env.regrowth_scale: expected a non-empty list",
        ),
        ({"grid": {"env.regrowth_scale": [1.0, -1.0]}}, "regrowth_scale=-1.0"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(change, expected):
    raw = tiny_raw()
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict) and key != "grid":
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    with pytest.raises(UserError) as err:
        kinds.parse(raw)
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_missing_file_and_bad_yaml_and_bad_override(tmp_path):
    with pytest.raises(UserError, match="not found"):
        kinds.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML"):
        kinds.load(bad)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(tiny_raw()))
    with pytest.raises(UserError, match="key=value"):
        kinds.load(good, ["train.steps"])


def test_grid_points_each_get_their_value():
    raw = {**tiny_raw(), "grid": {"env.regrowth_scale": [0.5, 2.0]}}
    cfg = kinds.parse(raw)
    points = grid_points(cfg)
    assert [values for values, _ in points] == [
        {"env.regrowth_scale": 0.5},
        {"env.regrowth_scale": 2.0},
    ]
    assert [p.env.options.regrowth_scale for _, p in points] == [0.5, 2.0]
    assert all(not p.grid for _, p in points)
