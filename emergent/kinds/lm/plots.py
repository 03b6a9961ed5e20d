"""Figures of the language-model ladder: validation loss per model, and training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from emergent.plotstyle import PALETTE


def ladder_bars(
    results: list[dict], path: Path, title: str, lines: dict[str, float] | None = None
) -> None:
    """Horizontal bars of each model's validation nats per character, top to bottom in the
    ladder's order, with reference values (`lines`: label -> nats per character) dashed."""
    labels = [
        r["label"] if r["label"] == r["model"] else f"{r['label']} ({r['model']})" for r in results
    ]
    values = np.array([r["val_nats_per_char"] for r in results])
    fig, ax = plt.subplots(figsize=(6.4, 0.5 * len(results) + 1.8))
    y = np.arange(len(results))[::-1]
    ax.barh(y, values, color=[PALETTE[i % len(PALETTE)] for i in range(len(results))])
    for yi, value in zip(y, values, strict=True):
        ax.text(
            value * 1.01, yi, f"{value:.3f}", va="center", fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )  # fmt: skip
    for i, (label, value) in enumerate((lines or {}).items()):
        ax.axvline(value, color="#444444", ls=("--", ":")[i % 2], lw=1, label=label)
    if lines:
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    ax.set(yticks=y, yticklabels=labels, xlabel="validation loss (nats per character)")
    ax.set_xlim(0, max(values.max(), *(lines or {0: 0}).values()) * 1.18)
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def curves(rows: dict[str, list[dict]], finals: dict[str, float], path: Path, title: str) -> None:
    """Training loss (solid: the mean of each log window's batches) and the validation
    estimate (dashed) of each gradient-trained model against the step, in nats per token;
    closed-form models as dotted lines at their exact validation loss."""
    fig, ax = plt.subplots(figsize=(8.0, 4.0))
    for i, (label, mine) in enumerate(rows.items()):
        color = PALETTE[i % len(PALETTE)]
        train = [r for r in mine if r.get("kind") == "train" and r.get("loss") is not None]
        val = [r for r in mine if r.get("kind") == "val" and r.get("loss") is not None]
        if train:
            ax.plot([r["step"] for r in train], [r["loss"] for r in train], color=color, lw=1.4,
                    label=f"{label} train")  # fmt: skip
        if val:
            ax.plot([r["step"] for r in val], [r["loss"] for r in val], color=color, lw=1.4,
                    ls="--", label=f"{label} validation")  # fmt: skip
        if not train and not val and label in finals:
            ax.axhline(finals[label], color=color, ls=":", lw=1.2, label=f"{label} (closed form)")
    ax.set(xlabel="step", ylabel="loss (nats per token)", title=title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
