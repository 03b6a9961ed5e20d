"""Figures of a talking-agents experiment: success over training, success under each channel,
and, with grounding, the trade-off between task success and the language model's perplexity."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from emergent.plotstyle import PALETTE


def training(logs: dict[str, list[dict]], chance: float, path: Path) -> None:
    """Success in the world on training and held-out objects against the step, one colour per
    trial (solid: training split, dashed: held out); chance dotted."""
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    for i, (label, rows) in enumerate(logs.items()):
        color = PALETTE[i % len(PALETTE)]
        evals = [r for r in rows if r.get("kind") == "eval"]
        steps = [r["step"] for r in evals]
        ax.plot(steps, [r["success_train"] for r in evals], color=color, lw=1.8,
                label=f"{label}: training objects")  # fmt: skip
        ax.plot(steps, [r["success_held_out"] for r in evals], color=color, lw=1.4, ls="--",
                label=f"{label}: held-out objects")  # fmt: skip
    ax.axhline(chance, color="#555555", ls=":", lw=1.2, label=f"chance 1/K = {chance:.2f}")
    ax.set(xlabel="training step", ylabel="games won", ylim=(0, 1.02),
           title="Success in the Signalling world (greedy play)")  # fmt: skip
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def channels(result: dict, path: Path) -> None:
    """Bars: success on training objects with the channel open, cut and scrambled, on
    held-out objects, and chance."""
    names = ["open", "held-out objects", "channel cut", "channel scrambled", "chance"]
    keys = ["success_train", "success_held_out", "success_cut", "success_scrambled", "chance"]
    values = [result[k] for k in keys]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    colors = [PALETTE[0], PALETTE[1], PALETTE[3 % len(PALETTE)], PALETTE[2], "#888888"]
    ax.bar(np.arange(len(values)), values, color=colors)
    for x, v in enumerate(values):
        ax.text(x, v + 0.02, f"{v:.2f}", ha="center", fontsize=8)
    ax.set_xticks(np.arange(len(values)), names, fontsize=8)
    ax.set(ylabel="games won", ylim=(0, 1.1), title="The same agents, channel open, cut, scrambled")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def trade_off(results: list[dict], reference: float | None, path: Path) -> None:
    """Task success against the prior's perplexity of the messages, one point per beta (the
    curve in the order of beta); `reference` (dotted) is the language model's own perplexity
    on the held-out plays."""
    ordered = sorted(results, key=lambda r: r["beta"])
    ppl = [r["perplexity"] for r in ordered]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(ppl, [r["success_train"] for r in ordered], "-o", color=PALETTE[0],
            label="training objects")  # fmt: skip
    ax.plot(ppl, [r["success_held_out"] for r in ordered], "--s", color=PALETTE[1],
            label="held-out objects")  # fmt: skip
    for i, r in enumerate(ordered):
        ax.annotate(f"β={r['beta']:g}", (r["perplexity"], r["success_train"]),
                    textcoords="offset points", xytext=(6, 6 + 11 * (i % 2)),
                    fontsize=8)  # fmt: skip
    ax.axhline(ordered[0]["chance"], color="#555555", ls=":", lw=1.2, label="chance 1/K")
    if reference is not None:
        ax.axvline(reference, color="#999999", ls="-.", lw=1.0,
                   label=f"the language model on held-out plays ({reference:.1f})")  # fmt: skip
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="perplexity of the messages under the language model (per character)",
           ylabel="games won", ylim=(0, 1.12),
           title="Grounded speech: task success against natural-language likeness")  # fmt: skip
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
