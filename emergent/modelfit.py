"""Fit one generative model in a directory and measure it: the piece the generative kinds share.

Used by `generative` (one model), `gen_zoo` (every model on every dataset) and `diffusion`;
each cell of the latter two is a directory under `cells/` (`cell_dir`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emergent.errors import UserError
from emergent.logger import MetricsLogger
from generative import registry
from generative.checkpoint import CheckpointError, load_safe
from generative.data import Dataset
from generative.evaluate import evaluate
from generative.train import FORMAT, FitConfig, FitResult, NonFiniteLoss, fit

FIT_CHECKPOINT = "checkpoints/fit.pt"
"""Where a fit keeps its training state, relative to its directory."""


def check_device(device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("train.device=cuda, but no CUDA device is visible; use 'auto' or 'cpu'")


def load_data(name: str, seed: int, options: dict | None = None) -> Dataset:
    try:
        return registry.load_data(name, seed=seed, **(options or {}))
    except (TypeError, ValueError) as err:
        raise UserError(f"data: {name}: {err}") from None


def train_and_evaluate(
    run_dir: Path,
    model_name: str,
    options: Any,
    data: Dataset,
    train: FitConfig,
    samples: int,
    iwae_k: int,
    quiet: bool,
    label: str,
    logger: MetricsLogger | None = None,
    data_options: dict | None = None,
) -> dict[str, Any]:
    """Fit one model in `run_dir` (resuming its checkpoint), measure it, keep its samples.

    Families with a closed-form maximum-likelihood fit (Naive Bayes) use it instead of
    gradient steps.
    """
    torch.manual_seed(train.seed)
    try:
        model = registry.make(model_name, data.info, options)
    except ValueError as err:
        raise UserError(str(err)) from None
    if registry.FAMILIES[model_name].fit == "closed_form":
        began = time.perf_counter()
        model.fit_exact(data.train, data.train_labels)
        seconds = time.perf_counter() - began
        metrics, drawn = evaluate(model, data, samples, iwae_k, train.seed, data_options)
        metrics.update(train_seconds=seconds, steps_per_s=float("nan"))
        np.savez_compressed(run_dir / "samples.npz", samples=drawn.numpy())
        (run_dir / "history.json").write_text("[]")
        return metrics
    checkpoint = run_dir / FIT_CHECKPOINT
    every = train.checkpoint_every or max(train.steps // 10, 1)
    cfg = FitConfig(**{**train.__dict__, "checkpoint_every": every})
    on_log = (lambda row: logger.log({**row, "kind": "train"})) if logger else None
    try:
        result = fit(
            model,
            data,
            cfg,
            checkpoint=checkpoint,
            progress=not quiet,
            on_log=on_log,
            description=label,
        )
    except CheckpointError as err:
        raise UserError(f"{err}; delete it to train from the start") from None
    except NonFiniteLoss as err:
        raise UserError(str(err)) from None
    metrics, drawn = evaluate(result.ema_model, data, samples, iwae_k, train.seed, data_options)
    metrics.update(train_seconds=result.seconds, steps_per_s=result.steps_per_s)
    np.savez_compressed(run_dir / "samples.npz", samples=drawn.cpu().numpy())
    (run_dir / "history.json").write_text(json.dumps(result.history))
    return metrics


def fit_in_cell(
    model: Any,
    data: Dataset,
    train: FitConfig,
    cell: Path,
    *,
    where: str,
    quiet: bool,
    on_log: Any = None,
    description: str = "",
) -> FitResult:
    """`fit` with its checkpoint in `cell` (resumed when there; one every tenth of the run
    unless `train.checkpoint_every` says otherwise); a damaged checkpoint or a non-finite loss
    is one `UserError` line (`where` names the trial)."""
    every = train.checkpoint_every or max(train.steps // 10, 1)
    try:
        return fit(
            model,
            data,
            FitConfig(**{**train.__dict__, "checkpoint_every": every}),
            checkpoint=cell / FIT_CHECKPOINT,
            progress=not quiet,
            on_log=on_log,
            description=description,
        )
    except CheckpointError as err:
        raise UserError(f"{err}; delete it to train from the start") from None
    except NonFiniteLoss as err:
        raise UserError(f"{where}: {err}") from None


def fit_logger(run_dir: Path, resume_step: int | None) -> MetricsLogger:
    """The metrics logger of a fit in `run_dir` that continues from `resume_step`
    (`checkpoint_step`): the rows logged after that checkpoint are dropped, as the fit logs
    them again; with no checkpoint yet (a fit stopped before its first one starts over) every
    row is dropped."""
    return MetricsLogger(run_dir, resume_step=-1 if resume_step is None else resume_step)


def checkpoint_step(run_dir: Path) -> int | None:
    """The step of the fit checkpoint in `run_dir` (None before the first one): a resumed fit
    continues from it, so rows logged after it are dropped from the logs.

    Raises:
        UserError: the checkpoint is damaged (the message names it and the fix).
    """
    path = run_dir / FIT_CHECKPOINT
    if not path.is_file():
        return None
    try:
        return int(load_safe(path, FORMAT)["step"])
    except (CheckpointError, KeyError, TypeError, ValueError) as err:
        raise UserError(f"{path}: {err}; delete it to train from the start") from None


def cell_dir(run_dir: Path, dataset: str, label: str, seed: int) -> Path:
    return run_dir / "cells" / dataset / label / f"seed{seed}"
