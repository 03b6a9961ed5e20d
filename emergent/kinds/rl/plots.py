"""Figures of a reinforcement-learning run, drawn from metrics rows and episode frames."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import EngFormatter, NullLocator

from emergent.plotstyle import LEARNED, RANDOM

LABELS = {"return": "Mean return per agent"}


def _series(rows: list[dict], kind: str, key: str, policy: str | None = None) -> tuple:
    pts = [
        (r["step"], r[key])
        for r in rows
        if r.get("kind") == kind
        and r.get(key) is not None
        and (policy is None or r.get("policy") == policy)
    ]
    if not pts:
        return np.array([]), np.array([])
    steps, values = zip(*sorted(pts), strict=True)
    return np.array(steps), np.array(values, dtype=float)


def _baseline(ax: plt.Axes, rows: list[dict], key: str) -> None:
    _, random_values = _series(rows, "eval", key, "random")
    if len(random_values):
        ax.axhline(random_values[-1], color=RANDOM, ls="--", lw=1.5, label="random policy")


def return_curve(rows: list[dict], path: Path, title: str) -> None:
    """Training return and evaluation return against agent-steps, random policy dashed."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    steps, values = _series(rows, "train", "mean_return")
    if len(steps):
        ax.plot(
            steps,
            values,
            color=LEARNED,
            alpha=0.35,
            lw=1,
            drawstyle="steps-post",
            label="training episodes (last 100)",
        )
    steps, values = _series(rows, "eval", "return", "learned")
    if len(steps):
        ax.plot(steps, values, "o-", color=LEARNED, lw=2, ms=4, label="evaluation (learned)")
    _baseline(ax, rows, "return")
    ax.set(xlabel="agent-steps", ylabel=LABELS["return"], title=title)
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def metric_curves(
    rows: list[dict], path: Path, title: str, metrics: tuple[str, ...], labels: dict[str, str]
) -> None:
    """A world's emergence metrics over training (evaluation episodes), random dashed."""
    cols = 2 if len(metrics) <= 4 else 3
    nrows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(
        nrows, cols, figsize=(4.25 * cols, 2.8 * nrows), sharex=True, squeeze=False
    )
    for ax, key in zip(axes.flat, metrics, strict=False):
        steps, values = _series(rows, "eval", key, "learned")
        if len(steps):
            ax.plot(steps, values, "o-", color=LEARNED, lw=2, ms=4, label="learned")
        _baseline(ax, rows, key)
        ax.set_title(labels.get(key, key), fontsize=10)
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    for i, ax in enumerate(axes.flat[: len(metrics)]):
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        if i + cols >= len(metrics):  # the lowest panel of its column carries the axis
            ax.set_xlabel("agent-steps")
            ax.xaxis.set_tick_params(labelbottom=True)
    axes[0, 0].legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def frame_strip(frames: np.ndarray, path: Path, title: str, count: int = 6) -> None:
    """A row of frames spread evenly over an episode."""
    index = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    fig, axes = plt.subplots(1, len(index), figsize=(2.6 * len(index), 2.2))
    for ax, i in zip(np.atleast_1d(axes), index, strict=True):
        ax.imshow(frames[i], interpolation="nearest")
        ax.set_title(f"{i / max(len(frames) - 1, 1):.0%} of episode", fontsize=9)
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def against_parameter(
    table: list[dict],
    key: str,
    path: Path,
    title: str,
    metrics: tuple[str, ...],
    labels: dict[str, str],
) -> None:
    """Final metrics of each grid point against the swept value (learned and random)."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.0 * len(metrics), 3.1), squeeze=False)
    axes = axes[0]
    labels = {**LABELS, **labels}
    x = np.array([row["value"] for row in table], dtype=float)
    for ax, metric in zip(axes, metrics, strict=True):
        for policy, color, marker in (("learned", LEARNED, "o-"), ("random", RANDOM, "s--")):
            y = np.array([row[policy].get(metric, np.nan) for row in table], dtype=float)
            ax.plot(x, y, marker, color=color, lw=2, ms=5, label=policy)
        ax.set_title(labels.get(metric, metric), fontsize=9)
        ax.set_xlabel(key)
        if np.all(x > 0) and x.max() / x.min() > 4:
            ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.xaxis.set_minor_locator(NullLocator())
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def per_agent_bars(
    learned: dict[str, np.ndarray],
    random: dict[str, np.ndarray] | None,
    path: Path,
    title: str,
) -> None:
    """Per-agent totals (mean over evaluation episodes), one panel per quantity, learned
    agents as bars and random play as grey ticks: who does what."""
    fig, axes = plt.subplots(1, len(learned), figsize=(3.6 * len(learned), 3.0), squeeze=False)
    for ax, (name, values) in zip(axes[0], learned.items(), strict=True):
        agents = np.arange(len(values))
        ax.bar(agents, values, color=LEARNED, label="learned")
        if random is not None and name in random:
            ax.scatter(
                agents, random[name], marker="_", s=300, color=RANDOM, label="random", zorder=3
            )
        ax.set(title=name, xlabel="agent")
        ax.set_xticks(agents)
        ax.xaxis.set_minor_locator(NullLocator())
    axes[0, 0].legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
