"""Figures of the diffusion experiment: the two Markov chains, FD against sampling steps, the
guidance trade-off, and per-class sample grids."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axis import Axis
from matplotlib.ticker import FuncFormatter, NullLocator

from emergent.genfigures import tile
from emergent.plotstyle import PALETTE

Curve = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(x, mean, low, high): a mean over seeds with its range."""


def _strip(ax, frames: np.ndarray, titles: list[str], title: str) -> None:
    """(E, F, H, W) images in [0, 1] as E rows of F frames, each column titled."""
    e, f, h, w = frames.shape
    cmap = plt.get_cmap("gray_r").with_extremes(bad="#ffffff")
    ax.imshow(tile(frames.reshape(e * f, h, w), f), cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks([(w + 1) * i + (w - 1) / 2 for i in range(f)], titles, fontsize=7)
    ax.set_yticks([])
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=10, loc="left")


def chains(forward: np.ndarray, reverse: np.ndarray, timesteps: np.ndarray, path: Path) -> None:
    """The forward noising chain q(x_t | x_0) above the learned reverse chain p(x_{t-1} | x_t).

    Args:
        forward: (E, F, H, W) x_0 then x_t at `timesteps`, in [0, 1].
        reverse: (E, F, H, W) x_t at the timesteps from the last down, then the sample.
        timesteps: (F - 1,) 0-based timesteps (shown as the paper's t = index + 1).
    """
    t = [int(v) + 1 for v in timesteps]
    width = max(6.0, 0.62 * forward.shape[1] + 0.6)
    fig, axes = plt.subplots(2, 1, figsize=(width, 1.0 + 1.3 * len(forward)))
    _strip(
        axes[0],
        forward,
        ["x₀"] + [f"t={v}" for v in t],
        "forward chain q(xₜ | xₜ₋₁): digits → noise",
    )
    _strip(
        axes[1],
        reverse,
        [f"t={v}" for v in t[::-1]] + ["x₀"],
        "reverse chain p(xₜ₋₁ | xₜ): noise → digits",
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plain_log_ticks(axis: Axis) -> None:
    """Log-axis labels as plain numbers (0.4, 1, 2), not powers of ten (4 × 10⁻¹)."""

    def minor(value: float, _: int) -> str:
        text = f"{value:g}"
        return text if text.lstrip("0.")[:1] in ("2", "3", "5") else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(FuncFormatter(minor))


def fd_against_steps(
    fd: dict[str, Curve], seconds: dict[str, Curve], floor: float, path: Path
) -> None:
    """FD against the number of sampling steps (log x) with the real-data floor, and the
    sampling time, one line per sampler (mean over seeds, range shaded)."""
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.3))
    for i, (sampler, (x, mean, lo, hi)) in enumerate(fd.items()):
        color = PALETTE[i % len(PALETTE)]
        axes[0].plot(x, mean, "o-", color=color, lw=1.8, ms=4, label=sampler)
        axes[0].fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)
        sx, smean, slo, shi = seconds[sampler]
        axes[1].plot(sx, smean, "o-", color=color, lw=1.8, ms=4, label=sampler)
        axes[1].fill_between(sx, slo, shi, color=color, alpha=0.15, linewidth=0)
    axes[0].axhline(floor, color="#555555", ls="--", lw=1, label="real-data floor")
    axes[0].set(xscale="log", yscale="log", xlabel="sampling steps S", ylabel="Fréchet distance")
    axes[0].set_title("sample quality against steps", fontsize=10)
    axes[1].set(xscale="log", yscale="log", xlabel="sampling steps S", ylabel="seconds")
    axes[1].set_title("sampling time (the FD sample set)", fontsize=10)
    ticks = sorted({int(s) for x, *_ in fd.values() for s in x})
    for ax in axes:
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        plain_log_ticks(ax.yaxis)
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def guidance_tradeoff(
    weights: list[float],
    accuracy: Curve,
    fd: Curve,
    floor: float,
    path: Path,
    target: float = 0.95,
) -> None:
    """FD against the classifier's accuracy on the requested digit, one point per guidance
    weight w (mean over seeds, range as error bars), with the floor and the target."""
    _, acc, acc_lo, acc_hi = accuracy
    _, mean, lo, hi = fd
    fig, ax = plt.subplots(figsize=(4.8, 3.5))
    ax.errorbar(
        acc,
        mean,
        xerr=[acc - acc_lo, acc_hi - acc],
        yerr=[mean - lo, hi - mean],
        fmt="o-",
        color=PALETTE[0],
        lw=1.6,
        ms=4,
        capsize=2,
    )
    for w, x, y in zip(weights, acc, mean, strict=True):
        ax.annotate(f"w={w:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.axhline(floor, color="#555555", ls="--", lw=1, label="real-data floor")
    ax.axvline(target, color=PALETTE[1], ls=":", lw=1, label=f"{target:.0%} target")
    ax.set(xlabel="classifier accuracy on the requested digit", ylabel="Fréchet distance")
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    ax.set_title("classifier-free guidance: fidelity against diversity", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def class_grids(grids: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Side-by-side grids, one row per digit: {label: (classes, per, H, W) in [0, 1]}."""
    fig, axes = plt.subplots(1, len(grids), figsize=(2.7 * len(grids), 3.4), squeeze=False)
    cmap = plt.get_cmap("gray_r").with_extremes(bad="#e8e8e8")
    for ax, (label, grid) in zip(axes[0], grids.items(), strict=True):
        classes, per, h, w = grid.shape
        ax.imshow(tile(grid.reshape(classes * per, h, w), per), cmap=cmap, vmin=0, vmax=1)
        ax.set_yticks([(h + 1) * c + (h - 1) / 2 for c in range(classes)], range(classes))
        ax.set_xticks([])
        ax.tick_params(length=0, labelsize=7)
        ax.grid(False)
        ax.set_title(label, fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
