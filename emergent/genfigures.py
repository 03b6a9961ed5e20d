"""Figures of the generative experiments: samples beside the data, loss and learning curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import PercentFormatter

from emergent.plotstyle import PALETTE


def tile(images: np.ndarray, cols: int) -> np.ndarray:
    """(N, H, W) images in [0, 1] -> one (rows·(H+1), cols·(W+1)) mosaic with 1-pixel gaps."""
    n, h, w = images.shape
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)  # gaps drawn as "bad"
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = image
    return out


def image_panels(panels: dict[str, np.ndarray], path: Path, title: str, cols: int = 8) -> None:
    """Side-by-side sample grids: {label: (N, H, W) images scaled to [0, 1]}."""
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.9), squeeze=False)
    cmap = plt.get_cmap("gray_r").with_extremes(bad="#e8e8e8")
    for ax, (label, images) in zip(axes[0], panels.items(), strict=True):
        ax.imshow(
            tile(np.clip(images, 0, 1), cols),
            cmap=cmap,
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def point_panels(
    panels: dict[str, np.ndarray], path: Path, title: str, bounds: tuple[float, float] | None = None
) -> None:
    """Side-by-side scatter plots of 2-D samples: {label: (N, 2)}; the first is the data."""
    fig, axes = plt.subplots(1, len(panels), figsize=(2.5 * len(panels), 2.7), squeeze=False)
    if bounds is None:
        first = next(iter(panels.values()))
        lo, hi = np.percentile(first, 0.5) - 0.5, np.percentile(first, 99.5) + 0.5
        bounds = (float(lo), float(hi))
    for i, (ax, (label, points)) in enumerate(zip(axes[0], panels.items(), strict=True)):
        color = "#444444" if i == 0 else PALETTE[(i - 1) % len(PALETTE)]
        ax.scatter(points[:, 0], points[:, 1], s=1.5, alpha=0.5, color=color, linewidths=0)
        ax.set(xlim=bounds, ylim=bounds, aspect="equal", xticks=[], yticks=[])
        ax.set_title(label, fontsize=9)
        ax.grid(False)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def loss_curves(history: list[dict], path: Path, title: str) -> None:
    """Every logged training quantity against the step, one panel each (at most 6)."""
    keys = [k for k in history[0] if k != "step"][:6] if history else []
    if not keys:
        return
    fig, axes = plt.subplots(1, len(keys), figsize=(3.0 * len(keys), 2.8), squeeze=False)
    steps = [row["step"] for row in history]
    for ax, key in zip(axes[0], keys, strict=True):
        ax.plot(steps, [row.get(key, np.nan) for row in history], color=PALETTE[0], lw=1.5)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("step")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def learning_curves(panels: list[dict], path: Path, title: str) -> None:
    """Test error against training-set size (log x) with confidence bands.

    Each panel: {"title": str, "sizes": (M,), "curves": {label: (mean (M,), lo (M,), hi (M,))},
    "cross": m or None}.
    """
    cols = min(len(panels), 3)
    rows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for ax, panel in zip(axes.flat, panels, strict=False):
        sizes = np.asarray(panel["sizes"])
        for i, (label, (mean, lo, hi)) in enumerate(panel["curves"].items()):
            color = PALETTE[i % len(PALETTE)]
            style = "--" if label.startswith("wrong") else "-"
            ax.plot(sizes, mean, style, color=color, lw=1.8, label=label)
            ax.fill_between(sizes, lo, hi, color=color, alpha=0.15, linewidth=0)
        if panel.get("cross"):
            ax.axvline(panel["cross"], color="#777777", ls=":", lw=1)
        ax.set_xscale("log")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set(title=panel["title"], xlabel="training examples m", ylabel="test error")
        ax.legend(frameon=False, fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def images(x: np.ndarray, kind: str) -> np.ndarray:
    """Digit samples of either view as (N, 8, 8) in [0, 1] (levels / 16), unrounded."""
    x = np.asarray(x, dtype=float).reshape(-1, 8, 8)
    unit = x / 16.0 if kind == "categorical" else x * 17.0 / 16.0
    return np.clip(unit, 0.0, 1.0)


def sample_figure(
    data, panels: dict[str, tuple[np.ndarray, str]], path: Path, title: str, n: int = 64
) -> None:
    """The data beside each model's samples: scatter plots for 2-D data, image grids for digits.

    `panels` maps a label to (samples, the data kind they are in).
    """
    real = np.concatenate([data.train.numpy(), data.test.numpy()])
    if data.info.shape == (2,):
        rng = np.random.default_rng(0)
        show = {"data": real[rng.permutation(len(real))[:2000]]}
        show.update({k: np.asarray(v)[:2000].reshape(-1, 2) for k, (v, _) in panels.items()})
        point_panels(show, path, title)
    else:
        show = {"real": images(data.test.numpy()[:n], data.info.kind)}
        for label, (value, kind) in panels.items():
            show[label] = images(np.asarray(value)[:n], kind)
        image_panels(show, path, title)
