"""Emergence, found the same way for every experiment: the logged curves a kind names are searched
for transitions (`emergent.metrics.transitions`: when, how large, how sharp, in how many seeds),
all-or-nothing metrics are paired with continuous ones (Schaeffer et al. 2023), peaks that
collapse are found, and the kind's roles and its own claims are added; the result is one
"Emergence" section of report.md, one figure with the transitions marked
(`plots/emergence.png`) and `emergence.json`, which the gallery and sweeps read.

A kind describes what to look at with an `Analysis` (its `Kind.emergence`); the runner calls
`write` after every report, so a rebuilt report rebuilds the analysis too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emergent import emergence_figure, rundir
from emergent.metrics import transitions as tr

FILE = "emergence.json"
PLOT = Path("plots") / "emergence.png"
HEADING = "## Emergence"
MEASURES = ("continuous", "all_or_nothing")


@dataclass(frozen=True)
class Curve:
    """One logged curve of one run (a seed, or a setting) of one metric."""

    metric: str
    """The metric's key (curves of several seeds share it)."""
    label: str
    """What the metric is, for the figure and the sentences ('validation accuracy')."""
    x: Sequence[float]
    y: Sequence[float]
    run: str = ""
    """Which run of several this is ('seed 1', 'wd 0.03, seed 1'); '' for a run's only one."""
    measure: str = "continuous"
    """'continuous' (loss, return, a rate) or 'all_or_nothing' (accuracy, success, exact
    match): claims on the latter are paired with a continuous metric."""
    peak: bool = False
    """Also look for a peak that collapses (returns in a commons)."""
    log_x: bool = False
    """Search in log10 x, for a change whose time scale grows with x (grokking spans decades
    of epochs); positions are reported in x."""


@dataclass
class Analysis:
    """What a kind asks to be searched and said."""

    curves: list[Curve]
    x_label: str = "step"
    pairs: list[tuple[str, str]] = field(default_factory=list)
    """(all-or-nothing metric, continuous metric) of the same runs, compared run by run."""
    verdict: str = ""
    """The kind's own sentence on what emerged (its world's prose), else the first claim."""
    claims: list[str] = field(default_factory=list)
    """The kind's further sentences (roles, the dream gap), before the detected ones."""
    table: dict | None = None
    """{"title", "columns", "rows"}: the metrics a visitor should see beside the curves."""
    extra: dict = field(default_factory=dict)
    """Further findings for emergence.json (roles, diversity), plain data."""


def _xs(curve: Curve) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(curve.x, dtype=np.float64)
    y = np.asarray(curve.y, dtype=np.float64)
    if curve.log_x:
        keep = x > 0
        x, y = np.log10(x[keep]), y[keep]
    return x, y


def _back(curve: Curve, value: float) -> float:
    return float(10**value) if curve.log_x else float(value)


