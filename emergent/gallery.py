"""`emergent gallery RUNS_DIR`: a static site of every run's emergence, side by side, that
opens offline in a browser (no server, no script, no network).

```
RUNS_DIR/gallery/index.html        one card per run or sweep: its emergence plot, its verdict
RUNS_DIR/gallery/<name>--<stamp>.html   one page each: the curves with the detected transitions
                                   marked, the findings, the metrics, the episode GIFs, every
                                   plot of the report, links to report.md and config.yaml and
                                   the TensorBoard command
```
A run is `RUNS_DIR/<name>/<stamp>/` with `config.yaml` (a sweep: with `sweep.yaml`), as
`emergent run` and `emergent sweep` make them. The site links to the runs' own files by
relative paths (nothing is copied), so it stays small and keeps working wherever the runs
directory is moved or mounted, as long as the site stays inside it. What a page says of
emergence is the run's `emergence.json` (`emergent.emergence`), written with its report; a run
without one (made before the analysis existed) gets its report rebuilt first.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from emergent import emergence, rundir
from emergent.errors import UserError

SITE = "gallery"
"""The site's folder inside the runs directory."""
MAX_GIFS = 3
"""Episode GIFs shown per page (the report links the rest)."""
STATUS_ORDER = {"done": 0, "interrupted": 1, "running": 2}


@dataclass
class Entry:
    """One run or sweep as the site shows it."""

    path: Path
    name: str
    stamp: str
    kind: str
    sweep: bool
    status: str
    title: str
    emergence: dict = field(default_factory=dict)
    plots: list[Path] = field(default_factory=list)
    gifs: list[Path] = field(default_factory=list)

    @property
    def page(self) -> str:
        return f"{safe(self.name)}--{safe(self.stamp)}.html"

    @property
    def thumbnail(self) -> Path | None:
        preferred = self.path / "plots" / "emergence.png"
        if preferred.is_file():
            return preferred
        return self.plots[0] if self.plots else None


def safe(text: str) -> str:
    """A file-name-safe form of a run name or stamp."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def build(runs_dir: str | Path, out: str | Path | None = None, refresh: bool = True) -> Path:
    """Write the site for every run under `runs_dir`; return its index.html.

    Args:
        runs_dir: a runs directory (`--runs-dir` of `emergent run`).
        out: the site's folder (default `runs_dir/gallery`).
        refresh: rebuild the report of a finished run that has no emergence.json yet.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise UserError(f"gallery: {str(runs_dir)!r} is not a directory; give a runs directory")
    site = Path(out) if out is not None else runs_dir / SITE
    entries = find(runs_dir, site, refresh)
    if not entries:
        raise UserError(
            f"gallery: no runs under {str(runs_dir)!r} (expected <name>/<stamp>/config.yaml); "
            "run an experiment first, e.g. `emergent run experiments/commons.yaml`"
        )
    site.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        rundir.write_text_atomic(site / entry.page, page_html(entry, site))
    index = site / "index.html"
    rundir.write_text_atomic(index, index_html(entries, site, runs_dir))
    return index


def find(runs_dir: Path, site: Path, refresh: bool) -> list[Entry]:
    """Every run and sweep at runs_dir/<name>/<stamp>/, finished ones first, newest first."""
    entries = []
    for config in sorted(runs_dir.glob("*/*/config.yaml")) + sorted(
        runs_dir.glob("*/*/sweep.yaml")
    ):
        path = config.parent
        if site in (path, *path.parents) or any(e.path == path for e in entries):
            continue
        entry = read_entry(path, refresh)
        if entry is not None:
            entries.append(entry)
    entries.sort(key=lambda e: e.stamp, reverse=True)
    entries.sort(key=lambda e: STATUS_ORDER.get(e.status, 3))
    return entries


def read_entry(path: Path, refresh: bool) -> Entry | None:
    """One run or sweep directory as an `Entry` (None: not one of ours)."""
    sweep = (path / "sweep.yaml").is_file()
    try:
        raw = yaml.safe_load((path / ("sweep.yaml" if sweep else "config.yaml")).read_text())
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(raw, dict):
        return None
    status = (
        "done"
        if sweep and (path / "report.md").is_file()
        else rundir.read_state(path).get("status", "unknown")
    )
    if refresh and status == "done" and not (path / emergence.FILE).is_file() and not sweep:
        rebuild(path)
    name = str(raw.get("name", path.parent.name))
    return Entry(
        path=path,
        name=name,
        stamp=path.name,
        kind="sweep" if sweep else str(raw.get("kind", "rl")),
        sweep=sweep,
        status=status,
        title=report_title(path / "report.md") or name,
        emergence=emergence.read(path) or {},
        plots=sorted((path / "plots").glob("*.png")),
        gifs=sorted((path / "episodes").glob("*.gif"))[:MAX_GIFS],
    )


