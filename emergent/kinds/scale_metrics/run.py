"""A scale-metrics experiment end to end: one trial per (size, seed), then the report.

Every trial trains its size on the same problems for the same budget and measures it on the
held-out ones every `eval.every` steps, in `cells/<size>/seed<seed>/` (size as 'l2h4d64'):

```
cells/l2h4d64/seed0/
  checkpoints/fit.pt   the fit's state, resumed after a kill
  metrics.jsonl        "train" rows (the fit's log) and "eval" rows: exact match,
                       cross-entropy, digit accuracies and edit distance on held-out problems
  tensorboard/         the same scalars
  result.json          the size, its parameters and the final numbers: written last, so a
                       trial is finished exactly when it is there
```
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from emergent import cells, rundir
from emergent.kinds.scale_metrics.config import ScaleMetricsExperiment, SizeConfig, parse
from emergent.kinds.scale_metrics.measure import dataset, measure, problems
from emergent.kinds.scale_metrics.report import METRICS, build, cell_dir, judge, read_result
from emergent.logger import read_rows
from emergent.modelfit import check_device, checkpoint_step, fit_in_cell, fit_logger
from emergent.sweep.trial import Trial
from generative.models.transformer import Transformer
from generative.text.tasks import Sequences
from generative.train import FitConfig


def preflight(cfg: ScaleMetricsExperiment) -> None:
    check_device(cfg.train.device)


def trials(cfg: ScaleMetricsExperiment, run_dir: Path) -> list[Trial]:
    """One trial per (size, seed), sizes from the smallest."""
    return [trial(cfg, run_dir, size, seed) for size in cfg.sizes for seed in cfg.trial_seeds]


def trial(cfg: ScaleMetricsExperiment, run_dir: Path, size: SizeConfig, seed: int) -> Trial:
    cell = cell_dir(run_dir, size.label, seed)
    return cells.result_trial(
        f"{size.label}/seed{seed}",
        cell,
        f"[{cfg.name}] {size.label}, seed {seed}",
        lambda quiet: measured_with_threads(cfg, cell, size, seed, quiet),
    )


def measured_with_threads(
    cfg: ScaleMetricsExperiment, cell: Path, size: SizeConfig, seed: int, quiet: bool
) -> dict:
    with cells.cpu_threads(cfg.threads):
        return train_and_measure(cfg, cell, size, seed, quiet)


def train_and_measure(
    cfg: ScaleMetricsExperiment, cell: Path, size: SizeConfig, seed: int, quiet: bool
) -> dict:
    """Fit one size in `cell` (resuming its checkpoint), measuring it every `eval.every` steps
    and at the last; its final numbers."""
    task = problems(cfg)
    data = dataset(task, cfg)
    held_out = Sequences(task.val.x[: cfg.eval_problems], task.val.y[: cfg.eval_problems])
    torch.manual_seed(seed)
    model = Transformer(data.info, size.options(cfg.task.sequence_len))
    budget = FitConfig(**{**cfg.train.__dict__, "seed": seed})
    resume_step = checkpoint_step(cell)
    logger = fit_logger(cell, resume_step)
    clock = cells.TrainClock(cell, resume_step)

    def on_log(row: dict) -> None:
        logger.log({**row, "kind": "train", "elapsed_s": clock.seconds})
        if row["step"] % cfg.eval.every == 0 or row["step"] == budget.steps:
            with clock.paused():
                numbers = dataclasses.asdict(measure(model, task, held_out))
                logger.log({"step": row["step"], "kind": "eval", **numbers})

    try:
        fit_in_cell(
            model,
            data,
            budget,
            cell,
            where=f"{size.label}, seed {seed}",
            quiet=quiet,
            on_log=on_log,
            description=f"{cfg.name} · {size.label} · seed {seed}",
        )
    finally:
        logger.close()
    seconds = clock.seconds
    final = [r for r in read_rows(cell / "metrics.jsonl") if r.get("kind") == "eval"][-1]
    return {
        "label": size.label,
        **dataclasses.asdict(size),
        "seed": seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": budget.steps,
        "problems": len(held_out),
        **{key: final[key] for key in METRICS},
        "train_seconds": seconds,
        "threads": torch.get_num_threads(),
    }


def finish(cfg: ScaleMetricsExperiment, run_dir: Path, quiet: bool) -> None:
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """`<size>/<metric>`: each size's mean over its finished seeds, its `<size>/parameters`;
    and `exact_match_steepness` and `cross_entropy_steepness` of the verdict (the steepest
    step of each against its average slope) once every size has a result."""
    cfg = parse(rundir.read_config(run_dir))
    found: dict[str, float] = {}
    for size in cfg.sizes:
        mine = [read_result(cell_dir(run_dir, size.label, s) / "result.json")
                for s in cfg.trial_seeds]  # fmt: skip
        mine = [r for r in mine if r is not None]
        if not mine:
            continue
        found[f"{size.label}/parameters"] = float(mine[0]["parameters"])
        for key in METRICS:
            found[f"{size.label}/{key}"] = float(np.mean([r[key] for r in mine]))
    judged = judge(run_dir, cfg)
    if judged is not None:
        for name in ("exact_match", "cross_entropy"):
            s = getattr(judged, name)
            if s is not None:
                found[f"{name}_steepness"] = s.most
    return found
