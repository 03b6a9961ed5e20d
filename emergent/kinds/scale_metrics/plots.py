"""Figures of a scale-metrics run: the metrics against parameters, side by side, and every
size's training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from emergent.plotstyle import PALETTE

Found = dict[str, dict[int, dict | None]]
"""size label -> seed -> result.json (None before the trial is finished)."""
Logs = dict[str, dict[int, list[dict]]]
"""size label -> seed -> metrics.jsonl rows."""
PANELS = (
    ("exact_match", "exact match (greedy)", (-0.02, 1.02)),
    ("cross_entropy", "per-token cross-entropy (nats)", None),
    ("edit_distance", "edit distance (tokens)", None),
)


def scale_panels(found: Found, digits: int, path: Path, title: str) -> None:
    """Exact match, cross-entropy and edit distance against parameters (log axis): each seed
    a dot, the seeds' mean a line; p^(k+1) from the digit accuracy dashed beside exact match."""
    done = {label: [r for r in by_seed.values() if r is not None] for label, by_seed in
            found.items()}  # fmt: skip
    done = {label: rs for label, rs in done.items() if rs}
    n = np.array([rs[0]["parameters"] for rs in done.values()], dtype=float)
    order = np.argsort(n)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(12.6, 3.8))
    for ax, (key, label, ylim) in zip(axes, PANELS, strict=True):
        for x, rs in zip(n, done.values(), strict=True):
            ax.scatter([x] * len(rs), [r[key] for r in rs], color=PALETTE[0], s=14, alpha=0.5)
        mean = np.array([np.mean([r[key] for r in rs]) for rs in done.values()])
        ax.plot(n[order], mean[order], color=PALETTE[0], lw=1.8, marker="o", label="measured")
        if key == "exact_match":
            independent = np.array(
                [np.mean([r["digit_accuracy"] ** (digits + 1) for r in rs]) for rs in done.values()]
            )
            ax.plot(n[order], independent[order], color=PALETTE[1], lw=1.4, ls="--",
                    label=f"p^{digits + 1}, p = digit accuracy")  # fmt: skip
            ax.legend(fontsize=8, loc="upper left")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: minor labels collide
        ax.set(xlabel="parameters", ylabel=label)
        if ylim is not None:
            ax.set_ylim(*ylim)
        else:
            ax.set_ylim(bottom=0)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    mine = [r for r in rows if r.get("kind") == "eval" and r.get(key) is not None]
    return [r["step"] for r in mine], [r[key] for r in mine]


def training_curves(logs: Logs, path: Path) -> None:
    """Held-out exact match and cross-entropy of every size and seed against the step; the
    colour runs from the smallest size (dark) to the largest (light)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 3.8))
    for i, (label, by_seed) in enumerate(logs.items()):
        color = plt.cm.viridis(0.9 * i / max(len(logs) - 1, 1))
        for j, rows in enumerate(by_seed.values()):
            name = label if j == 0 else None
            left.plot(*series(rows, "exact_match"), color=color, lw=1.3, label=name)
            right.plot(*series(rows, "cross_entropy"), color=color, lw=1.3, label=name)
    left.set(xlabel="step", ylabel="exact match (greedy)", ylim=(-0.02, 1.02))
    right.set(xlabel="step", ylabel="per-token cross-entropy (nats)")
    right.set_yscale("log")
    right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
