"""The gallery: a static site over a runs directory whose every link and image resolves, with
each run's verdict, findings, figures and GIFs; checked without a browser (and in headless
Chromium where one is installed)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from emergent import browser, cli, gallery


def picture(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 12, 3), 200, np.uint8)).save(path)


def fake_run(runs: Path, name: str, stamp: str, status: str = "done", kind: str = "rl") -> Path:
    run = runs / name / stamp
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"name": name, "kind": kind}))
    (run / "state.json").write_text(json.dumps({"status": status}))
    (run / "report.md").write_text(f"# {name}: a test world\n\nText.\n")
    picture(run / "plots" / "emergence.png")
    picture(run / "plots" / "return curve.png")  # a space: the URL must encode it
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (0, 255)]
    (run / "episodes").mkdir()
    frames[0].save(run / "episodes" / "final.gif", save_all=True, append_images=frames[1:])
    (run / "emergence.json").write_text(json.dumps({
        "verdict": f"**{name}**: the return rises at step 1,000.",
        "claims": ["return: rises from 1.0 to 9.0 at step 1,000 (sharp)"],
        "transitions": [{"metric": "return", "onset": 1000}],
        "table": {"title": "Metrics", "columns": ["metric", "value"], "rows": [["return", "9.0"]]},
    }))  # fmt: skip
    return run


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    fake_run(runs, "commons", "20261203-010101")
    fake_run(runs, "cleanup", "20261203-020202", status="interrupted")
    sweep = runs / "scarcity" / "20261203-030303"
    sweep.mkdir(parents=True)
    (sweep / "sweep.yaml").write_text(yaml.safe_dump({"name": "scarcity"}))
    (sweep / "report.md").write_text("# scarcity: a sweep\n")
    (sweep / "trials" / "seed=0").mkdir(parents=True)
    (sweep / "trials" / "seed=0" / "config.yaml").write_text("name: scarcity\n")  # not a run
    return runs


def links(page: Path) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page.read_text())


def test_the_site_has_an_index_and_a_page_per_run_whose_links_all_resolve(runs):
    index = gallery.build(runs)
    site = index.parent
    assert index == runs / "gallery" / "index.html"
    pages = sorted(p.name for p in site.glob("*.html"))
    assert pages == [
        "cleanup--20261203-020202.html",
        "commons--20261203-010101.html",
        "index.html",
        "scarcity--20261203-030303.html",
    ]
    assert gallery.broken_links(site) == []
    assert all(not re.match(r"^(/|[a-z]+:)", url) for p in site.glob("*.html") for url in links(p))
    text = (site / "commons--20261203-010101.html").read_text()
    assert "<strong>commons</strong>: the return rises at step 1,000." in text
    assert "return: rises from 1.0 to 9.0" in text and "<td>9.0</td>" in text
    assert "final.gif" in text and "return%20curve.png" in text
    assert "tensorboard --logdir" in text and 'href="../commons/20261203-010101/report.md"' in text
    front = index.read_text()
    # finished runs newest first, then unfinished ones, marked
    assert front.index("scarcity--") < front.index("commons--") < front.index("cleanup--")
    assert "interrupted" in front


def test_a_missing_image_is_reported_as_a_broken_link(runs):
    site = gallery.build(runs).parent
    (runs / "commons" / "20261203-010101" / "episodes" / "final.gif").unlink()
    assert gallery.broken_links(site) == [
        "commons--20261203-010101.html: ../commons/20261203-010101/episodes/final.gif"
    ]


def test_text_from_runs_is_escaped(runs):
    run = fake_run(runs, "odd", "20261203-040404")
    (run / "emergence.json").write_text(json.dumps({"verdict": "<script>alert(1)</script>"}))
    text = (gallery.build(runs).parent / "odd--20261203-040404.html").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_the_command_builds_the_site_and_refuses_an_empty_directory(runs, tmp_path, capsys):
    assert cli.main(["gallery", str(runs), "--out", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "index.html").is_file()
    assert gallery.broken_links(tmp_path / "site") == []
    (tmp_path / "empty").mkdir()
    assert cli.main(["gallery", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("emergent: error: gallery: no runs under") and "\n" not in err


def test_browser_problems_are_read_from_devtools_events():
    events = [
        {"method": "Runtime.consoleAPICalled",
         "params": {"type": "error", "args": [{"value": "boom"}]}},
        {"method": "Runtime.consoleAPICalled",
         "params": {"type": "log", "args": [{"value": "ok"}]}},
        {"method": "Network.loadingFailed", "params": {"errorText": "net::ERR_FILE_NOT_FOUND"}},
        {"method": "Log.entryAdded", "params": {"entry": {"level": "error", "text": "Failed",
                                                          "url": "file:///x.png"}}},
        {"method": "Runtime.exceptionThrown", "params": {"exceptionDetails": {"text": "Uncaught"}}},
    ]  # fmt: skip
    assert browser.problems(events) == [
        "console error: boom",
        "request failed: net::ERR_FILE_NOT_FOUND",
        "error: Failed file:///x.png",
        "uncaught: Uncaught",
    ]


@pytest.mark.skipif(
    not any(shutil.which(b) for b in browser.BROWSERS), reason="no Chromium on this machine"
)
def test_headless_chromium_sees_every_page_and_a_broken_image(runs, tmp_path):
    site = gallery.build(runs).parent
    shots = tmp_path / "shots"
    assert browser.check_site(site, shots) == []
    assert len(list(shots.glob("*.png"))) == 4
    (runs / "commons" / "20261203-010101" / "plots" / "emergence.png").unlink()
    found = browser.check_site(site, shots)
    assert any("image does not load: ../commons/20261203-010101/plots/emergence.png" in p
               for p in found)  # fmt: skip
