"""Property-based checks of config validation, generated with hypothesis from every shipped
experiment: a generated mistake at any key (an unknown key at any level, a wrong type, a
non-finite or far too large number, a bad seed or name) is one `UserError` line naming the key;
the same config spelled in other valid ways (YAML's loose numbers, lists for tuples) parses to
the same config; damaged run files are one line from the command line.

Each property tries `EXAMPLES` generated cases (150; `EMERGENT_FUZZ_EXAMPLES=2000` for a longer
hunt), the damaged files a fifth of that; `derandomize` makes every run try the same ones."""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emergent import cli, kinds
from emergent.config import SEED_MAX
from emergent.errors import UserError
from emergent.sweep import config as sweep_config

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {
    path.name: yaml.safe_load(path.read_text())
    for path in sorted((ROOT / "experiments").glob("*.yaml"))
}
EXPERIMENTS = {name: raw for name, raw in SHIPPED.items() if "sweep" not in raw}
RESOLVED = {name: kinds.to_dict(kinds.parse(raw)) for name, raw in EXPERIMENTS.items()}
"""Every shipped experiment with every default written out: every key a user can set."""
FREE_FORM = ("grid", "models", "data")
"""Mappings whose keys the user names (swept keys, model labels, a data loader's options)."""
HUGE = 10**15
"""Beyond every size bound (the largest, a run's agent-steps, is 10**12)."""
EXAMPLES = int(os.environ.get("EMERGENT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def leaves(tree: Any, path: tuple = ()) -> list[tuple]:
    """Key paths of every value that is not a mapping."""
    if isinstance(tree, dict) and tree:
        return [p for key, value in tree.items() for p in leaves(value, (*path, key))]
    return [path] if path else []


def sections(tree: Any, path: tuple = ()) -> list[tuple]:
    """Key paths of every mapping (the top level included) whose keys are config fields."""
    if not isinstance(tree, dict) or (path and path[-1] in FREE_FORM):
        return []
    return [path, *(p for key, value in tree.items() for p in sections(value, (*path, key)))]


def get(tree: dict, path: tuple) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def with_value(tree: dict, path: tuple, value: Any) -> dict:
    changed = copy.deepcopy(tree)
    get(changed, path[:-1])[path[-1]] = value
    return changed


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def numeric_leaves(tree: dict) -> list[tuple]:
    return [p for p in leaves(tree) if is_number(get(tree, p)) and p[0] not in FREE_FORM]


def one_line_user_error(raw: dict) -> str:
    with pytest.raises(UserError) as err:
        kinds.parse(raw)
    message = str(err.value)
    assert message and "\n" not in message
    return message


def dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


@st.composite
def a_numeric_key(draw: st.DrawFn, integers: bool = False) -> tuple[str, tuple]:
    name = draw(st.sampled_from(sorted(RESOLVED)))
    found = numeric_leaves(RESOLVED[name])
    if integers:
        found = [p for p in found if isinstance(get(RESOLVED[name], p), int)]
    return name, draw(st.sampled_from(found))


@FUZZ
@given(
    a_numeric_key(),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), "abc", [1, 2], {"a": 1}, True]),
)
def test_a_wrong_type_or_non_finite_number_at_any_key_is_one_line_naming_it(key, bad):
    name, path = key
    message = one_line_user_error(with_value(RESOLVED[name], path, bad))
    assert str(path[-1]) in message


@FUZZ
@given(a_numeric_key(integers=True), st.sampled_from([HUGE, -HUGE]))
def test_a_far_too_large_size_or_count_at_any_key_is_one_line_naming_it(key, huge):
    name, path = key
    message = one_line_user_error(with_value(RESOLVED[name], path, huge))
    assert str(path[-1]) in message


@st.composite
def a_section(draw: st.DrawFn) -> tuple[str, tuple]:
    name = draw(st.sampled_from(sorted(RESOLVED)))
    return name, draw(st.sampled_from(sections(RESOLVED[name])))


@FUZZ
@given(a_section(), st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True))
def test_an_unknown_key_at_any_level_is_one_line_naming_it(where, key):
    name, path = where
    section = get(RESOLVED[name], path)
    if key in section or (not path and key == "sweep"):
        return  # a real key
    changed = copy.deepcopy(RESOLVED[name])
    get(changed, path)[key] = 1
    message = one_line_user_error(changed)
    assert key in message


