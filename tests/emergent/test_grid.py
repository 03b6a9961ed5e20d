"""A grid experiment trains once per value and reports each metric against the value."""

from __future__ import annotations

import pytest

from emergent import kinds, rundir
from tests.conftest import tiny_raw

pytestmark = pytest.mark.slow


def test_grid_runs_every_point_reports_against_the_value_and_resume_skips_done_points(tmp_path):
    raw = {**tiny_raw(steps=320, eval_every=320), "grid": {"env.regrowth_scale": [0.5, 2.0]}}
    cfg = kinds.parse(raw)
    run_dir = kinds.start(cfg, tmp_path, quiet=True)

    for value in (0.5, 2.0):
        point = run_dir / "points" / f"env.regrowth_scale={value}"
        assert rundir.read_state(point)["status"] == "done"
        _, point_cfg = kinds.read_run(point)
        assert point_cfg.env.options.regrowth_scale == value and not point_cfg.grid
        assert (point / "report.md").is_file()
    assert (run_dir / "plots" / "against_parameter.png").stat().st_size > 5_000
    text = (run_dir / "report.md").read_text()
    assert "Against the literature" in text
    assert "| 0.5 |" in text and "| 2.0 |" in text

    done = run_dir / "points" / "env.regrowth_scale=0.5" / "metrics.jsonl"
    before = done.read_text()
    rundir.write_state(run_dir, status="interrupted")  # as after a Ctrl-C at the last point
    kinds.resume(run_dir, quiet=True)  # finished points are kept as they are
    assert done.read_text() == before
    assert rundir.read_state(run_dir)["status"] == "done"
