"""The grokking report: accuracy curves and weight norms per weight decay, the Fourier power of
the number embeddings, the epochs of memorisation and generalisation, and the targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emergent import cells, rundir
from emergent.kinds.grokking.config import GrokkingExperiment
from emergent.kinds.grokking.fourier import KEY_FREQUENCIES, frequency_power
from emergent.kinds.grokking.plots import accuracy_curves, norm_curves, spectra
from emergent.logger import read_rows

GROKKING_RATIO = 20.0
"""Target: with a small weight decay, generalisation at least 20x later than memorisation ..."""
CONTROL_RATIO = 5.0
"""... and with the control's large one, within 5x (the issue's targets, over 3 seeds)."""


def read_result(path: Path) -> dict | None:
    """A trial's result.json (None before it is finished); damaged, one line naming it."""
    return cells.read_result(path, lambda r: isinstance(r.get("weight_decay"), float))


def cell_dir(run_dir: Path, weight_decay: float, seed: int) -> Path:
    """The directory of the trial at (weight decay, seed)."""
    return run_dir / "cells" / f"wd{weight_decay:g}" / f"seed{seed}"


def build(run_dir: Path, cfg: GrokkingExperiment) -> Path:
    """report.md and plots/ from the trials' results, logs and embeddings on disk."""
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    found = {
        wd: {s: read_result(cell_dir(run_dir, wd, s) / "result.json") for s in cfg.trial_seeds}
        for wd in cfg.weight_decays
    }
    logs = {
        wd: {s: read_rows(cell_dir(run_dir, wd, s) / "metrics.jsonl") for s in cfg.trial_seeds}
        for wd in cfg.weight_decays
    }
    lines = header(cfg, run_dir)
    lines += table_lines(cfg, found)
    lines += target_lines(cfg, found)
    if any(rows for by_seed in logs.values() for rows in by_seed.values()):
        accuracy_curves(logs, plots / "accuracy.png", cfg.name)
        norm_curves(logs, plots / "weight_norm.png")
        lines += [
            "## Accuracy",
            "",
            "Train (solid) and validation (dashed) accuracy of every seed against the epoch "
            "(log scale); one panel per weight decay.",
            "",
            "![accuracy](plots/accuracy.png)",
            "",
            "## Weight norm",
            "",
            "||θ||₂ over every parameter. In a grokking run it grows while the training set is "
            "memorised, and weight decay then pulls it down as the validation accuracy rises "
            "(Nanda et al. 2023; Liu et al. 2023, Omnigrok, arXiv:2210.01117).",
            "",
            "![weight norm](plots/weight_norm.png)",
            "",
        ]
    power = fourier_power(cfg, run_dir)
    if power:
        spectra(power, plots / "fourier.png", cfg.task.p)
        lines += fourier_lines(cfg, found)
    path = run_dir / "report.md"
    rundir.write_text_atomic(path, "\n".join(lines) + "\n")
    return path


def header(cfg: GrokkingExperiment, run_dir: Path) -> list[str]:
    model = cfg.model
    options = ", ".join(f"{k} {v}" for k, v in model.options.__dict__.items())
    t = cfg.train
    return [
        f"# {cfg.name}: grokking (a + b) mod {cfg.task.p}",
        "",
        f"Run directory `{run_dir}` · {model.name} ({options}) · "
        f"{cfg.task.train_fraction:.0%} of the {cfg.task.p**2:,} pairs for training (the split "
        f"drawn from each seed) · full-batch AdamW, lr {t.lr:g}, beta2 {t.beta2:g}, "
        f"{t.epochs:,} epochs, measured every {t.eval_every} · weight decays "
        f"{', '.join(f'{w:g}' for w in cfg.weight_decays)} · seeds "
        f"{cfg.seed} to {cfg.seed + cfg.seeds - 1}.",
        "",
        "Memorisation: the first measured epoch with train accuracy ≥ 99 %; generalisation: the "
        "first with validation accuracy ≥ 95 %; ratio = generalisation / memorisation (Power "
        "et al. 2022, arXiv:2201.02177; Nanda et al. 2023, arXiv:2301.05217).",
        "",
    ]


def epoch(value: int | None) -> str:
    return f"{value:,}" if value is not None else "never"


