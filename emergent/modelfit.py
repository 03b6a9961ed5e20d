"""Generative experiments end to end: one model, the zoo, the pair's learning curves.

Each uses the same run directory, metrics.jsonl / TensorBoard logs, checkpoints and report as
the reinforcement-learning runs. The zoo keeps one cell per (dataset, model, seed) under
`cells/`; a resumed zoo skips finished cells and resumes the one in progress from its
checkpoint. Several processes on one machine may work on the same zoo (`emergent run --resume
RUN_DIR` in a second shell): each claims a cell before training it (`claim.json`, created
exclusively), skips cells held by a live process, takes over those of a dead one, and the
last to finish writes the report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emergent import gen_report, rundir
from emergent.errors import UserError
from emergent.gen_config import GenerativeExperiment, PairExperiment, ZooEntry, ZooExperiment
from emergent.logger import MetricsLogger
from generative import registry
from generative.checkpoint import CheckpointError
from generative.data import Dataset
from generative.evaluate import evaluate
from generative.train import FitConfig, NonFiniteLoss, fit


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
    if hasattr(model, "fit_exact"):
        began = time.perf_counter()
        model.fit_exact(data.train, data.train_labels)
        seconds = time.perf_counter() - began
        metrics, drawn = evaluate(model, data, samples, iwae_k, train.seed, data_options)
        metrics.update(train_seconds=seconds, steps_per_s=float("nan"))
        np.savez_compressed(run_dir / "samples.npz", samples=drawn.numpy())
        (run_dir / "history.json").write_text("[]")
        return metrics
    checkpoint = run_dir / "checkpoints" / "fit.pt"
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


def run_generative(cfg: GenerativeExperiment, run_dir: Path, quiet: bool = False) -> Path:
    check_device(cfg.train.device)
    data = load_data(cfg.data.name, cfg.seed, cfg.data.options)
    state = rundir.read_state(run_dir)
    logger = MetricsLogger(run_dir, resume_step=state.get("step"))
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
    logger.log({"step": cfg.train.steps, "kind": "eval", **metrics})
    logger.close()
    rundir.write_state(run_dir, status="done", step=cfg.train.steps)
    gen_report.build_single(run_dir)
    return run_dir


def cell_dir(run_dir: Path, dataset: str, label: str, seed: int) -> Path:
    return run_dir / "cells" / dataset / label / f"seed{seed}"


def run_zoo(cfg: ZooExperiment, run_dir: Path, quiet: bool = False) -> Path:
    """Every model on every dataset for every seed (finished cells are kept on resume)."""
    check_device(cfg.train.device)
    for dataset in cfg.datasets:
        for seed in range(cfg.seed, cfg.seed + cfg.seeds):
            cache: dict[str, Dataset] = {}
            for entry in cfg.models:
                view = registry.view_for(entry.model.name, dataset)
                if view is None:
                    continue  # the family does not model this kind of data
                cell = cell_dir(run_dir, dataset, entry.label, seed)
                if (cell / "result.json").is_file():
                    continue
                cell.mkdir(parents=True, exist_ok=True)
                if not claim(cell / "claim.json"):
                    continue  # another live process is training it
                if view not in cache:
                    cache[view] = load_data(view, seed)
                if not quiet:
                    print(f"[{cfg.name}] {dataset} · {entry.label} · seed {seed}", file=sys.stderr)
                metrics = train_and_evaluate(
                    cell,
                    entry.model.name,
                    entry.model.options,
                    cache[view],
                    zoo_budget(cfg, entry, seed),
                    cfg.eval.samples,
                    cfg.eval.iwae_k,
                    quiet=True,
                    label=f"{dataset}/{entry.label}",
                )
                rundir.write_text_atomic(
                    cell / "result.json",
                    json.dumps(
                        {
                            "dataset": dataset,
                            "view": view,
                            "model": entry.model.name,
                            "label": entry.label,
                            "seed": seed,
                            **metrics,
                        }
                    ),
                )
                (cell / "claim.json").unlink(missing_ok=True)
    reconstruction_table(cfg, run_dir, quiet)
    # Counted afresh: a process that skipped a piece held elsewhere may now be the last one.
    unfinished = unfinished_pieces(cfg, run_dir)
    if unfinished:
        if not quiet:
            print(
                f"[{cfg.name}] {unfinished} piece(s) are being computed by another process; "
                "the last process to finish writes the report",
                file=sys.stderr,
            )
        return run_dir
    rundir.write_state(run_dir, status="done")
    gen_report.build_zoo(run_dir, cfg)
    return run_dir


def unfinished_pieces(cfg: ZooExperiment, run_dir: Path) -> int:
    """Cells without a result, plus the reconstruction table if it is due and missing."""
    missing = sum(
        not (cell_dir(run_dir, dataset, entry.label, seed) / "result.json").is_file()
        for dataset in cfg.datasets
        for seed in range(cfg.seed, cfg.seed + cfg.seeds)
        for entry in cfg.models
        if registry.view_for(entry.model.name, dataset) is not None
    )
    table_due = bool(cfg.code_sizes) and "digits" in cfg.datasets
    return missing + int(table_due and not (run_dir / "reconstruction.json").is_file())


def claim(path: Path) -> bool:
    """Take the piece of work marked by `path` for this process.

    False while a live process on this machine holds it; a claim left by a dead process (a
    crash, a kill) is taken over, so a resumed zoo never waits for a ghost.
    """
    me = {"host": socket.gethostname(), "pid": os.getpid()}
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            holder = json.loads(path.read_text())
        except (OSError, ValueError):
            holder = {}
        if holder != me and holder.get("host") == me["host"] and _alive(holder.get("pid")):
            return False
        rundir.write_text_atomic(path, json.dumps(me))
        return True
    with os.fdopen(fd, "w") as f:
        json.dump(me, f)
    return True


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


AUTOENCODERS = ("linear", "mlp", "conv")
# A linear autoencoder's loss is a smooth, ill-conditioned quadratic: full batches, a large
# step and no clipping get it to PCA's optimum within the budget; the deep ones use minibatches.
AE_SETTINGS = {
    "linear": {"batch_size": 4096, "lr": 0.1, "grad_clip": 0.0, "lr_schedule": "cosine"},
    "mlp": {"batch_size": 128, "lr": 1e-3, "lr_schedule": "cosine"},
    "conv": {"batch_size": 128, "lr": 1e-3, "lr_schedule": "cosine"},
}


def reconstruction_table(cfg: ZooExperiment, run_dir: Path, quiet: bool) -> bool:
    """Test reconstruction error on digits of PCA and of linear, MLP and conv autoencoders
    at each code size, with the zoo's budget (`reconstruction.json`).

    Returns False when another process is computing it."""
    from generative.models.pca import PCA

    out = run_dir / "reconstruction.json"
    if out.is_file() or not cfg.code_sizes or "digits" not in cfg.datasets:
        return True
    if not claim(run_dir / "reconstruction.claim.json"):
        return False
    data = load_data("digits_continuous", cfg.seed)
    # Both sides see the same clean levels / 17 (no dequantization noise for the autoencoders).
    data = dataclasses.replace(data, info=dataclasses.replace(data.info, kind="continuous"))
    train, test = data.train.flatten(1).double(), data.test.flatten(1).double()
    pca = PCA().fit(train)
    errors: dict[str, list[float]] = {"PCA": []}
    for k in cfg.code_sizes:
        errors["PCA"].append(float(((pca.reconstruct(test, k) - test) ** 2).sum(1).mean()))
    for arch in AUTOENCODERS:
        errors[f"{arch} autoencoder"] = []
        for k in cfg.code_sizes:
            if not quiet:
                print(
                    f"[{cfg.name}] reconstruction · {arch} autoencoder · k = {k}", file=sys.stderr
                )
            model = registry.make("autoencoder", data.info, {"arch": arch, "code_size": k})
            settings = {**cfg.train.__dict__, **AE_SETTINGS[arch], "seed": cfg.seed, "ema": 0.0}
            fit(model, data, FitConfig(**settings))
            with torch.no_grad():
                recon = model.reconstruct(data.test.to(model.device)).flatten(1).double().cpu()
            errors[f"{arch} autoencoder"].append(float(((recon - test) ** 2).sum(1).mean()))
    table = {"code_sizes": list(cfg.code_sizes), "errors": errors}
    rundir.write_text_atomic(out, json.dumps(table))
    (run_dir / "reconstruction.claim.json").unlink(missing_ok=True)
    return True


def zoo_budget(cfg: ZooExperiment, entry: ZooEntry, seed: int) -> FitConfig:
    """The shared budget, with the entry's learning rate and the cell's seed."""
    changes = {"seed": seed, **({"lr": entry.lr} if entry.lr is not None else {})}
    return FitConfig(**{**cfg.train.__dict__, **changes})


def run_pair(cfg: PairExperiment, run_dir: Path, quiet: bool = False) -> Path:
    from emergent import gen_pair

    gen_pair.run(cfg, run_dir, quiet)
    rundir.write_state(run_dir, status="done")
    gen_report.build_pair(run_dir)
    return run_dir


def run(cfg: Any, run_dir: Path, quiet: bool = False) -> Path:
    from emergent import diffusion_config, diffusion_runner

    if isinstance(cfg, diffusion_config.DiffusionExperiment):
        return diffusion_runner.run(cfg, run_dir, quiet)
    if isinstance(cfg, GenerativeExperiment):
        return run_generative(cfg, run_dir, quiet)
    if isinstance(cfg, ZooExperiment):
        return run_zoo(cfg, run_dir, quiet)
    return run_pair(cfg, run_dir, quiet)
