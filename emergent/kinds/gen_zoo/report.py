"""The zoo's report: one table per dataset (mean ± std over seeds), samples side by side, the
mode-collapse benchmark, the reconstruction table, and the lecture's claims checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emergent import rundir
from emergent.genfigures import sample_figure
from emergent.gentables import (
    METRIC_LABELS,
    MODE_ANCHORS,
    MODE_COLUMNS,
    ZOO_COLUMNS,
    mean_std,
    row_cells,
    zoo_cells,
)
from emergent.kinds.gen_zoo.config import ZooExperiment
from emergent.modelfit import cell_dir, load_data
from generative import registry


def build(run_dir: Path, cfg: ZooExperiment) -> Path:
    """One table per dataset (mean ± std over seeds), sample grids side by side, claims."""
    cells = zoo_cells(run_dir)
    (run_dir / "plots").mkdir(exist_ok=True)
    labels = [e.label for e in cfg.models]
    lines = [
        f"# {cfg.name}: the generative zoo",
        "",
        f"Run directory `{run_dir}` · every family with the same budget ({cfg.train.steps} "
        f"steps of batch {cfg.train.batch_size}) · mean ± std over {cfg.seeds} seeds · "
        "NLL in nats per example (digits: per image, on the discrete data; flows, GANs and "
        "EBMs on the dequantized view give a bound through the dequantization), marked "
        "*bound* where the family only bounds it; KL = NLL − true entropy on the toys.",
        "",
    ]
    for dataset in cfg.datasets:
        rows = [c for c in cells if c["dataset"] == dataset]
        if not rows:
            continue
        columns = list(ZOO_COLUMNS) + (
            [*MODE_COLUMNS] if any("modes_covered" in r for r in rows) else []
        )
        if not any("kl" in r for r in rows):  # images: bits per dimension beside the nats
            columns.insert(columns.index("nll") + 1, "bits_per_dim")
        columns = [c for c in columns if any(r.get(c) is not None for r in rows)]
        lines += [f"## {dataset}", ""]
        floor = mean_std([r.get("fd_floor") for r in rows])
        lines += [f"Fréchet floor (two real halves): {floor}.", ""]
        lines.append("| model | " + " | ".join(METRIC_LABELS.get(c, c) for c in columns) + " |")
        lines.append("|---" * (len(columns) + 1) + "|")
        panels = {}
        for label in labels:
            mine = [r for r in rows if r["label"] == label]
            if not mine:
                continue
            cells_text = row_cells(mine, columns)
            lines.append(f"| {label} ({mine[0]['view']}) | " + " | ".join(cells_text) + " |")
            # On mode-counting toys show each model's worst seed: collapse is what to see
            shown = min(mine, key=lambda r: (r.get("modes_covered", 0), r["seed"]))
            sample_file = cell_dir(run_dir, dataset, label, shown["seed"]) / "samples.npz"
            if sample_file.is_file():
                with np.load(sample_file) as f:
                    kind = "categorical" if mine[0]["view"] == "digits" else "dequantized"
                    name = f"{label} (seed {shown['seed']})" if len(mine) > 1 else label
                    if shown.get("modes_covered") is not None:
                        name += f": {shown['modes_covered']} / {shown['modes_total']} modes"
                    panels[name] = (f["samples"], kind)
        if panels:
            data = load_data(rows[0]["view"] if dataset != "digits" else "digits", cfg.seed)
            sample_figure(
                data,
                panels,
                run_dir / "plots" / f"samples_{dataset}.png",
                f"{dataset}: data and samples"
                + ("; each model's worst seed" if any("modes_covered" in r for r in rows) else ""),
            )
            lines += ["", f"![samples on {dataset}](plots/samples_{dataset}.png)", ""]
    recon = run_dir / "reconstruction.json"
    if recon.is_file():
        lines += reconstruction_lines(json.loads(recon.read_text()))
    lines += mode_benchmark(cells)
    checked = claims(cells)
    if any(checked):
        lines += ["## The lecture's claims against the measurements", "", *checked]
    path = run_dir / "report.md"
    rundir.write_text_atomic(path, "\n".join(lines) + "\n")
    return path


def reconstruction_lines(table: dict) -> list[str]:
    sizes = table["code_sizes"]
    lines = [
        "## Autoencoders against PCA (digits, test reconstruction error)",
        "",
        "Mean squared error per image (sum over the 64 pixels, data in [0, 1]) at equal code "
        "size; PCA is the best linear code, which a linear autoencoder should match.",
        "",
        "| model | " + " | ".join(f"k = {k}" for k in sizes) + " |",
        "|---" * (len(sizes) + 1) + "|",
    ]
    for name, errors in table["errors"].items():
        lines.append(f"| {name} | " + " | ".join(f"{e:.3f}" for e in errors) + " |")
    return [*lines, ""]


def members(*groups: str) -> tuple[str, ...]:
    """The registered families of the given groups (their registry entries' `group`)."""
    return tuple(name for name, family in registry.FAMILIES.items() if family.group in groups)


FAMILIES = {
    "gan": members("gan"),
    "likelihood": members("vae", "flow"),  # the families trained by maximum likelihood
    "flow": members("flow"),
}


def mode_benchmark(cells: list[dict]) -> list[str]:
    """Modes covered and high-quality share of each GAN, best variant against the plain GAN,
    beside the published anchors (the protocol of VEEGAN and PacGAN)."""
    rows = [
        c for c in cells if c.get("modes_covered") is not None and c["model"] in FAMILIES["gan"]
    ]
    if not rows:
        return []
    lines = [
        "## Mode collapse (the VEEGAN / PacGAN benchmark)",
        "",
        "2,500 samples per model; a sample is high-quality within 3 standard deviations of its "
        "nearest mode, and a mode is covered when at least one high-quality sample falls on it. "
        "Mean ± std over seeds.",
        "",
    ]
    for dataset in sorted({c["dataset"] for c in rows}):
        mine = [c for c in rows if c["dataset"] == dataset]
        total = mine[0]["modes_total"]
        stats = {}
        for label in dict.fromkeys(c["label"] for c in mine):
            runs = [c for c in mine if c["label"] == label]
            modes = np.array([c["modes_covered"] for c in runs], dtype=float)
            quality = np.array([c["high_quality"] for c in runs], dtype=float)
            stats[label] = (modes, quality, runs[0]["model"])
        best = max(stats, key=lambda k: (stats[k][0].mean(), stats[k][1].mean()))
        modes, quality, _ = stats[best]
        text = (
            f"- **{dataset}** ({total} modes): the best variant, {best}, covers "
            f"{modes.mean():.1f} ± {modes.std():.1f} modes with {quality.mean():.0%} "
            f"high-quality samples"
        )
        plain = [k for k, v in stats.items() if v[2] == "gan"]
        if plain and plain[0] != best:
            p_modes, p_quality, _ = stats[plain[0]]
            text += (
                f"; the plain GAN covers {p_modes.mean():.1f} ± {p_modes.std():.1f} "
                f"(worst seed {p_modes.min():.0f} of {total}, {p_quality.mean():.0%} "
                "high-quality)"
            )
        if dataset in MODE_ANCHORS:
            text += f". Anchors: {MODE_ANCHORS[dataset]}"
        lines.append(text + ".")
    return [*lines, ""]


def claims(cells: list[dict]) -> list[str]:
    """The lecture's three claims, each checked against the measured numbers."""

    def avg(models: tuple[str, ...], key: str, datasets: tuple[str, ...] | None = None) -> float:
        values = [
            c.get(key)
            for c in cells
            if c["model"] in models
            and (datasets is None or c["dataset"] in datasets)
            and c.get(key) is not None
        ]
        return float(np.mean(values)) if values else float("nan")

    lines = []
    gan_recall, other_recall = avg(FAMILIES["gan"], "recall"), avg(FAMILIES["likelihood"], "recall")
    gan_cov, other_cov = avg(FAMILIES["gan"], "coverage"), avg(FAMILIES["likelihood"], "coverage")
    if np.isfinite(gan_recall) and np.isfinite(other_recall):
        holds = gan_recall < other_recall
        lines.append(
            f'- **"GANs are less diverse."** Mean recall of the GANs {gan_recall:.2f} against '
            f"{other_recall:.2f} for the likelihood-based families (coverage {gan_cov:.2f} "
            f"against {other_cov:.2f}): {'holds' if holds else 'does not hold'} on these data."
        )
        vanilla = [c for c in cells if c["model"] == "gan" and c.get("modes_covered") is not None]
        if vanilla:
            worst = min(vanilla, key=lambda c: c["modes_covered"] / c["modes_total"])
            lines.append(
                f"  The plain GAN's worst seed covers {worst['modes_covered']} of "
                f"{worst['modes_total']} modes on {worst['dataset']}."
            )
    vae_sharp = avg(("vae",), "sharpness")
    other_sharp = avg(FAMILIES["gan"] + FAMILIES["flow"], "sharpness")
    if np.isfinite(vae_sharp) and np.isfinite(other_sharp):
        lines.append(
            f'- **"VAE samples are blurrier."** Sharpness of digit samples (mean neighbouring-'
            f"pixel difference relative to real digits, 1 = as sharp as the data): VAE "
            f"{vae_sharp:.2f} against {other_sharp:.2f} for GANs and flows: "
            f"{'holds' if vae_sharp < other_sharp else 'does not hold'} here."
        )
    flows = [c for c in cells if c["model"] in FAMILIES["flow"] and c.get("nll") is not None]
    vaes = [c for c in cells if c["model"] == "vae" and c.get("nll") is not None]
    if flows:
        lines.append(
            '- **"Flows give exact likelihoods."** Flows report the exact log-likelihood by '
            "change of variables (tested: invertible to 1e-5, log-determinant equal to "
            "autograd's), so their NLL is a measurement, while the VAE's is an upper bound "
            "(IWAE): "
            + "; ".join(
                f"{d}: flow {np.mean([c['nll'] for c in flows if c['dataset'] == d]):.2f}"
                + (
                    f", VAE ≤ {np.mean([c['nll'] for c in vaes if c['dataset'] == d]):.2f}"
                    if any(c["dataset"] == d for c in vaes)
                    else ""
                )
                for d in sorted({c["dataset"] for c in flows})
            )
            + "."
        )
    return [*lines, ""]
