"""A grokking experiment end to end: one trial per (weight decay, seed), then the report.

Each trial trains the model full batch on its split of the pairs and measures it every
`train.eval_every` epochs, in `cells/wd<weight decay>/seed<seed>/`:

```
cells/wd0.03/seed0/
  checkpoints/fit.pt      the fit's state, resumed after a kill
  metrics.jsonl           one "train" row per measurement: training loss, train and
                          validation accuracy, validation loss, weight norm, seconds
  tensorboard/            the same scalars
  embedding_memorised.npy the number embeddings (p, D) when train accuracy first reached
                          `MEMORISED`, before any generalisation
  embedding_final.npy     the number embeddings after the last epoch
  result.json             the epochs of memorisation and generalisation and the final
                          numbers: written last, so a trial is finished exactly when it is there
```
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from emergent import cells, rundir
from emergent.errors import UserError
from emergent.kinds.grokking.config import GrokkingExperiment, parse
from emergent.kinds.grokking.fourier import frequency_power, key_frequencies, top_share
from emergent.kinds.grokking.report import build, cell_dir, read_result
from emergent.logger import read_rows
from emergent.modelfit import check_device, checkpoint_step, fit_in_cell, fit_logger
from emergent.sweep.trial import Trial
from generative import registry
from generative.data import DataInfo, Dataset
from generative.text.tasks import Sequences, modular_addition
from generative.train import FitConfig

MEMORISED = 0.99
"""Train accuracy that marks memorisation."""
GENERALISED = 0.95
"""Validation accuracy that marks generalisation."""


def preflight(cfg: GrokkingExperiment) -> None:
    check_device(cfg.train.device)


def trials(cfg: GrokkingExperiment, run_dir: Path) -> list[Trial]:
    """One trial per (weight decay, seed), weight decays in increasing order."""
    return [
        trial(cfg, run_dir, weight_decay, seed)
        for weight_decay in cfg.weight_decays
        for seed in cfg.trial_seeds
    ]


def trial(cfg: GrokkingExperiment, run_dir: Path, weight_decay: float, seed: int) -> Trial:
    cell = cell_dir(run_dir, weight_decay, seed)

    def compute(quiet: bool) -> dict:
        with cells.cpu_threads(cfg.train.threads):
            return train_and_measure(cfg, cell, weight_decay, seed, quiet)

    banner = f"[{cfg.name}] weight decay {weight_decay:g}, seed {seed}"
    return cells.result_trial(f"wd{weight_decay:g}/seed{seed}", cell, banner, compute)


def task_data(cfg: GrokkingExperiment, seed: int) -> Dataset:
    """The pairs split by `seed`: x (N, 3) = [a, b, =] with targets (N, 3), -1 but the last."""
    splits = modular_addition(cfg.task.p, cfg.task.train_fraction, seed)
    info = DataInfo(f"modular_addition_p{cfg.task.p}", (3,), "tokens", splits.vocab_size)
    return Dataset(
        info,
        train=splits.train.x,
        val=splits.val.x,
        test=splits.val.x,
        train_labels=splits.train.y,
        val_labels=splits.val.y,
        test_labels=splits.val.y,
    )


@torch.no_grad()
def accuracy_and_loss(model: torch.nn.Module, data: Sequences) -> tuple[float, float]:
    """Share of the pairs whose answer is the argmax at the last position, and the mean loss."""
    device = next(model.parameters()).device
    x, y = data.x.to(device), data.y[:, -1].to(device)  # (N, 3), (N,)
    logits = model.next_token_logits(x).float()  # (N, V) at '='; the MLP reads that window only
    correct = (logits.argmax(-1) == y).float().mean()
    loss = torch.nn.functional.cross_entropy(logits, y)
    return float(correct), float(loss)


@torch.no_grad()
def weight_norm(model: torch.nn.Module) -> float:
    """||theta||_2 over every parameter (what weight decay pulls down)."""
    return float(torch.sqrt(sum((p.double() ** 2).sum() for p in model.parameters())))


def number_embedding(model: torch.nn.Module, p: int) -> np.ndarray:
    """(p, D) rows of the token embedding for the residues 0..p-1."""
    return model.tok_emb.weight[:p].detach().cpu().double().numpy()


def measure(model: torch.nn.Module, data: Dataset) -> dict[str, float]:
    """Train and validation accuracy and loss and the weight norm, in eval mode (no dropout, no
    random numbers drawn), the model's mode restored after."""
    was_training = model.training
    model.eval()
    train_acc, train_loss = accuracy_and_loss(model, Sequences(data.train, data.train_labels))
    val_acc, val_loss = accuracy_and_loss(model, Sequences(data.val, data.val_labels))
    model.train(was_training)
    return {
        "train_acc": train_acc,
        "val_acc": val_acc,
        "train_loss": train_loss,
        "val_loss": val_loss,
        "weight_norm": weight_norm(model),
    }