def rebuild(path: Path) -> None:
    """Rebuild a finished run's report (which writes its emergence.json); a run the code
    can no longer read is shown as it is."""
    from emergent import kinds  # the runner's table: imported only when a report is rebuilt

    with contextlib.suppress(UserError):
        kinds.report(path)


def report_title(path: Path) -> str:
    """The first '# ' line of a report, without the hash."""
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    except OSError:
        pass
    return ""


# -- HTML ------------------------------------------------------------------------------------

STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0; color: #1d2430; background: #f6f7f9; line-height: 1.45; }
header { background: #1f5fa8; color: white; padding: 1.2rem 2rem; }
header h1 { margin: 0; font-size: 1.6rem; } header p { margin: 0.3rem 0 0; opacity: 0.9; }
header a { color: white; }
header code { background: rgba(255,255,255,0.18); color: white; }
main { padding: 1.2rem 2rem 3rem; max-width: 1400px; margin: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr));
        gap: 1.2rem; }
.card { background: white; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,0.12);
        padding: 1rem; display: flex; flex-direction: column; }
.card h2 { font-size: 1.1rem; margin: 0 0 0.3rem; }
.card a.title { color: #1d2430; text-decoration: none; } .card a.title:hover { color: #1f5fa8; }
.card img { width: 100%; border-radius: 4px; margin: 0.5rem 0; background: #fafafa; }
.meta { color: #667085; font-size: 0.85rem; }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 999px; font-size: 0.75rem;
         background: #e8eef7; color: #1f5fa8; margin-right: 0.3rem; }
.badge.warn { background: #fdecea; color: #b42318; }
.verdict { font-size: 0.95rem; }
section { background: white; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,0.12);
          padding: 1rem 1.4rem; margin-bottom: 1.2rem; }
section h2 { margin-top: 0; font-size: 1.2rem; }
section img { max-width: 100%; }
.gifs img { image-rendering: pixelated; max-height: 320px; margin-right: 1rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #e4e7ec; padding: 0.3rem 0.8rem; text-align: left; }
code, pre { background: #f2f4f7; border-radius: 4px; padding: 0.1rem 0.3rem; }
pre { padding: 0.6rem; overflow-x: auto; }
"""


def inline(text: str) -> str:
    """Escaped text with the reports' **bold** and `code` kept."""
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def link(target: Path, site: Path) -> str:
    """A relative URL from the site's folder to a file (percent-encoded where needed)."""
    rel = Path(os.path.relpath(target.resolve(), site.resolve())).as_posix()
    return html.escape(re.sub(r"[ #%?]", lambda m: f"%{ord(m.group()):02X}", rel), quote=True)


def document(title: str, heading: str, subtitle: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<header><h1>{heading}</h1><p>{subtitle}</p></header>",
        "<main>",
        *body,
        "</main></body></html>",
        "",
    ])  # fmt: skip


def verdict_of(entry: Entry) -> str:
    found = entry.emergence.get("verdict")
    if found:
        return str(found)
    if entry.status != "done":
        return f"This run is {entry.status}: nothing to say yet."
    return "No emergence analysis for this run: `emergent report` rebuilds it."


def badges(entry: Entry) -> str:
    parts = [f'<span class="badge">{html.escape(entry.kind)}</span>']
    if entry.status != "done":
        parts.append(f'<span class="badge warn">{html.escape(entry.status)}</span>')
    count = len(entry.emergence.get("transitions", []))
    if count:
        parts.append(f'<span class="badge">{count} transition{"s" * (count != 1)}</span>')
    return "".join(parts)


def index_html(entries: list[Entry], site: Path, runs_dir: Path) -> str:
    cards = []
    for entry in entries:
        thumb = entry.thumbnail
        image = (
            f'<a href="{entry.page}"><img src="{link(thumb, site)}" alt="{html.escape(entry.name)}'
            ' curves"></a>'
            if thumb is not None
            else ""
        )
        cards.append(
            '<div class="card">'
            f'<h2><a class="title" href="{entry.page}">{html.escape(entry.title)}</a></h2>'
            f'<div class="meta">{badges(entry)} {html.escape(entry.stamp)}</div>{image}'
            f'<div class="verdict">{inline(verdict_of(entry))}</div></div>'
        )
    subtitle = (
        f"{len(entries)} run{'s' * (len(entries) != 1)} in <code>{html.escape(str(runs_dir))}"
        "</code>: when something emerged, how sharply, and whether it holds."
    )
    return document(
        "emergent gallery", "Emergence gallery", subtitle, ['<div class="grid">', *cards, "</div>"]
    )


def page_html(entry: Entry, site: Path) -> str:
    em = entry.emergence
    body = [
        f'<p><a href="index.html">← all runs</a> · {badges(entry)}</p>',
        f'<section><h2>Verdict</h2><p class="verdict">{inline(verdict_of(entry))}</p>',
    ]
    claims = [str(c) for c in em.get("claims", [])]
    if claims:
        body += ["<ul>", *(f"<li>{inline(c)}</li>" for c in claims), "</ul>"]
    body.append("</section>")
    emergence_plot = entry.path / "plots" / "emergence.png"
    if emergence_plot.is_file():
        body += [
            "<section><h2>Curves and detected transitions</h2>",
            f'<img src="{link(emergence_plot, site)}" alt="curves with detected transitions">',
            "</section>",
        ]
    table = em.get("table")
    if isinstance(table, dict) and table.get("rows"):
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.get("columns", []))
        rows = [
            "<tr>" + "".join(f"<td>{inline(str(c))}</td>" for c in row) + "</tr>"
            for row in table["rows"]
        ]
        body += [
            f"<section><h2>{html.escape(str(table.get('title', 'Metrics')))}</h2>",
            f"<table><tr>{head}</tr>",
            *rows,
            "</table></section>",
        ]
    if entry.gifs:
        images = "".join(
            f'<img src="{link(gif, site)}" alt="episode {html.escape(gif.stem)}">'
            for gif in entry.gifs
        )
        body.append(f'<section class="gifs"><h2>Episodes</h2>{images}</section>')
    others = [p for p in entry.plots if p.name != "emergence.png"]
    if others:
        body.append("<section><h2>The report's figures</h2>")
        body += [f'<p><img src="{link(p, site)}" alt="{html.escape(p.stem)}"></p>' for p in others]
        body.append("</section>")
    body.append(files_section(entry, site))
    subtitle = f"{html.escape(entry.name)} · {html.escape(entry.stamp)}"
    return document(entry.title, html.escape(entry.title), subtitle, body)


def files_section(entry: Entry, site: Path) -> str:
    files = [f for f in ("report.md", "sweep.yaml" if entry.sweep else "config.yaml")
             if (entry.path / f).is_file()]  # fmt: skip
    links = " · ".join(f'<a href="{link(entry.path / f, site)}">{f}</a>' for f in files)
    logdir = entry.path / "trials" if entry.sweep else entry.path
    command = "emergent sweep --resume" if entry.sweep else "emergent run --resume"
    return (
        f"<section><h2>Files</h2><p>{links}</p>"
        f"<p>TensorBoard:</p><pre>tensorboard --logdir {html.escape(str(logdir))}</pre>"
        f"<p>Directory: <code>{html.escape(str(entry.path))}</code> (an unfinished run "
        f"continues with <code>{command} {html.escape(str(entry.path))}</code>)</p></section>"
    )


# -- checking a built site -------------------------------------------------------------------

LINK = re.compile(r'(?:src|href)="([^"]+)"')


def broken_links(site: str | Path) -> list[str]:
    """'page: target' for every local link or image of the site's pages that leads nowhere
    (external links are not checked: the site has none)."""
    site = Path(site)
    broken = []
    for page in sorted(site.glob("*.html")):
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            url = html.unescape(target)
            if re.match(r"^[a-z]+:", url) or url.startswith("#"):
                broken.append(f"{page.name}: {url} (not a local file)")
                continue
            path = re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), url)
            if not (site / path).is_file():
                broken.append(f"{page.name}: {url}")
    return broken
