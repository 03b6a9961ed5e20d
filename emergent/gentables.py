"""Markdown tables of the generative reports: metric names, number formats, zoo rows.

Shared by the zoo's and the diffusion experiment's reports (the diffusion report adds its rows
to a zoo's tables), which read the cells' `result.json` files through `zoo_cells`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emergent.logger import numeric


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table's lines, then a blank line."""
    return [
        "| " + " | ".join(header) + " |",
        "|---" * len(header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


METRIC_LABELS = {
    "nll": "test NLL (nats)",
    "bits_per_dim": "bits / dim",
    "kl": "KL(data ‖ model) (nats)",
    "fd": "Fréchet distance",
    "fd_floor": "Fréchet floor (real halves)",
    "precision": "precision",
    "recall": "recall",
    "density": "density",
    "coverage": "coverage",
    "kid": "KID",
    "mmd2": "MMD²",
    "sharpness": "sharpness (data = 1)",
    "modes_covered": "modes covered",
    "high_quality": "high-quality share",
    "train_seconds": "training time (s)",
    "sample_seconds": "sampling time (s)",
}


def num(x: object) -> str:
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"
    return str(x)


ZOO_COLUMNS = (
    "nll",
    "kl",
    "fd",
    "precision",
    "recall",
    "coverage",
    "train_seconds",
    "sample_seconds",
)
MODE_COLUMNS = ("modes_covered", "high_quality")


def mean_std(values: list[float]) -> str:
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "–"
    mean, std = float(np.mean(values)), float(np.std(values))
    # two decimals, more for small values so that 0.0031 does not print as 0.00
    digits = 0 if abs(mean) >= 100 else 2
    if 0 < abs(mean) < 0.1:
        digits = min(5, 1 - int(np.floor(np.log10(abs(mean)))))
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if len(values) > 1 else f"{mean:.{digits}f}"


def row_cells(mine: list[dict], columns: list[str]) -> list[str]:
    """A model's row of a zoo table: mean ± std over its seeds' results, modes out of their
    total, likelihoods marked where they are only bounds."""
    bound = " *bound*" if mine[0].get("likelihood") == "bound" else ""
    out = []
    for c in columns:
        text = mean_std([r.get(c) for r in mine])
        if c == "modes_covered" and mine[0].get("modes_total"):
            text += f" / {mine[0]['modes_total']}"
        out.append(text + (bound if c in ("nll", "bits_per_dim", "kl") and text != "–" else ""))
    return out


def zoo_cells(run_dir: Path) -> list[dict]:
    return [
        json.loads(p.read_text()) for p in sorted((run_dir / "cells").glob("*/*/*/result.json"))
    ]


MODE_ANCHORS = {
    "ring8": "VEEGAN reports the GAN at 1 / 8 modes and VEEGAN at 8 / 8 with 52.9 % high-quality "
    "samples; PacGAN reports 7.8 / 8",
    "grid25": "VEEGAN reports the GAN at 3.3 / 25 modes and VEEGAN at 24.6 / 25 with 40 % "
    "high-quality samples; PacGAN reports 24.8 / 25",
}
"""Published figures of the mode-collapse benchmark (Srivastava et al. 2017; Lin et al. 2018)."""


def cell_means(run_dir: Path) -> dict[str, float]:
    """Each cell's numbers averaged over its seeds, as `<dataset>/<label>/<metric>`."""
    found: dict[str, list[float]] = {}
    for cell in zoo_cells(run_dir):
        for key, value in numeric(cell).items():
            if key != "seed":
                found.setdefault(f"{cell['dataset']}/{cell['label']}/{key}", []).append(value)
    return {key: sum(values) / len(values) for key, values in found.items()}
