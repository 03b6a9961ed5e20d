"""Figures of a grokking run: accuracy and weight norm against the epoch, Fourier spectra."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from emergent.plotstyle import PALETTE

Logs = dict[float, dict[int, list[dict]]]
"""weight decay -> seed -> metrics.jsonl rows."""


def series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    mine = [r for r in rows if r.get("kind") == "train" and r.get(key) is not None]
    return [r["step"] for r in mine], [r[key] for r in mine]


def accuracy_curves(logs: Logs, path: Path, title: str) -> None:
    """One panel per weight decay: train (solid) and validation (dashed) accuracy of each seed
    against the epoch on a log axis."""
    fig, axes = plt.subplots(1, len(logs), figsize=(4.2 * len(logs), 3.4), squeeze=False)
    for ax, (wd, by_seed) in zip(axes[0], logs.items(), strict=True):
        for i, (seed, rows) in enumerate(by_seed.items()):
            color = PALETTE[i % len(PALETTE)]
            ax.plot(*series(rows, "train_acc"), color=color, lw=1.3, label=f"seed {seed} train")
            ax.plot(*series(rows, "val_acc"), color=color, lw=1.3, ls="--",
                    label=f"seed {seed} validation")  # fmt: skip
        ax.set_xscale("log")
        ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title=f"weight decay {wd:g}")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def norm_curves(logs: Logs, path: Path) -> None:
    """The weight norm of every trial against the epoch (log axis), coloured by weight decay."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for i, (wd, by_seed) in enumerate(logs.items()):
        for j, rows in enumerate(by_seed.values()):
            ax.plot(*series(rows, "weight_norm"), color=PALETTE[i % len(PALETTE)], lw=1.2,
                    label=f"weight decay {wd:g}" if j == 0 else None)  # fmt: skip
    ax.set_xscale("log")
    ax.set(xlabel="epoch", ylabel="weight norm ||θ||₂")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def spectra(power: dict[str, np.ndarray], path: Path, p: int) -> None:
    """One bar panel per spectrum (label -> share of the power at k = 1..p // 2)."""
    fig, axes = plt.subplots(len(power), 1, figsize=(7.2, 1.9 * len(power) + 0.6), sharex=True,
                             squeeze=False)  # fmt: skip
    k = np.arange(1, p // 2 + 1)
    for i, (ax, (label, shares)) in enumerate(zip(axes[:, 0], power.items(), strict=True)):
        ax.bar(k, shares, color=PALETTE[i % len(PALETTE)], width=0.8)
        ax.set(ylabel="power share", title=label)
    axes[-1, 0].set_xlabel(f"frequency k (of 2πk/{p})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
