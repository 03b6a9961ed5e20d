"""The zoo end to end: every model on every dataset for every seed, one cell each under
`cells/`, then the autoencoder-against-PCA reconstruction table and the report.

Each cell and the table is a trial: a resumed zoo skips finished ones and resumes the one in
progress from its checkpoint; `emergent sweep` on a zoo config runs the cells in parallel as
Ray Tune trials.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import torch

from emergent import rundir
from emergent.gentables import cell_means
from emergent.kinds.gen_zoo.config import ZooEntry, ZooExperiment
from emergent.kinds.gen_zoo.report import build
from emergent.logger import numeric
from emergent.modelfit import cell_dir, check_device, load_data, train_and_evaluate
from emergent.sweep.trial import OnResult, Trial
from generative import registry
from generative.train import FitConfig, fit


def preflight(cfg: ZooExperiment) -> None:
    check_device(cfg.train.device)


def trials(cfg: ZooExperiment, run_dir: Path) -> list[Trial]:
    """One cell per (dataset, seed, model) whose family models the dataset, then the
    reconstruction table when it is due."""
    found = [
        cell_trial(cfg, run_dir, dataset, seed, entry, view)
        for dataset in cfg.datasets
        for seed in range(cfg.seed, cfg.seed + cfg.seeds)
        for entry in cfg.models
        if (view := registry.view_for(entry.model.name, dataset)) is not None
    ]
    if cfg.code_sizes and "digits" in cfg.datasets:
        table = run_dir / "reconstruction.json"
        found.append(
            Trial(
                "reconstruction",
                table.is_file,
                lambda quiet, on_result: reconstruction_table(cfg, run_dir, quiet),
            )
        )
    return found


def cell_trial(
    cfg: ZooExperiment, run_dir: Path, dataset: str, seed: int, entry: ZooEntry, view: str
) -> Trial:
    """One model on one view of a dataset with one seed, in `cells/<dataset>/<label>/seed<s>`."""
    cell = cell_dir(run_dir, dataset, entry.label, seed)

    def run(quiet: bool, on_result: OnResult | None) -> None:
        cell.mkdir(parents=True, exist_ok=True)
        if not quiet:
            print(f"[{cfg.name}] {dataset} · {entry.label} · seed {seed}", file=sys.stderr)
        metrics = train_and_evaluate(
            cell,
            entry.model.name,
            entry.model.options,
            load_data(view, seed),
            zoo_budget(cfg, entry, seed),
            cfg.eval.samples,
            cfg.eval.iwae_k,
            quiet=True,
            label=f"{dataset}/{entry.label}",
        )
        result = {
            "dataset": dataset,
            "view": view,
            "model": entry.model.name,
            "label": entry.label,
            "seed": seed,
            **metrics,
        }
        rundir.write_text_atomic(cell / "result.json", json.dumps(result))
        if on_result is not None:
            on_result(numeric(result))

    name = f"{dataset}/{entry.label}/seed{seed}"
    return Trial(name, (cell / "result.json").is_file, run)


def finish(cfg: ZooExperiment, run_dir: Path, quiet: bool) -> None:
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """Each metric of each dataset and model, averaged over the zoo's seeds
    (`<dataset>/<label>/<metric>`)."""
    return cell_means(run_dir)


AUTOENCODERS = ("linear", "mlp", "conv")
# A linear autoencoder's loss is a smooth, ill-conditioned quadratic: full batches, a large
# step and no clipping get it to PCA's optimum within the budget; the deep ones use minibatches.
AE_SETTINGS = {
    "linear": {"batch_size": 4096, "lr": 0.1, "grad_clip": 0.0, "lr_schedule": "cosine"},
    "mlp": {"batch_size": 128, "lr": 1e-3, "lr_schedule": "cosine"},
    "conv": {"batch_size": 128, "lr": 1e-3, "lr_schedule": "cosine"},
}


def reconstruction_table(cfg: ZooExperiment, run_dir: Path, quiet: bool) -> None:
    """Test reconstruction error on digits of PCA and of linear, MLP and conv autoencoders
    at each code size, with the zoo's budget (`reconstruction.json`)."""
    from generative.models.pca import PCA

    out = run_dir / "reconstruction.json"
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


def zoo_budget(cfg: ZooExperiment, entry: ZooEntry, seed: int) -> FitConfig:
    """The shared budget, with the entry's learning rate and the cell's seed."""
    changes = {"seed": seed, **({"lr": entry.lr} if entry.lr is not None else {})}
    return FitConfig(**{**cfg.train.__dict__, **changes})