def number(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def transition_row(curve: Curve, t: tr.Transition) -> dict:
    return {
        "metric": curve.metric,
        "label": curve.label,
        "run": curve.run,
        "onset": _back(curve, t.onset),
        "end": _back(curve, t.end),
        "midpoint": _back(curve, t.midpoint),
        "before": t.before,
        "after": t.after,
        "jump": t.jump,
        "sharpness": t.sharpness,
        "direction": t.direction,
    }


def analyse(analysis: Analysis) -> dict:
    """The emergence record (what emergence.json holds) of an `Analysis`."""
    for curve in analysis.curves:
        if curve.measure not in MEASURES:
            raise ValueError(f"{curve.metric}: measure={curve.measure!r}; allowed: {MEASURES}")
    found: list[dict] = []
    peaks: list[dict] = []
    claims = list(analysis.claims)
    seeds: dict[str, dict] = {}
    for metric, curves in by_metric(analysis.curves).items():
        label = curves[0].label
        rows = []
        for curve in curves:
            x, y = _xs(curve)
            main = tr.main_transition(x, y)
            rows.append(transition_row(curve, main) if main is not None else None)
            if curve.peak and (p := tr.peak(x, y)) is not None:
                peaks.append(peak_row(curve, p))
        found += [r for r in rows if r is not None]
        if len(curves) > 1:
            seeds[metric] = seed_summary(curves)
        claims.append(metric_claim(label, curves, rows, seeds.get(metric), analysis.x_label))
    for p in peaks:
        claims.append(
            f"{label_of(analysis, p['metric'])}{run_note(p['run'])} peaks at "
            f"{analysis.x_label} {number(p['x'])} ({number(p['height'])}) and then loses "
            f"{p['decline_fraction']:.0%} of its rise."
        )
    pairs = pair_findings(analysis)
    claims += [p["sentence"] for p in pairs]
    verdict = analysis.verdict or next(
        (c for c in claims if "no transition" not in c), "No transition found in any curve."
    )
    return {
        "verdict": verdict,
        "claims": claims,
        "transitions": found,
        "peaks": peaks,
        "pairs": pairs,
        "seeds": seeds,
        "x_label": analysis.x_label,
        "table": analysis.table,
        **analysis.extra,
    }


def peak_row(curve: Curve, p: tr.Peak) -> dict:
    return {
        "metric": curve.metric,
        "run": curve.run,
        "x": _back(curve, p.x),
        "height": p.height,
        "rise": p.rise,
        "decline": p.decline,
        "final": p.final,
        "decline_fraction": p.decline_fraction,
    }


def by_metric(curves: list[Curve]) -> dict[str, list[Curve]]:
    out: dict[str, list[Curve]] = {}
    for curve in curves:
        out.setdefault(curve.metric, []).append(curve)
    return out


def label_of(analysis: Analysis, metric: str) -> str:
    return next((c.label for c in analysis.curves if c.metric == metric), metric)


def run_note(run: str) -> str:
    return f" ({run})" if run else ""


def seed_summary(curves: list[Curve]) -> dict:
    """Main transitions over the runs of one metric, IQM and bootstrap intervals
    (`transitions.across_seeds`), positions back in x."""
    summary = tr.across_seeds([_xs(c) for c in curves], rng=0)
    log = curves[0].log_x

    def interval(ci) -> list[float]:
        values = [float(ci.point), float(ci.low), float(ci.high)]
        return [float(10**v) if log and math.isfinite(v) else v for v in values]

    return {
        "runs": len(curves),
        "detected": summary.n_detected,
        "onset": interval(summary.onset),
        "midpoint": interval(summary.midpoint),
        "jump": [float(summary.jump.point), float(summary.jump.low), float(summary.jump.high)],
    }


def metric_claim(
    label: str, curves: list[Curve], rows: list[dict | None], seeds: dict | None, x_label: str
) -> str:
    """One sentence per metric: where it changes sharply, in how many runs."""
    hits = [r for r in rows if r is not None]
    short = max(len(c.x) for c in curves) < tr.MIN_POINTS
    if short:
        return (
            f"{label}: {max(len(c.x) for c in curves)} points logged, too few to look for a "
            f"transition (at least {tr.MIN_POINTS})."
        )
    if not hits:
        runs = f" in any of {len(curves)} runs" if len(curves) > 1 else ""
        return f"{label}: no transition{runs} (it changes smoothly, or not at all)."
    if seeds is None:
        r = hits[0]
        moves = "rises" if r["direction"] > 0 else "falls"
        return (
            f"{label} {moves} sharply at {x_label} {number(r['onset'])}: from "
            f"{number(r['before'])} to {number(r['after'])} by {number(r['end'])} "
            f"(sharpness {r['sharpness']:.0f})."
        )
    onset = seeds["onset"]
    ups = sum(r["direction"] > 0 for r in hits)
    moves = "rises" if ups * 2 >= len(hits) else "falls"
    return (
        f"{label} {moves} sharply in {len(hits)} of {len(curves)} runs, at {x_label} "
        f"{number(onset[0])} (IQM; 95 % interval {number(onset[1])} to {number(onset[2])})."
    )


def pair_findings(analysis: Analysis) -> list[dict]:
    """Each all-or-nothing metric beside its continuous partner, run by run."""
    out = []
    curves = by_metric(analysis.curves)
    for discrete, continuous in analysis.pairs:
        partners = {c.run: c for c in curves.get(continuous, [])}
        for curve in curves.get(discrete, []):
            other = partners.get(curve.run)
            if other is None or len(other.x) != len(curve.x):
                continue
            x, y = _xs(curve)
            _, z = _xs(other)
            found = tr.pair(x, y, z)
            if found.discrete is None:
                continue
            at = f"{analysis.x_label} {number(_back(curve, found.discrete.onset))}"
            moves = "jumps" if found.discrete.direction > 0 else "drops"
            if found.continuous is None:
                rest = (
                    f"{other.label} shows no jump there: the sharpness may be the metric's "
                    "(Schaeffer et al. 2023)"
                )
            else:
                turns = "rises" if found.continuous.direction > 0 else "falls"
                rest = (
                    f"{other.label} {turns} sharply there too (from {analysis.x_label} "
                    f"{number(_back(other, found.continuous.onset))}): not an artefact of "
                    "the metric"
                )
            head = f"{curve.label}{run_note(curve.run)} {moves} at {at}"
            out.append({
                "discrete": discrete,
                "continuous": continuous,
                "run": curve.run,
                "confirmed": found.confirmed,
                "sentence": f"{head[:1].upper()}{head[1:]}; {rest}.",
            })  # fmt: skip
    return out


MAX_LOSS_CURVES = 8
"""Training-loss curves the default analysis reads (a zoo's first cells)."""


def losses(run_dir: Path, cfg: object = None) -> Analysis:
    """The default analysis of a kind that names none: the training loss of its logs (the
    run's own metrics.jsonl, then its cells' metrics.jsonl or history.json), one curve each."""
    from emergent.logger import read_rows

    files = [run_dir / "metrics.jsonl"] + sorted(
        [*run_dir.glob("*/**/metrics.jsonl"), *run_dir.glob("*/**/history.json")]
    )
    curves = []
    for path in [f for f in files if f.is_file()]:
        rows = read_rows(path) if path.suffix == ".jsonl" else read_history(path)
        points = [(r["step"], r["loss"]) for r in rows if is_point(r, "loss")]
        if points:
            x, y = zip(*points, strict=True)
            run = path.parent.relative_to(run_dir).as_posix() if path.parent != run_dir else ""
            curves.append(Curve("loss", "training loss", x, y, run=run))
        if len(curves) == MAX_LOSS_CURVES:
            break
    if not curves:
        return Analysis([], verdict="This run logs no training curve to search for transitions.")
    return Analysis(curves)


def read_history(path: Path) -> list[dict]:
    """A cell's history.json: a list of logged rows ([] when unreadable)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def is_point(row: dict, key: str) -> bool:
    return isinstance(row.get("step"), int) and isinstance(row.get(key), float)


# -- the report's section and figure ----------------------------------------------------------


def section(record: dict, has_plot: bool) -> list[str]:
    """The report's "Emergence" section."""
    lines = [HEADING, "", record["verdict"], ""]
    lines += [f"- {c}" for c in record["claims"] if c != record["verdict"]]
    lines.append("")
    if has_plot:
        lines += [f"![emergence]({PLOT.as_posix()})", ""]
    if record["transitions"]:
        lines += [
            "| metric | run | onset | end | from | to | sharpness |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {t['metric']} | {t['run'] or '–'} | {number(t['onset'])} | {number(t['end'])} "
            f"| {number(t['before'])} | {number(t['after'])} | {t['sharpness']:.0f} |"
            for t in record["transitions"]
        ]
        lines.append("")
    lines += [
        "Transitions: change points of a piecewise-linear fit (PELT, `ruptures`, penalty "
        f"{tr.PENALTY_PARAMETERS:g} log(n) σ²), kept where a run of pieces is at least "
        f"{tr.STEEP_PIECE:g}× as steep as a straight line across the curve, "
        f"{tr.NEIGHBOUR_RATIO:g}× steeper than its neighbours, and rises at least "
        f"{tr.MIN_JUMP_SIGMAS:g} noise standard deviations; sharpness 1 is that straight line "
        "(`emergent.metrics.transitions`).",
        "",
    ]
    return lines


def write(run_dir: Path, analysis: Analysis) -> dict:
    """Analyse, draw plots/emergence.png, write emergence.json, and put the section into
    report.md (before its first '## ' section, replacing an earlier one)."""
    record = analyse(analysis)
    groups = list(by_metric(analysis.curves).items())
    has_plot = emergence_figure.plot(groups, analysis.x_label, record, run_dir / PLOT)
    record["plot"] = PLOT.as_posix() if has_plot else None
    rundir.write_text_atomic(run_dir / FILE, json.dumps(clean(record), indent=1))
    report = run_dir / "report.md"
    if report.is_file():
        text = report.read_text(encoding="utf-8")
        rundir.write_text_atomic(report, splice(text, section(record, has_plot)))
    return record


def splice(text: str, lines: list[str]) -> str:
    """report.md with the Emergence section placed before its first '## ' section (an older
    Emergence section is replaced)."""
    body = text.split("\n")
    if HEADING in body:  # drop the old section: up to the next '## ' heading
        start = body.index(HEADING)
        end = next((i for i in range(start + 1, len(body)) if body[i].startswith("## ")), None)
        body = body[:start] + (body[end:] if end is not None else [])
    at = next((i for i, line in enumerate(body) if line.startswith("## ")), len(body))
    return "\n".join(body[:at] + lines + body[at:])


def clean(value):
    """Plain JSON: NaN and infinities as null, NumPy scalars as numbers."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read(run_dir: Path) -> dict | None:
    """A run's emergence.json (None when there is none or it is damaged)."""
    try:
        found = json.loads((run_dir / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None
