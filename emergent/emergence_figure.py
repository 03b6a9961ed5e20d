"""The Emergence section's figure: one panel per metric, every run's curve, each detected
transition shaded from its onset to its end, each collapsing peak marked. `groups` are
(metric, its `emergence.Curve`s) pairs in the kind's order."""

from __future__ import annotations

import math
from pathlib import Path

from emergent.plotstyle import PALETTE

MAX_PANELS = 6
"""Metrics drawn in the figure (the first ones the kind names)."""


def plot(groups: list, x_label: str, record: dict, path: Path) -> bool:
    """The curves, one panel per metric, with each detected transition shaded from onset to
    end and each peak marked; False when there is nothing to draw."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    groups = [(m, cs) for m, cs in groups[:MAX_PANELS] if any(len(c.x) for c in cs)]
    if not groups:
        return False
    cols = min(3, len(groups))
    rows = math.ceil(len(groups) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.2 * rows), squeeze=False)
    marks = {(t["metric"], t["run"]): t for t in record["transitions"]}
    peaks = {(p["metric"], p["run"]): p for p in record["peaks"]}
    for ax, (metric, curves) in zip(axes.flat, groups, strict=False):
        for i, curve in enumerate(curves):
            color = PALETTE[i % len(PALETTE)]
            ax.plot(curve.x, curve.y, color=color, lw=1.4, label=curve.run or None)
            t = marks.get((metric, curve.run))
            if t is not None:
                ax.axvspan(t["onset"], max(t["end"], t["onset"]), color=color, alpha=0.15)
                ax.axvline(t["onset"], color=color, ls="--", lw=1.0)
            p = peaks.get((metric, curve.run))
            if p is not None:
                ax.plot([p["x"]], [p["height"]], marker="v", color=color, ms=8)
        if curves[0].log_x:
            ax.set_xscale("log")
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v)))
        found = sum((metric, c.run) in marks for c in curves)
        note = f"{found} transition{'s' * (found != 1)}" if found else "no transition"
        ax.set(xlabel=x_label, title=f"{curves[0].label}\n({note})")
        if len(curves) > 1 and len(curves) <= 8:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(groups) :]:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def compact(value: float) -> str:
    """A tick label: 50k, 1.5M, 250."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"