def table_lines(cfg: GrokkingExperiment, found: dict[float, dict[int, dict | None]]) -> list[str]:
    lines = [
        "## Memorisation and generalisation",
        "",
        "| weight decay | seed | memorised | generalised | ratio | final train acc | "
        "final val acc | weight norm | train s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for wd, by_seed in found.items():
        for seed, r in by_seed.items():
            if r is None:
                lines.append(f"| {wd:g} | {seed} | not run | | | | | | |")
                continue
            ratio = f"{r['ratio']:.1f}×" if r["ratio"] is not None else "–"
            lines.append(
                f"| {wd:g} | {seed} | {epoch(r['memorised_epoch'])} | "
                f"{epoch(r['generalised_epoch'])} | {ratio} | {r['final_train_acc']:.3f} | "
                f"{r['final_val_acc']:.3f} | {r['final_weight_norm']:.1f} | "
                f"{r['train_seconds']:.0f} |"
            )
        ratios = [r["ratio"] for r in by_seed.values() if r and r["ratio"] is not None]
        if ratios:
            lines.append(
                f"| **{wd:g}** | median | | | **{np.median(ratios):.1f}×** "
                f"(min {min(ratios):.1f}, max {max(ratios):.1f}) | | | | |"
            )
    return [*lines, "", "Training seconds leave out the measurements.", ""]


def target_lines(cfg: GrokkingExperiment, found: dict[float, dict[int, dict | None]]) -> list[str]:
    """The smallest weight decay against ≥ 20×, the largest (when there are two or more, the
    control) against ≤ 5×, over every seed."""
    arms = [(cfg.weight_decays[0], "at least", GROKKING_RATIO)]
    if len(cfg.weight_decays) > 1:
        arms.append((cfg.weight_decays[-1], "at most", CONTROL_RATIO))
    lines = ["## Targets", ""]
    for wd, side, bound in arms:
        results = [r for r in found[wd].values() if r is not None]
        if len(results) < len(cfg.trial_seeds):
            lines.append(f"- Weight decay {wd:g}: not every seed has finished; no verdict.")
            continue
        ratios = [r["ratio"] for r in results]
        if any(ratio is None for ratio in ratios):
            never = sum(r is None for r in ratios)
            lines.append(
                f"- Weight decay {wd:g}: generalisation {side} {bound:g}× after memorisation: "
                f"**missed**: {never} of {len(ratios)} seeds never reached both marks in "
                f"{cfg.train.epochs:,} epochs."
            )
            continue
        met = (
            all(r >= bound for r in ratios)
            if side == "at least"
            else all(r <= bound for r in ratios)
        )
        shown = ", ".join(f"{r:.1f}×" for r in ratios)
        lines.append(
            f"- Weight decay {wd:g}: generalisation {side} {bound:g}× after memorisation in "
            f"every seed: **{'met' if met else 'missed'}** ({shown})."
        )
    return [*lines, ""]


def fourier_power(cfg: GrokkingExperiment, run_dir: Path) -> dict[str, np.ndarray]:
    """Mean power spectrum over the seeds: at memorisation (the smallest weight decay) and after
    training (every weight decay), by label."""
    spectra_by_label: dict[str, np.ndarray] = {}
    arms = [(cfg.weight_decays[0], "memorised", "at memorisation")]
    arms += [(wd, "final", "final") for wd in cfg.weight_decays]
    for wd, stage, label in arms:
        found = [
            frequency_power(np.load(path))
            for s in cfg.trial_seeds
            if (path := cell_dir(run_dir, wd, s) / f"embedding_{stage}.npy").is_file()
        ]
        if found:
            spectra_by_label[f"wd {wd:g}, {label}"] = np.mean(found, axis=0)
    return spectra_by_label


def fourier_lines(cfg: GrokkingExperiment, found: dict[float, dict[int, dict | None]]) -> list[str]:
    spread = KEY_FREQUENCIES / (cfg.task.p // 2)
    lines = [
        "## Fourier structure of the embeddings",
        "",
        f"Share of the number embeddings' power at each frequency k = 1..{cfg.task.p // 2} "
        "(a DFT over the residues 0..p-1 of the embedding matrix, summed over its columns; "
        "Nanda et al. 2023, sec. 4), the mean over the seeds. A model that has grokked puts "
        "its power in a few key frequencies"
        + (
            f"; spread evenly, the {KEY_FREQUENCIES} strongest would hold {spread:.0%}."
            if spread < 1
            else f" (p = {cfg.task.p} has only {cfg.task.p // 2}: the top-{KEY_FREQUENCIES} "
            "share says nothing here)."
        ),
        "",
        "![Fourier power](plots/fourier.png)",
        "",
        f"| weight decay | seed | top-{KEY_FREQUENCIES} share at memorisation | "
        f"top-{KEY_FREQUENCIES} share, final | key frequencies, final |",
        "|---:|---:|---:|---:|---|",
    ]
    for wd, by_seed in found.items():
        for seed, r in by_seed.items():
            if r is None:
                continue
            before = r["top_frequency_share_memorised"]
            shown = f"{before:.0%}" if before is not None else "–"
            lines.append(
                f"| {wd:g} | {seed} | {shown} | {r['top_frequency_share']:.0%} | "
                f"{', '.join(map(str, r['key_frequencies']))} |"
            )
    return [*lines, ""]