@FUZZ
@given(
    st.sampled_from(sorted(RESOLVED)),
    st.one_of(st.integers(max_value=-1), st.integers(min_value=SEED_MAX + 1), st.just(0.5)),
)
def test_a_seed_outside_unsigned_32_bits_is_one_line(name, seed):
    assert "seed" in one_line_user_error({**RESOLVED[name], "seed": seed})


@FUZZ
@given(
    st.sampled_from(sorted(RESOLVED)),
    st.one_of(
        st.just(""),
        st.just(".."),
        st.from_regex(r"[a-z]{0,5}/[a-z.]{0,5}", fullmatch=True),
        st.from_regex(r"\.\./[a-z]{1,5}", fullmatch=True),
    ),
)
def test_a_run_name_that_is_not_a_plain_folder_name_is_one_line(name, run_name):
    assert "name" in one_line_user_error({**RESOLVED[name], "name": run_name})


def loose(value: Any, draw: st.DrawFn) -> Any:
    """The same value as a user may spell it in YAML."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and abs(value) >= 10:
        return draw(st.sampled_from([f"{value:e}", f"{value:_}", float(value)]))
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return draw(st.sampled_from([int(value), f"{value!r}"]))
    return value


@FUZZ
@given(st.data())
def test_valid_spellings_and_seeds_parse_to_the_same_config(data):
    name = data.draw(st.sampled_from(sorted(RESOLVED)))
    raw = copy.deepcopy(RESOLVED[name])
    paths = data.draw(st.lists(st.sampled_from(numeric_leaves(raw)), max_size=6, unique=True))
    for path in paths:
        get(raw, path[:-1])[path[-1]] = loose(get(raw, path), data.draw)
    seeds = RESOLVED[name].get("seeds", 1)  # a kind with `seeds: n` runs seed .. seed + n - 1
    last = SEED_MAX - (seeds - 1 if isinstance(seeds, int) else 0)
    seed = data.draw(st.integers(min_value=0, max_value=last))
    expected = kinds.parse({**RESOLVED[name], "seed": seed})
    assert kinds.parse({**raw, "seed": seed}) == expected
    assert kinds.parse(kinds.to_dict(expected)) == expected


def test_every_shipped_sweep_round_trips_and_a_bad_section_key_is_one_line():
    for name, raw in SHIPPED.items():
        if "sweep" not in raw:
            continue
        sweep = sweep_config.parse(raw)
        assert sweep_config.parse(sweep.to_dict()).trials == sweep.trials, name
        for bad in ({"seeds": HUGE}, {"num_samples": HUGE}, {"max_failures": -1}):
            with pytest.raises(UserError) as err:
                sweep_config.parse({**raw, "sweep": {**raw["sweep"], **bad}})
            assert "\n" not in str(err.value) and next(iter(bad)) in str(err.value)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tiny generative run to damage."""
    raw = {
        "name": "vae",
        "kind": "generative",
        "model": {"name": "vae", "latent_dim": 2, "hidden": [8]},
        "data": {"name": "moons", "n_train": 100, "n_val": 20, "n_test": 20},
        "train": {"steps": 2, "batch_size": 16, "device": "cpu"},
        "eval": {"samples": 20, "iwae_k": 2},
    }
    return kinds.start(kinds.parse(raw), tmp_path_factory.mktemp("runs"), quiet=True)


@settings(
    max_examples=max(EXAMPLES // 5, 1),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.sampled_from(["config.yaml", "state.json", "metrics.jsonl", "checkpoints/fit.pt"]),
    st.one_of(
        st.binary(max_size=64),
        st.text(max_size=64).map(str.encode),
        st.sampled_from([b"", b"[]", b"{}", b"null", b'{"status": 3}', b"\xff\xfe\x00"]),
    ),
)
def test_a_damaged_run_file_is_one_line_with_status_2(
    finished_run, tmp_path_factory, capsys, name, content
):
    run_dir = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(finished_run, run_dir)
    (run_dir / name).write_bytes(content)
    if name != "state.json":
        (run_dir / "state.json").write_text(json.dumps({"status": "interrupted"}))
    for argv in (["report", str(run_dir)], ["run", "--resume", str(run_dir), "--quiet"]):
        code = cli.main(argv)
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.strip()]
        assert code in (0, 2), (argv, code, err)
        assert "Traceback" not in err
        if code == 2:
            assert len(lines) == 1 and lines[0].startswith("emergent: error:"), lines
