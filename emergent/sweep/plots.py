"""Figures of a sweep: aggregates across seeds with their confidence intervals .

Each function takes one entry per setting (a label, a colour and its bootstrap estimates from
`emergent.metrics.aggregate`) and writes one PNG. Styles follow rliable's plots (Agarwal et al.
2021): interval estimates as bars, curves and profiles as lines with shaded bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import EngFormatter, MaxNLocator, NullLocator

from emergent.metrics.aggregate import BootstrapCI, Difference, SeedSummary
from emergent.plotstyle import LEARNED, RANDOM


def colours(n: int) -> list:
    """One colour per setting, ordered along a sequential map (settings are ordered)."""
    return list(plt.cm.viridis(np.linspace(0.1, 0.85, max(n, 1))))[:n]


def interval_estimates(
    labels: Sequence[str],
    summaries: Sequence[SeedSummary],
    path: Path,
    title: str,
    xlabel: str,
) -> None:
    """IQM and mean of each setting with their 95 % intervals, one row per setting."""
    fig, axes = plt.subplots(
        1, 2, figsize=(8.5, 0.5 * len(labels) + 1.6), sharey=True, squeeze=False
    )
    y = np.arange(len(labels))
    for ax, (name, point, low, high) in zip(
        axes[0],
        (("IQM", "iqm", "iqm_low", "iqm_high"), ("Mean", "mean", "ci_low", "ci_high")),
        strict=True,
    ):
        for i, (row, colour) in enumerate(zip(summaries, colours(len(labels)), strict=True)):
            lo, hi = getattr(row, low), getattr(row, high)
            ax.barh(i, hi - lo, left=lo, height=0.6, color=colour, alpha=0.75)
            ax.vlines(getattr(row, point), i - 0.3, i + 0.3, color="black", lw=2)
        ax.set(title=name, xlabel=xlabel)
        ax.grid(axis="y", visible=False)
    axes[0, 0].set_yticks(y, labels)
    axes[0, 0].invert_yaxis()  # the first setting on top, as in the tables
    axes[0, 0].yaxis.set_minor_locator(NullLocator())
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def performance_profiles(
    taus: np.ndarray,
    profiles: Sequence[BootstrapCI],
    labels: Sequence[str],
    path: Path,
    title: str,
    xlabel: str,
) -> None:
    """Fraction of runs scoring above tau for each setting, with its bootstrap band."""
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    for profile, label, colour in zip(profiles, labels, colours(len(labels)), strict=True):
        ax.plot(taus, profile.point, color=colour, lw=2, label=label, drawstyle="steps-post")
        ax.fill_between(taus, profile.low, profile.high, color=colour, alpha=0.2, lw=0, step="post")
    ax.set(xlabel=xlabel, ylabel="Fraction of runs with score > τ", ylim=(0, 1.02))
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def learning_curves(
    curves: Sequence[tuple[np.ndarray, BootstrapCI] | None],
    random: Sequence[float],
    labels: Sequence[str],
    path: Path,
    title: str,
    ylabel: str,
) -> None:
    """IQM across seeds of the evaluation return at each step, with its band; random dotted.

    A setting whose seeds share no evaluation step has None for its curve and is left out.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    for curve, baseline, label, colour in zip(
        curves, random, labels, colours(len(labels)), strict=True
    ):
        if curve is None:
            continue
        steps, ci = curve
        ax.plot(steps, ci.point, "o-", color=colour, lw=2, ms=3, label=label)
        ax.fill_between(steps, ci.low, ci.high, color=colour, alpha=0.2, lw=0)
        if np.isfinite(baseline):
            ax.axhline(baseline, color=colour, ls=":", lw=1.2, alpha=0.8)
    ax.set(xlabel="agent-steps", ylabel=ylabel)
    ax.set_title(title, fontsize=10)
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))
    ax.legend(frameon=False, fontsize=8, title="dotted: random policy", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def against_parameter(
    x: np.ndarray,
    ticks: Sequence[str],
    xlabel: str,
    metrics: dict[str, Sequence[SeedSummary]],
    random: dict[str, Sequence[float]],
    labels: dict[str, str],
    path: Path,
    title: str,
) -> None:
    """Mean across seeds of each metric at each setting with its 95 % interval; random dashed.

    Args:
        x: (S,) positions of the settings (the swept values, or 0..S-1 for categories).
        metrics: metric -> one summary per setting.
        random: metric -> random play's mean per setting.
    """
    cols = min(len(metrics), 3)
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False)
    log_x = bool(np.all(x > 0) and x.max() / x.min() > 4)
    for ax, (metric, summaries) in zip(axes.flat, metrics.items(), strict=False):
        mean = np.array([s.mean for s in summaries])
        err = np.array(
            [[s.mean - s.ci_low for s in summaries], [s.ci_high - s.mean for s in summaries]]
        )
        ax.errorbar(
            x,
            mean,
            yerr=err,
            fmt="o-",
            color=LEARNED,
            lw=2,
            ms=5,
            capsize=4,
            label="learned (mean, 95% CI)",
        )
        ax.plot(x, random[metric], "s--", color=RANDOM, lw=1.5, ms=4, label="random policy")
        ax.set_title(labels.get(metric, metric), fontsize=9)
        ax.set_xlabel(xlabel)
        if log_x:
            ax.set_xscale("log")
        ax.set_xticks(x, ticks, rotation=0 if max(map(len, ticks)) < 8 else 30)
        ax.xaxis.set_minor_locator(NullLocator())
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    axes[0, 0].legend(frameon=False, fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def differences(
    names: Sequence[str],
    metrics: dict[str, Sequence[Difference]],
    labels: dict[str, str],
    path: Path,
    title: str,
) -> None:
    """Each setting's difference from the reference setting, one panel per metric: the
    difference of the means with its 95 % interval, zero dashed, the permutation test's p
    above each point.

    Args:
        names: the compared settings (the reference left out).
        metrics: metric -> one difference per compared setting, in the order of `names`.
    """
    cols = min(len(metrics), 3)
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.6 * cols + 1.2, (0.5 * len(names) + 1.5) * rows),
        sharey=True,
        squeeze=False,
    )
    y = np.arange(len(names))
    for ax, (metric, found) in zip(axes.flat, metrics.items(), strict=False):
        point = np.array([d.difference for d in found])
        low, high = np.array([d.ci_low for d in found]), np.array([d.ci_high for d in found])
        ax.errorbar(
            point, y, xerr=[point - low, high - point], fmt="o", color=LEARNED, capsize=4, lw=2
        )
        ax.axvline(0.0, color=RANDOM, ls="--", lw=1)
        for k, d in enumerate(found):
            if np.isfinite(d.p_value):
                ax.annotate(
                    f"p = {d.p_value:.3f}",
                    (d.difference, k),
                    xytext=(0, 7),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                )
        ax.set_yticks(y, names)
        ax.set_ylim(-0.6, len(names) - 0.2)
        ax.margins(x=0.15)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_title(labels.get(metric, metric), fontsize=9)
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
