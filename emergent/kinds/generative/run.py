"""One generative model end to end: fit (resuming its checkpoint), measure, report."""

from __future__ import annotations

from pathlib import Path

from emergent import rundir
from emergent.kinds.generative.config import GenerativeExperiment
from emergent.kinds.generative.report import build
from emergent.logger import numeric, read_rows
from emergent.modelfit import (
    check_device,
    checkpoint_step,
    fit_logger,
    load_data,
    train_and_evaluate,
)
from emergent.sweep.trial import OnResult, Trial
from generative.train import FitConfig


def preflight(cfg: GenerativeExperiment) -> None:
    check_device(cfg.train.device)


def trials(cfg: GenerativeExperiment, run_dir: Path) -> list[Trial]:
    """One trial: the fit and its evaluation."""
    return [
        Trial(
            "fit",
            lambda: rundir.read_state(run_dir).get("status") == "done",
            lambda quiet, on_result: fit_and_measure(cfg, run_dir, quiet, on_result),
        )
    ]


def fit_and_measure(
    cfg: GenerativeExperiment, run_dir: Path, quiet: bool, on_result: OnResult | None
) -> None:
    """Fit in `run_dir` (a resumed run continues from its checkpoint), then measure."""
    data = load_data(cfg.data.name, cfg.seed, cfg.data.options)
    # A resumed fit continues from its checkpoint's step: rows logged after it are redone, so
    # they are dropped from metrics.jsonl and TensorBoard alike.
    logger = fit_logger(run_dir, checkpoint_step(run_dir))
    rundir.write_state(run_dir, status="running")
    train = FitConfig(**{**cfg.train.__dict__, "seed": cfg.seed})
    metrics = train_and_evaluate(
        run_dir,
        cfg.model.name,
        cfg.model.options,
        data,
        train,
        cfg.eval.samples,
        cfg.eval.iwae_k,
        quiet,
        cfg.name,
        logger,
        cfg.data.options,
    )
    row = {"step": cfg.train.steps, "kind": "eval", **metrics}
    logger.log(row)
    logger.close()
    if on_result is not None:
        on_result(row)
    rundir.write_state(run_dir, status="done", step=cfg.train.steps)


def finish(cfg: GenerativeExperiment, run_dir: Path, quiet: bool) -> None:
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """The evaluation's numbers (likelihood, Fréchet distance, precision/recall, ...)."""
    rows = [r for r in read_rows(run_dir / "metrics.jsonl") if r.get("kind") == "eval"]
    return numeric(rows[-1]) if rows else {}