def train_and_measure(
    cfg: GrokkingExperiment, cell: Path, weight_decay: float, seed: int, quiet: bool
) -> dict:
    """Fit the model full batch (resuming its checkpoint), logging every `eval_every` epochs;
    the first epochs at which train and validation accuracy reach their marks."""
    data = task_data(cfg, seed)
    torch.manual_seed(seed)
    try:
        model = registry.make(cfg.model.name, data.info, cfg.model.options)
    except ValueError as err:
        raise UserError(f"model: {err}") from None
    train = cfg.train
    budget = FitConfig(
        steps=train.epochs,
        batch_size=len(data.train),
        lr=train.lr,
        beta2=train.beta2,
        weight_decay=weight_decay,
        grad_clip=train.grad_clip,
        seed=seed,
        device=train.device,
        log_every=train.eval_every,
        checkpoint_every=train.checkpoint_every,
    )
    resume_step = checkpoint_step(cell)
    logger = fit_logger(cell, resume_step)
    clock = cells.TrainClock(cell, resume_step)
    memorised = cell / "embedding_memorised.npy"

    def on_log(row: dict) -> None:
        with clock.paused():
            numbers = measure(model, data)
            if numbers["train_acc"] >= MEMORISED and not memorised.is_file():
                save_array(memorised, number_embedding(model, cfg.task.p))
        logger.log({**row, "kind": "train", **numbers, "elapsed_s": clock.seconds})

    try:
        with cells.subnormals_flushed():
            fit_in_cell(
                model,
                data,
                budget,
                cell,
                where=f"weight decay {weight_decay:g}, seed {seed}",
                quiet=quiet,
                on_log=on_log,
                description=f"{cfg.name} · wd {weight_decay:g} · seed {seed}",
            )
    finally:
        logger.close()
    seconds = clock.seconds
    final = number_embedding(model, cfg.task.p)
    save_array(cell / "embedding_final.npy", final)
    rows = [r for r in read_rows(cell / "metrics.jsonl") if r.get("kind") == "train"]
    return summarise(rows, final, memorised, weight_decay, seed, seconds, len(data.train))


def save_array(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.npy")
    np.save(tmp, array)
    tmp.replace(path)


def first_epoch(rows: list[dict], key: str, mark: float) -> int | None:
    """The first logged epoch at which `key` reached `mark` (None when it never did)."""
    return next((r["step"] for r in rows if (r.get(key) or 0.0) >= mark), None)


def summarise(
    rows: list[dict],
    final: np.ndarray,
    memorised_path: Path,
    weight_decay: float,
    seed: int,
    seconds: float,
    n_train: int,
) -> dict:
    """result.json of one trial."""
    memorised = first_epoch(rows, "train_acc", MEMORISED)
    generalised = first_epoch(rows, "val_acc", GENERALISED)
    ratio = generalised / memorised if memorised and generalised else None
    power = frequency_power(final)
    before = frequency_power(np.load(memorised_path)) if memorised_path.is_file() else None
    last = rows[-1]
    return {
        "weight_decay": weight_decay,
        "seed": seed,
        "epochs": last["step"],
        "train_pairs": n_train,
        "memorised_epoch": memorised,
        "generalised_epoch": generalised,
        "ratio": ratio,
        "final_train_acc": last["train_acc"],
        "final_val_acc": last["val_acc"],
        "final_weight_norm": last["weight_norm"],
        "top_frequency_share": top_share(power),
        "top_frequency_share_memorised": top_share(before) if before is not None else None,
        "key_frequencies": key_frequencies(power),
        "train_seconds": seconds,
        "threads": torch.get_num_threads(),
    }


def finish(cfg: GrokkingExperiment, run_dir: Path, quiet: bool) -> None:
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """Per weight decay `wd<value>/<key>`: the median memorisation and generalisation epochs
    and ratio over the seeds that reached them; `ratio` is the smallest weight decay's."""
    cfg = parse(rundir.read_config(run_dir))
    found: dict[str, float] = {}
    for weight_decay in cfg.weight_decays:
        mine = [
            read_result(cell_dir(run_dir, weight_decay, s) / "result.json") for s in cfg.trial_seeds
        ]
        mine = [r for r in mine if r is not None]
        for key in ("memorised_epoch", "generalised_epoch", "ratio", "final_val_acc"):
            values = [r[key] for r in mine if r.get(key) is not None]
            if values:
                found[f"wd{weight_decay:g}/{key}"] = float(np.median(values))
    headline = found.get(f"wd{cfg.weight_decays[0]:g}/ratio")
    if headline is not None and math.isfinite(headline):
        found["ratio"] = headline
    return found
