"""Figures of an induction-head experiment: the in-context score and loss curves, each head's
prefix-matching score, and the best heads' attention maps."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from emergent.plotstyle import PALETTE


def curves(rows: dict[str, list[dict]], jumps: dict[str, tuple], path: Path) -> None:
    """In-context score (top) and held-out loss (bottom) of each model against the step; the
    model's jump window shaded, its midpoint dashed. `jumps`: label -> (step, start, end)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.0, 5.6), sharex=True)
    for i, (label, mine) in enumerate(rows.items()):
        color = PALETTE[i % len(PALETTE)]
        evals = [r for r in mine if r.get("kind") == "eval" and r.get("in_context") is not None]
        steps = [r["step"] for r in evals]
        top.plot(steps, [r["in_context"] for r in evals], color=color, lw=1.6, label=label)
        bottom.plot(steps, [r["loss"] for r in evals], color=color, lw=1.6, label=label)
        jump = jumps.get(label)
        if jump and all(np.isfinite(v) for v in jump):
            top.axvspan(jump[1], jump[2], color=color, alpha=0.12)
            top.axvline(jump[0], color=color, ls="--", lw=1)
    top.set(ylabel="in-context score (nats)", title="Late-token loss minus early-token loss")
    bottom.set(xlabel="step", ylabel="held-out loss (nats/token)")
    top.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def head_bars(scores: dict[str, list[list[float]]], target: float, path: Path) -> None:
    """One bar per head (grouped by model, labelled layer.head) of its final prefix-matching
    score, with the target dashed."""
    labels, values, colors = [], [], []
    for i, (label, layers) in enumerate(scores.items()):
        for layer, heads in enumerate(layers):
            for head, value in enumerate(heads):
                labels.append(f"{label} {layer}.{head}")
                values.append(value)
                colors.append(PALETTE[i % len(PALETTE)])
    fig, ax = plt.subplots(figsize=(max(5.0, 0.32 * len(values) + 1.5), 3.6))
    ax.bar(np.arange(len(values)), values, color=colors)
    ax.axhline(target, color="#444444", ls="--", lw=1, label=f"target {target:g}")
    ax.set_xticks(np.arange(len(values)), labels, rotation=90, fontsize=7)
    ax.set(ylabel="prefix-matching score", ylim=(0, 1), title="Prefix matching of each head")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def attention_maps(maps: dict[str, tuple[np.ndarray, str]], half_len: int, path: Path) -> None:
    """The attention map (T, T) of each model's best head on one held-out sequence; the
    diagonal where an induction head looks (query t, key t - half_len + 1) dotted."""
    fig, axes = plt.subplots(1, len(maps), figsize=(4.2 * len(maps), 4.0), squeeze=False)
    for ax, (label, (grid, name)) in zip(axes[0], maps.items(), strict=True):
        T = grid.shape[0]
        ax.imshow(grid, cmap="Blues", vmin=0, vmax=1)
        t = np.arange(half_len, T)
        ax.plot(t - half_len + 1, t, ":", color="#d1495b", lw=1)
        ax.set(title=f"{label}: head {name}", xlabel="key position", ylabel="query position")
        ax.grid(False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
