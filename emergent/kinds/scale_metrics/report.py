"""The scale-metrics report: exact match beside per-token cross-entropy and edit distance
against the parameter count, a table per size, the verdict in plain words, and each size's
training curves."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from emergent import cells, rundir
from emergent.kinds.scale_metrics.config import ScaleMetricsExperiment
from emergent.kinds.scale_metrics.plots import scale_panels, training_curves
from emergent.kinds.scale_metrics.verdict import SHARP, Point, Runs, Verdict, verdict
from emergent.logger import read_rows

METRICS = (
    "exact_match",
    "cross_entropy",
    "digit_accuracy",
    "teacher_forced_accuracy",
    "edit_distance",
)
"""The measured numbers of every trial (see `measure.Measurement`)."""

Found = dict[str, dict[int, dict | None]]
"""size label -> seed -> result.json (None before the trial is finished)."""


def read_result(path: Path) -> dict | None:
    """A trial's result.json (None before it is finished); damaged, one line naming it."""
    return cells.read_result(path, lambda r: all(isinstance(r.get(k), float) for k in METRICS))


def cell_dir(run_dir: Path, label: str, seed: int) -> Path:
    """The directory of the trial of size `label` at `seed`."""
    return run_dir / "cells" / label / f"seed{seed}"


def gather(run_dir: Path, cfg: ScaleMetricsExperiment) -> Found:
    return {
        size.label: {
            s: read_result(cell_dir(run_dir, size.label, s) / "result.json")
            for s in cfg.trial_seeds
        }
        for size in cfg.sizes
    }


def points(found: Found, digits: int) -> list[Point]:
    """The seeds' mean of every size with a finished trial, by parameters."""
    mean: list[Point] = []
    for label, by_seed in found.items():
        done = [r for r in by_seed.values() if r is not None]
        if done:
            means = {key: float(np.mean([r[key] for r in done])) for key in METRICS}
            mean.append(
                Point(
                    label,
                    done[0]["parameters"],
                    means["exact_match"],
                    means["cross_entropy"],
                    means["edit_distance"],
                    float(np.mean([r["digit_accuracy"] ** (digits + 1) for r in done])),
                )
            )
    return sorted(mean, key=lambda p: p.parameters)


def runs(found: Found) -> Runs:
    """(exact match, cross-entropy) of every finished trial, by size."""
    return {
        label: [(r["exact_match"], r["cross_entropy"]) for r in by_seed.values() if r]
        for label, by_seed in found.items()
    }


def judge(run_dir: Path, cfg: ScaleMetricsExperiment) -> Verdict | None:
    """The verdict once every trial has finished (None before)."""
    found = gather(run_dir, cfg)
    if any(r is None for by_seed in found.values() for r in by_seed.values()):
        return None
    return verdict(points(found, cfg.task.digits), cfg.task.digits, runs(found))


def build(run_dir: Path, cfg: ScaleMetricsExperiment) -> Path:
    """report.md and plots/ from the trials' results and logs on disk."""
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    found = gather(run_dir, cfg)
    lines = header(cfg, run_dir)
    if any(r is not None for by_seed in found.values() for r in by_seed.values()):
        scale_panels(found, cfg.task.digits, plots / "scale.png", cfg.name)
        lines += [
            "## Exact match and per-token metrics against parameters",
            "",
            "Left: exact match of the greedy answer (dots: seeds; line: their mean) and, "
            f"dashed, p^{cfg.task.digits + 1} from the per-digit accuracy p of the same "
            "answers (per seed, then averaged): what digits right independently would give. "
            "Middle: per-token cross-entropy of the true answer digits (teacher "
            "forced). Right: token edit distance of the greedy answer. Parameters on a log "
            "axis.",
            "",
            "![metrics against parameters](plots/scale.png)",
            "",
        ]
        lines += table_lines(cfg, found)
    lines += verdict_lines(cfg, found)
    logs = {
        label: {s: read_rows(cell_dir(run_dir, label, s) / "metrics.jsonl") for s in by_seed}
        for label, by_seed in found.items()
    }
    if any(rows for by_seed in logs.values() for rows in by_seed.values()):
        training_curves(logs, plots / "curves.png")
        lines += [
            "## Training curves",
            "",
            "Held-out exact match (left) and per-token cross-entropy (right) of every size "
            "and seed against the step; colours run from the smallest size (dark) to the "
            "largest (light).",
            "",
            "![training curves](plots/curves.png)",
            "",
        ]
    path = run_dir / "report.md"
    rundir.write_text_atomic(path, "\n".join(lines) + "\n")
    return path


