"""Bad input is one line and harmless: run names, seeds, non-finite numbers, damaged files, a
run directory used by two processes; and a resumed run's logs agree with each other."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from emergent import cli, kinds, rundir
from emergent.errors import UserError
from emergent.logger import MetricsLogger, read_rows
from tests.conftest import tiny_raw

ROOT = Path(__file__).resolve().parents[2]
GENERATIVE = {
    "name": "vae",
    "kind": "generative",
    "model": {"name": "vae", "latent_dim": 2, "hidden": [16]},
    "data": {"name": "moons", "n_train": 200, "n_val": 50, "n_test": 50},
    "train": {"steps": 4, "batch_size": 32, "device": "cpu"},
    "eval": {"samples": 50, "iwae_k": 2},
}


def one_line_error(argv: list[str], capsys: pytest.CaptureFixture, *fragments: str) -> str:
    assert cli.main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("raw", [tiny_raw(), GENERATIVE], ids=["rl", "generative"])
@pytest.mark.parametrize("name", ["../../x", "", "a/b", "..", " ", "a\\b"])
def test_run_names_are_plain_folder_names(raw, name):
    with pytest.raises(UserError, match="a name is a plain folder name") as err:
        kinds.parse({**raw, "name": name})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("raw", [tiny_raw(), GENERATIVE], ids=["rl", "generative"])
@pytest.mark.parametrize("seed", [-1, 2**32, 1e30])
def test_seeds_are_unsigned_32_bit_integers(raw, seed):
    with pytest.raises(UserError, match=r"seed") as err:
        kinds.parse({**raw, "seed": seed})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("agent", "learning_rate", float("inf")),
        ("agent", "ent_coef", float("nan")),
        ("env", "regrowth_scale", float("-inf")),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_key(section, key, value):
    raw = tiny_raw()
    raw[section] = {**raw[section], key: value}
    with pytest.raises(UserError, match=rf"{section}\.{key}: expected a finite number"):
        kinds.parse(raw)


def test_non_finite_numbers_in_generative_training_are_refused():
    for key in ("grad_clip", "weight_decay", "lr"):
        raw = {**GENERATIVE, "train": {**GENERATIVE["train"], key: float("nan")}}
        with pytest.raises(UserError, match=rf"train\.{key}: expected a finite number"):
            kinds.parse(raw)


def test_runs_dir_that_is_a_file_is_one_line(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_raw()))
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    one_line_error(
        ["run", str(config), "--runs-dir", str(blocker), "--quiet"],
        capsys,
        "cannot create the run directory",
        "--runs-dir",
    )


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "strftime", lambda fmt: "20261203-090000")
    with ThreadPoolExecutor(8) as pool:  # xargs -P starting runs of one experiment at once
        made = list(pool.map(lambda _: rundir.new_dir(tmp_path / "cleanup"), range(8)))
    names = sorted(p.name for p in made)
    assert names == sorted(["20261203-090000", *(f"20261203-090000-{n}" for n in range(2, 9))])


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\x00\xff\xfe binary", "cannot be read"),
        (b"", "found an empty file"),
        (b"- a\n- b\n", "found a list"),
        (b"name: [unclosed\n", "not valid YAML"),
    ],
    ids=["binary", "empty", "list", "malformed"],
)
def test_damaged_yaml_files_are_one_line_for_run_resume_and_report(
    tmp_path, capsys, content, fragment
):
    config = tmp_path / "bad.yaml"
    config.write_bytes(content)
    one_line_error(["run", str(config), "--runs-dir", str(tmp_path / "r")], capsys, fragment)
    one_line_error(["sweep", str(config), "--runs-dir", str(tmp_path / "r")], capsys, fragment)
    run_dir = tmp_path / "runs" / "tiny" / "20260101-000000"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_bytes(content)
    for argv in (["run", "--resume", str(run_dir)], ["report", str(run_dir)]):
        line = one_line_error(argv, capsys, fragment, "config.yaml")
        assert "restore the run's config.yaml" in line
    assert not (tmp_path / "r").exists()


def finished_generative_run(tmp_path: Path) -> Path:
    run_dir = kinds.start(kinds.parse(GENERATIVE), tmp_path / "runs", quiet=True)
    assert rundir.read_state(run_dir)["status"] == "done"
    return run_dir


@pytest.mark.slow
def test_damaged_state_and_metrics_files_are_one_line(tmp_path, capsys):
    run_dir = finished_generative_run(tmp_path)
    state = run_dir / "state.json"
    for damage in ("{not json", '["a list"]', '{"status": "exploded"}'):
        state.write_text(damage)
        one_line_error(["run", "--resume", str(run_dir)], capsys, "state.json", "interrupted")
    state.write_text('{"status": "done"}')
    metrics = run_dir / "metrics.jsonl"
    rows = metrics.read_text().splitlines()
    metrics.write_text("\n".join([rows[0], "garbage {", *rows[1:]]) + "\n")
    one_line_error(["report", str(run_dir)], capsys, "metrics.jsonl:2", "damaged")
    metrics.write_text("\n".join(['{"step": "three"}', *rows]) + "\n")
    one_line_error(["report", str(run_dir)], capsys, "metrics.jsonl:1", "integer step")
    metrics.write_text("\n".join([*rows, '{"step": 9, "kind": "tr']))  # cut short by a kill
    assert read_rows(metrics) == [json.loads(r) for r in rows]
    assert cli.main(["report", str(run_dir)]) == 0


@pytest.mark.slow
def test_a_second_process_resuming_the_same_run_is_refused(tmp_path, capsys):
    run_dir = finished_generative_run(tmp_path)
    rundir.write_state(run_dir, status="interrupted")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from emergent import rundir\n"
            "with rundir.lock(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(60)",
            str(run_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        one_line_error(["run", "--resume", str(run_dir), "--quiet"], capsys, "is in use by")
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert cli.main(["run", "--resume", str(run_dir), "--quiet"]) == 0  # released by the kill


def test_tensorboard_keeps_the_checkpoints_own_step_as_metrics_jsonl_does(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = MetricsLogger(tmp_path)
    for step in range(0, 60, 10):
        logger.log({"step": step, "kind": "train", "loss": float(step)})
    logger.close()
    resumed = MetricsLogger(tmp_path, resume_step=30)  # the checkpoint was at step 30
    for step in (40, 50, 60):
        resumed.log({"step": step, "kind": "train", "loss": step + 0.5})
    resumed.close()

    rows = read_rows(tmp_path / "metrics.jsonl")
    assert [(r["step"], r["loss"]) for r in rows] == [
        (0, 0.0),
        (10, 10.0),
        (20, 20.0),
        (30, 30.0),
        (40, 40.5),
        (50, 50.5),
        (60, 60.5),
    ]
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    scalars = events.Scalars("train/loss")
    assert [(e.step, e.value) for e in scalars] == [(r["step"], r["loss"]) for r in rows]


def test_a_zoo_needs_a_seed_and_the_top_level_usage_hint_names_the_command(capsys):
    zoo = {"name": "z", "kind": "gen_zoo", "datasets": ["moons"], "models": {"f": {"model": "maf"}}}
    with pytest.raises(UserError, match="seeds=0; must be from 1 to 1,000"):
        kinds.parse({**zoo, "seeds": 0})
    with pytest.raises(SystemExit) as exit_code:
        cli.main(["bogus"])
    assert exit_code.value.code == 2
    err = capsys.readouterr().err
    assert "(see `emergent --help`)" in err and "emergent emergent" not in err


@pytest.mark.slow
def test_a_resumed_generative_run_logs_each_step_once_in_both_logs(tmp_path, monkeypatch):
    """Ctrl-C after the checkpoint at step 20, in the middle of logging step 25: the resumed
    fit continues from 20, and metrics.jsonl and TensorBoard hold each step once, the same."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from emergent import modelfit
    from emergent.errors import Interrupted

    raw = {
        **GENERATIVE,
        "train": {**GENERATIVE["train"], "steps": 40, "checkpoint_every": 10, "log_every": 5},
    }
    real_fit = modelfit.fit

    def stopped_at_25(*args, on_log=None, **kwargs):
        def log(row):
            on_log(row)
            if row["step"] == 25:
                raise KeyboardInterrupt

        return real_fit(*args, on_log=log, **kwargs)

    monkeypatch.setattr(modelfit, "fit", stopped_at_25)
    with pytest.raises(Interrupted) as stop:
        kinds.start(kinds.parse(raw), tmp_path / "runs", quiet=True)
    run_dir = stop.value.run_dir
    monkeypatch.setattr(modelfit, "fit", real_fit)
    kinds.resume(run_dir, quiet=True)

    train = [r for r in read_rows(run_dir / "metrics.jsonl") if r["kind"] == "train"]
    assert [r["step"] for r in train] == [5, 10, 15, 20, 25, 30, 35, 40]
    events = EventAccumulator(str(run_dir / "tensorboard"))
    events.Reload()
    logged = [(e.step, e.value) for e in events.Scalars("train/loss")]
    assert logged == [(r["step"], pytest.approx(r["loss"])) for r in train]


def test_a_fit_that_starts_over_drops_every_row_of_the_session_that_was_stopped(tmp_path):
    """A fit killed before its first checkpoint starts over on resume: the rows it had logged
    would otherwise be there twice (the crash matrix found this in the lm kind)."""
    from emergent.logger import read_rows
    from emergent.modelfit import fit_logger

    rows = [{"step": s, "kind": "train", "loss": 1.0 / s} for s in (5, 10, 15)]
    for resume_step, kept in ((None, []), (10, [5, 10])):
        (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        fit_logger(tmp_path, resume_step).close()
        assert [r["step"] for r in read_rows(tmp_path / "metrics.jsonl")] == kept
