"""The report of one generative model: samples beside the data, losses, the metric table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emergent import genfigures, rundir
from emergent.genfigures import sample_figure
from emergent.gentables import METRIC_LABELS, num
from emergent.kinds.generative.config import GenerativeExperiment
from emergent.logger import read_rows
from emergent.modelfit import load_data


def _eval_row(run_dir: Path) -> dict:
    rows = [r for r in read_rows(run_dir / "metrics.jsonl") if r.get("kind") == "eval"]
    return rows[-1] if rows else {}


def build(run_dir: Path, cfg: GenerativeExperiment) -> Path:
    """Samples beside the data, loss curves and the metric table of one generative run."""
    (run_dir / "plots").mkdir(exist_ok=True)
    row = _eval_row(run_dir)
    data = load_data(cfg.data.name, cfg.seed, cfg.data.options)
    samples_file = run_dir / "samples.npz"
    if samples_file.is_file():
        with np.load(samples_file) as f:
            drawn = f["samples"]
        sample_figure(
            data,
            {cfg.model.name: (drawn, data.info.kind)},
            run_dir / "plots" / "samples.png",
            f"{cfg.model.name} on {cfg.data.name}",
        )
    history_file = run_dir / "history.json"
    history = json.loads(history_file.read_text()) if history_file.is_file() else []
    if history:
        genfigures.loss_curves(history, run_dir / "plots" / "loss.png", "Training")
    lines = [
        f"# {cfg.name}: {cfg.model.name} on {cfg.data.name}",
        "",
        f"Run directory `{run_dir}` · seed {cfg.seed} · {cfg.train.steps} steps of batch "
        f"{cfg.train.batch_size}.",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    kind = row.get("likelihood", "none")
    for key, label in METRIC_LABELS.items():
        if row.get(key) is not None:
            note = " (bound)" if key in ("nll", "bits_per_dim", "kl") and kind == "bound" else ""
            lines.append(f"| {label}{note} | {num(row[key])} |")
    lines += ["", "![samples](plots/samples.png)", ""]
    if history:
        lines += ["![training](plots/loss.png)", ""]
    path = run_dir / "report.md"
    rundir.write_text_atomic(path, "\n".join(lines))
    return path