def header(cfg: ScaleMetricsExperiment, run_dir: Path) -> list[str]:
    t, task = cfg.train, cfg.task
    order = "units first" if task.reverse else "most significant digit first"
    last = cfg.seed + cfg.seeds - 1
    seeds = f"seeds {cfg.seed} to {last}" if cfg.seeds > 1 else f"seed {cfg.seed}"
    return [
        f"# {cfg.name}: emergence against the metric, {task.digits}-digit addition",
        "",
        f"Run directory `{run_dir}` · {len(cfg.sizes)} transformer sizes "
        f"({', '.join(s.label for s in cfg.sizes)}: l layers, h heads, width d) · each "
        f"trained {t.steps:,} steps of batch {t.batch_size}, AdamW lr {t.lr:g} "
        f"({t.lr_schedule}), on the same {task.problems - task.held_out:,} problems · "
        f"measured on {cfg.eval_problems:,} held-out problems · {seeds} (each fixes the "
        f"initial weights and batch order; the problems are drawn once from seed {cfg.seed}).",
        "",
        f'A problem is "a+b=" with {task.digits}-digit operands; the model writes the '
        f"{task.digits + 1} answer digits {order}. Exact match: every answer digit of the "
        "greedy answer right, decoded one token at a time from the prompt (each digit reads "
        "the model's own earlier ones, not teacher forced). Per-token cross-entropy: the mean "
        "-ln p of each true answer digit given the prompt and the true earlier digits "
        "(teacher forced), in nats. Digit accuracy: the share of right digits in the greedy "
        "answer; teacher-forced accuracy: the same with the true earlier digits read. Edit "
        "distance: insertions, deletions and substitutions from the greedy answer to the true "
        "one, in tokens.",
        "",
        'Schaeffer, Miranda & Koyejo 2023 ("Are Emergent Abilities of Large Language Models '
        'a Mirage?", arXiv:2304.15004) argue that abilities which seem to appear suddenly '
        "with scale are mostly made by all-or-nothing metrics such as exact match, while "
        "per-token metrics of the same models improve smoothly.",
        "",
    ]


def spread(values: list[float], digits: int = 3) -> str:
    """'mean' for one seed, 'mean (min–max)' for several."""
    mean = f"{np.mean(values):.{digits}f}"
    if len(values) < 2:
        return mean
    return f"{mean} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def table_lines(cfg: ScaleMetricsExperiment, found: Found) -> list[str]:
    k1 = cfg.task.digits + 1
    lines = [
        "## Per size",
        "",
        f"Means over the seeds (min–max in brackets); p^{k1}: each seed's greedy digit "
        f"accuracy p to the power {k1}, averaged.",
        "",
        "| size | parameters | seeds | exact match | p^" + str(k1) + " | cross-entropy (nats) "
        "| digit accuracy | teacher-forced accuracy | edit distance | train s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, by_seed in found.items():
        done = [r for r in by_seed.values() if r is not None]
        if not done:
            lines.append(f"| {label} | | 0 | not run | | | | | | |")
            continue
        col = {key: [r[key] for r in done] for key in METRICS}
        predicted = float(np.mean([p**k1 for p in col["digit_accuracy"]]))
        lines.append(
            f"| {label} | {done[0]['parameters']:,} | {len(done)} | "
            f"{spread(col['exact_match'])} | {predicted:.3f} | {spread(col['cross_entropy'])} | "
            f"{spread(col['digit_accuracy'])} | {spread(col['teacher_forced_accuracy'])} | "
            f"{spread(col['edit_distance'], 2)} | "
            f"{np.mean([r['train_seconds'] for r in done]):.0f} |"
        )
    return [*lines, "", "Training seconds (mean per seed) leave out the measurements.", ""]


def verdict_lines(cfg: ScaleMetricsExperiment, found: Found) -> list[str]:
    lines = ["## Verdict", ""]
    missing = sum(r is None for by_seed in found.values() for r in by_seed.values())
    if missing:
        total = len(cfg.sizes) * cfg.seeds
        return [*lines, f"{missing} of {total} trials have not finished; no verdict yet.", ""]
    judged = verdict(points(found, cfg.task.digits), cfg.task.digits, runs(found))
    for paragraph in judged.text:
        lines += [paragraph, ""]
    rows = [("exact match", judged.exact_match), ("cross-entropy", judged.cross_entropy),
            ("edit distance", judged.edit_distance)]  # fmt: skip
    labels = list(found)
    steps = [f"{a} → {b}" for a, b in zip(labels, labels[1:], strict=False)]
    lines += [
        "Steepness of each metric between adjacent sizes: its share of all the metric's "
        "movement across the sizes (signed: against the net change is negative), per share "
        "of the log-parameter range; 1 everywhere for a metric linear in log parameters, "
        f"≥ {SHARP:g} a jump.",
        "",
        "| metric | " + " | ".join(steps) + " |",
        "|---|" + "---:|" * len(steps),
    ]
    for name, s in rows:
        cells = [f"{v:.2f}" if math.isfinite(v) else "–" for v in s.per_step] if s else \
            ["–"] * len(steps)  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]
