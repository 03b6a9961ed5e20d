"""Figures of a world-model experiment: open-loop error against the horizon (with its two
baselines), each stage's training loss, and the diffusion samplers against their steps."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from emergent.plotstyle import PALETTE


def open_loop(errors: dict, path: Path) -> None:
    """Mean squared error per pixel of views imagined k steps ahead: the model at each
    temperature, the model fed shuffled actions, and copying the last real frame."""
    k = np.arange(1, len(errors["copy_last"]) + 1)
    fig, ax = plt.subplots(figsize=(6.8, 4.0))
    for i, (tau, values) in enumerate(errors["model"].items()):
        ax.plot(k, values, color=PALETTE[i % len(PALETTE)], lw=1.8, marker="o", ms=3,
                label=f"model, real actions (tau = {tau})")  # fmt: skip
    ax.plot(k, errors["shuffled"], color="#aa4444", lw=1.4, ls="--",
            label="model, shuffled actions")  # fmt: skip
    ax.plot(k, errors["copy_last"], color="#555555", lw=1.4, ls=":",
            label="copy the last real frame")  # fmt: skip
    ax.set(xlabel="steps imagined ahead k", ylabel="MSE per pixel (views in [0, 1])",
           title="Open-loop prediction on held-out experience", ylim=(0, None))  # fmt: skip
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def losses(logs: dict[str, list[dict]], path: Path) -> None:
    """Each stage's training loss against its step, one panel per stage."""
    fig, axes = plt.subplots(1, len(logs), figsize=(4.0 * len(logs), 3.4), squeeze=False)
    for ax, (stage, rows) in zip(axes[0], logs.items(), strict=True):
        rows = [r for r in rows if "loss" in r]
        ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], color=PALETTE[0], lw=1.6)
        ax.set(xlabel="step", ylabel="loss", title=f"stage {stage}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def samplers(found: dict[str, dict], copy_last: list[float], path: Path) -> None:
    """Left: open-loop error against k for each sampler and number of denoising steps (EDM
    solid, DDPM's steps on the EDM-trained denoiser dashed, the DDPM-trained network dash-dot);
    right: the imagined views' off-palette distance."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.0))
    styles = {"edm": "-", "ddpm": "--", "ddpm_trained": "-."}
    for i, (label, curves) in enumerate(found.items()):
        style = {"ls": styles.get(label.split("-")[0], "-"), "lw": 1.6,
                 "color": PALETTE[i % len(PALETTE)], "label": label}  # fmt: skip
        k = np.arange(1, len(curves["mse"]) + 1)
        left.plot(k, curves["mse"], **style)
        right.plot(k, curves["off_palette"], **style)
    left.plot(np.arange(1, len(copy_last) + 1), copy_last, color="#555555", ls=":",
              label="copy the last real frame")  # fmt: skip
    left.set(xlabel="steps imagined ahead k", ylabel="MSE per pixel",
             title="Error against the real views", ylim=(0, None))  # fmt: skip
    right.set(xlabel="steps imagined ahead k", ylabel="squared distance to the nearest colour",
              title="Drift: off the world's colours", ylim=(0, None))  # fmt: skip
    left.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def dream_curves(reals: dict, dreams: dict, path: Path) -> None:
    """Real return against real agent-steps: the real-trained learner's curve per seed, and the
    dream-trained policy of each seed at its real budget (stars), random play dotted."""
    fig, ax = plt.subplots(figsize=(6.8, 4.0))
    for i, (seed, ref) in enumerate(reals.items()):
        curve = ref["curve"]
        ax.plot([r["agent_steps"] for r in curve], [r["real_return"] for r in curve],
                color=PALETTE[i % len(PALETTE)], lw=1.4,
                label=f"trained in the real world, seed {seed}")  # fmt: skip
    for i, (seed, found) in enumerate(dreams.items()):
        ax.plot([found["real_agent_steps"]], [found["real_return"]], marker="*", ms=13,
                color=PALETTE[i % len(PALETTE)], ls="none",
                label=f"trained in the dream, seed {seed}")  # fmt: skip
    randoms = [found["random_return"] for found in dreams.values()]
    ax.axhline(float(np.mean(randoms)), color="#555555", ls=":", lw=1.2, label="random play")
    ax.set(xscale="log", xlabel="real agent-steps", ylabel="real return per agent",
           title="Trained in the dream against trained in the world")  # fmt: skip
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
