"""An induction-head experiment end to end: the model and its control, then the report.

Both train on the same fixed training sequences (drawn from the seed) and are measured on
the same held-out ones. Each is a trial in `models/<label>/` (label `model` or `control`):

```
models/<label>/
  checkpoints/fit.pt   the fit's state, resumed after a kill
  metrics.jsonl        "train" rows (the fit's log) and "eval" rows: the in-context score,
                       the held-out loss and every head's prefix-matching score
  tensorboard/         the same scalars
  attention.pt         the trained model's attention maps on the first held-out sequence
  result.json          the final numbers: written last, so a model is finished exactly when
                       its result.json is there
```
"""

from __future__ import annotations

from pathlib import Path

import torch

from emergent import cells, rundir
from emergent.kinds.induction_heads.config import InductionExperiment
from emergent.kinds.induction_heads.measure import (
    Measurement,
    find_jump,
    held_out,
    measure,
    training_sequences,
)
from emergent.kinds.induction_heads.report import build, read_result
from emergent.logger import numeric, read_rows
from emergent.modelfit import check_device, checkpoint_step, fit_in_cell, fit_logger
from emergent.sweep.trial import Trial
from generative.data import DataInfo, Dataset
from generative.models.transformer import Transformer, TransformerConfig
from generative.train import FitConfig

LABELS = ("model", "control")


def preflight(cfg: InductionExperiment) -> None:
    check_device(cfg.train.device)


def dataset(cfg: InductionExperiment) -> Dataset:
    """Training sequences (N, 2 half_len) and the held-out repeated ones as val and test."""
    task = cfg.task
    train = training_sequences(
        task.train_sequences, task.half_len, task.min_repeat, task.vocab, cfg.seed, task.ngram_scale
    )
    val = held_out(cfg.eval.sequences, task.half_len, task.vocab, cfg.seed)
    info = DataInfo("repeated_tokens", (2 * task.half_len,), "tokens", num_categories=task.vocab)
    return Dataset(info, train, val, val)


def build_model(cfg: InductionExperiment, layers: int, info: DataInfo) -> Transformer:
    options = TransformerConfig(
        n_layer=layers,
        n_head=cfg.model.n_head,
        n_embd=cfg.model.n_embd,
        block_size=2 * cfg.task.half_len,
        bias=cfg.model.bias,
        mlp=False,
    )
    torch.manual_seed(cfg.seed)
    return Transformer(info, options)


def model_dir(run_dir: Path, label: str) -> Path:
    return run_dir / "models" / label


def trials(cfg: InductionExperiment, run_dir: Path) -> list[Trial]:
    return [model_trial(cfg, run_dir, label) for label in LABELS]


def model_trial(cfg: InductionExperiment, run_dir: Path, label: str) -> Trial:
    cell, layers = model_dir(run_dir, label), cfg.depths[label]
    return cells.result_trial(
        f"models/{label}",
        cell,
        f"[{cfg.name}] {label} ({layers} layers)",
        lambda quiet: train_and_measure(cfg, cell, label, layers, quiet),
    )


def train_and_measure(
    cfg: InductionExperiment, cell: Path, label: str, layers: int, quiet: bool
) -> dict:
    """Fit one model in `cell` (resuming its checkpoint), measuring it every `eval.every`
    steps, then keep its attention maps and its final numbers."""
    data = dataset(cfg)
    model = build_model(cfg, layers, data.info)
    resume_step = checkpoint_step(cell)
    logger = fit_logger(cell, resume_step)
    half_len = cfg.task.half_len
    budget = FitConfig(**{**cfg.train.__dict__, "seed": cfg.seed})
    clock = cells.TrainClock(cell, resume_step)

    def on_log(row: dict) -> None:
        logger.log({**row, "kind": "train", "elapsed_s": clock.seconds})
        if row["step"] % cfg.eval.every == 0 or row["step"] == budget.steps:
            with clock.paused():
                logger.log(eval_row(row["step"], measure(model, data.val, half_len)))

    try:
        fit_in_cell(
            model,
            data,
            budget,
            cell,
            where=label,
            quiet=quiet,
            on_log=on_log,
            description=f"{cfg.name} · {label}",
        )
    finally:
        logger.close()
    seconds = clock.seconds
    model.eval()
    with torch.no_grad():
        maps = model.attention_maps(data.val[:1].to(model.device))
    torch.save(
        {"tokens": data.val[0].clone(), "maps": torch.stack([m[0].cpu() for m in maps])},
        cell / "attention.pt",
    )  # maps: (layers, heads, T, T)
    rows = [r for r in read_rows(cell / "metrics.jsonl") if r.get("kind") == "eval"]
    jump = find_jump([r["step"] for r in rows], [r["in_context"] for r in rows])
    final = rows[-1]
    return {
        "label": label,
        "layers": layers,
        "heads": cfg.model.n_head,
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": budget.steps,
        "seconds": seconds,
        "in_context": final["in_context"],
        "loss": final["loss"],
        "prefix_matching": final["prefix_matching"],
        "best_prefix_matching": max(max(layer) for layer in final["prefix_matching"]),
        "jump_step": jump.step if jump else None,
        "jump_start": jump.start if jump else None,
        "jump_end": jump.end if jump else None,
        "jump_change": jump.change if jump else None,
        "total_change": jump.total if jump else None,
        "threads": torch.get_num_threads(),
    }


def eval_row(step: int, m: Measurement) -> dict:
    """A metrics row of one measurement: the scores, and each head's prefix matching both as
    a (layers, heads) list and as `pm_<layer>_<head>` scalars (for TensorBoard)."""
    heads = {
        f"pm_{layer}_{head}": float(score)
        for (layer, head), score in zip(
            (
                (i, j)
                for i in range(m.prefix_matching.shape[0])
                for j in range(m.prefix_matching.shape[1])
            ),
            m.prefix_matching.ravel(),
            strict=True,
        )
    }
    return {
        "step": step,
        "kind": "eval",
        "in_context": m.in_context,
        "loss": m.loss,
        "best_prefix_matching": float(m.prefix_matching.max()),
        "prefix_matching": m.prefix_matching.tolist(),
        **heads,
    }


def finish(cfg: InductionExperiment, run_dir: Path, quiet: bool) -> None:
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """`<label>/<key>` of each finished model, and `best_prefix_matching`: the model's."""
    found: dict[str, float] = {}
    for label in LABELS:
        result = read_result(model_dir(run_dir, label) / "result.json")
        if result is None:
            continue
        found.update({f"{label}/{k}": v for k, v in numeric(result).items()})
    if "model/best_prefix_matching" in found:
        found["best_prefix_matching"] = found["model/best_prefix_matching"]
    return found
