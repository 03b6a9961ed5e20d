"""The report of an induction-head experiment: the in-context score curves of the model and
its control, the step and window of the jump, each head's prefix-matching score, the best
heads' attention maps, and the targets met or missed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from emergent import cells, rundir
from emergent.errors import UserError
from emergent.kinds.induction_heads.config import InductionExperiment
from emergent.kinds.induction_heads.measure import STEEP, largest_change
from emergent.kinds.induction_heads.plots import attention_maps, curves, head_bars
from emergent.logger import read_rows

TARGET_MODEL = 0.5
"""The issue's target: the model's best head matches prefixes at least this much after the
jump ..."""
TARGET_CONTROL = 0.1
"""... and the control's best head below this."""
LABELS = ("model", "control")


def read_result(path: Path) -> dict | None:
    """A model's result.json (None before it is finished); damaged, one line naming it."""
    return cells.read_result(path, lambda r: isinstance(r.get("in_context"), float))


def build(run_dir: Path, cfg: InductionExperiment) -> Path:
    """report.md and plots/ from the models' results, logs and attention maps on disk."""
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    found = {label: read_result(run_dir / "models" / label / "result.json") for label in LABELS}
    done = {label: r for label, r in found.items() if r is not None}
    lines = header(cfg, run_dir)
    if done:
        logs = {label: read_rows(run_dir / "models" / label / "metrics.jsonl") for label in done}
        jumps = {
            label: (r["jump_step"], r["jump_start"], r["jump_end"])
            for label, r in done.items()
            if r["jump_step"] is not None
        }
        curves(logs, jumps, plots / "curves.png")
        lines += curve_lines(cfg, done, logs)
        head_bars({label: r["prefix_matching"] for label, r in done.items()}, TARGET_MODEL,
                  plots / "heads.png")  # fmt: skip
        lines += head_lines(done)
        maps = best_maps(run_dir, done)
        if maps:
            attention_maps(maps, cfg.task.half_len, plots / "attention.png")
            lines += [
                "## Attention maps",
                "",
                "The best head of each model on the first held-out sequence (query position "
                "down, key position across); an induction head attends along the dotted line, "
                f"from each token of the second half to the token after its copy "
                f"{cfg.task.half_len} positions earlier.",
                "",
                "![attention maps](plots/attention.png)",
                "",
            ]
        lines += target_lines(done)
    path = run_dir / "report.md"
    rundir.write_text_atomic(path, "\n".join(lines) + "\n")
    return path


def header(cfg: InductionExperiment, run_dir: Path) -> list[str]:
    task, model = cfg.task, cfg.model
    return [
        f"# {cfg.name}: induction heads",
        "",
        f"Run directory `{run_dir}` · seed {cfg.seed} · attention-only transformers (no MLP), "
        f"{model.n_head} heads per layer, width {model.n_embd}: the model has {model.n_layer} "
        f"layers, the control {model.control_layers} · {cfg.train.steps:,} steps of batch "
        f"{cfg.train.batch_size}, learning rate {cfg.train.lr:g}.",
        "",
        f"Training: {task.train_sequences:,} sequences of {2 * task.half_len} tokens "
        f"(vocabulary {task.vocab}) from a random second-order model (logit std "
        f"{task.ngram_scale:g}; it gives a previous-token head a use of its own, as text "
        f"does), each with a segment of {task.min_repeat} or more tokens copied at a distance "
        f"uniform from {task.min_repeat} to {2 * task.half_len - task.min_repeat}, so only "
        "copying from context, not a fixed offset, predicts the copy. "
        f"Measured every {cfg.eval.every} steps on {cfg.eval.sequences} held-out sequences "
        f"of uniform random tokens whose second half repeats the first ({task.half_len} "
        "tokens each).",
        "",
        "In-context score (Olsson et al. 2022): the mean loss on late tokens (the second half) "
        "minus the mean loss on early ones (the first half), in nats; 0 for a model that does "
        f"not use its context, about -ln {task.vocab} = {-math.log(task.vocab):.2f} for a "
        "perfect copier. Prefix matching of a head: its mean attention from each token of the "
        "second half to the token right after that token's earlier occurrence. The held-out "
        "tokens do not follow the training statistics, so a model that learned them can lose "
        f"more than ln {task.vocab} nats on the held-out first half.",
        "",
    ]


def curve_lines(
    cfg: InductionExperiment, done: dict[str, dict], logs: dict[str, list[dict]]
) -> list[str]:
    lines = [
        "## The jump",
        "",
        "| model | layers | parameters | final in-context score | held-out loss | jump step "
        "| window | change in window | total change | train s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in done.items():
        window = (
            f"{r['jump_start']:,.0f} to {r['jump_end']:,.0f}"
            if r["jump_step"] is not None and math.isfinite(r["jump_end"] or math.nan)
            else "-"
        )
        step = f"{r['jump_step']:,.0f}" if r["jump_step"] is not None else "-"
        change = f"{r['jump_change']:+.3f}" if r["jump_change"] is not None else "-"
        total = f"{r['total_change']:+.3f}" if r.get("total_change") is not None else "-"
        lines.append(
            f"| {label} | {r['layers']} | {r['parameters']:,} | {r['in_context']:.3f} | "
            f"{r['loss']:.3f} | {step} | {window} | {change} | {total} | {r['seconds']:.1f} |"
        )
    lines += [
        "",
        "Jump step: where the in-context score (smoothed by a 3-point moving mean) changes "
        "fastest; window: the neighbouring measurement intervals at least "
        f"{STEEP:.0%} as steep in the same direction; change in window: what the score moves "
        "across it, against its total change from the first measurement to the last. Train "
        "seconds leave out the measurements and add up the sessions of a resumed run.",
        "",
        "![in-context score and loss](plots/curves.png)",
        "",
    ]
    model = done.get("model")
    if model and model["jump_step"] is not None and math.isfinite(model["jump_end"]):
        width = model["jump_end"] - model["jump_start"]
        share = model["jump_change"] / model["total_change"] if model["total_change"] else 0.0
        lines += [
            f"The model's score moves {model['jump_change']:+.2f} nats within {width:,.0f} "
            f"steps ({width / cfg.train.steps:.0%} of training), {share:.0%} of its total "
            f"change of {model['total_change']:+.2f}.",
        ]
        if "control" in done:
            rows = [r for r in logs["control"] if r.get("kind") == "eval"]
            flat = largest_change([r["step"] for r in rows], [r["in_context"] for r in rows], width)
            share = abs(flat / model["jump_change"]) if model["jump_change"] else math.nan
            lines.append(
                f"Over any {width:,.0f} steps the control's score moves at most {flat:+.2f} "
                f"nats ({share:.0%} of the size of the model's jump)."
            )
        lines.append("")
    return lines


def head_lines(done: dict[str, dict]) -> list[str]:
    lines = [
        "## Prefix matching of each head",
        "",
        "Final scores; layer 0 reads the embeddings.",
        "",
        "| model | layer | " + " | ".join(f"head {h}" for h in range(len_heads(done))) + " |",
        "|---|---:|" + "---:|" * len_heads(done),
    ]
    for label, r in done.items():
        for layer, heads in enumerate(r["prefix_matching"]):
            lines.append(f"| {label} | {layer} | " + " | ".join(f"{v:.3f}" for v in heads) + " |")
    return [*lines, "", "![prefix matching](plots/heads.png)", ""]


def len_heads(done: dict[str, dict]) -> int:
    return max(len(layer) for r in done.values() for layer in r["prefix_matching"])


def best_maps(run_dir: Path, done: dict[str, dict]) -> dict[str, tuple[np.ndarray, str]]:
    """label -> (the (T, T) map of its best head, "layer.head") from attention.pt."""
    maps = {}
    for label, r in done.items():
        path = run_dir / "models" / label / "attention.pt"
        if not path.is_file():
            continue
        try:
            saved = torch.load(path, weights_only=True)["maps"]  # (layers, heads, T, T)
        except Exception as err:  # noqa: BLE001 - any damage is one line
            raise UserError(f"{path}: damaged ({type(err).__name__}); delete the run") from None
        scores = np.asarray(r["prefix_matching"])
        layer, head = np.unravel_index(scores.argmax(), scores.shape)
        maps[label] = (saved[layer, head].numpy(), f"{layer}.{head}")
    return maps


def target_lines(done: dict[str, dict]) -> list[str]:
    lines = ["## Targets", ""]
    model, control = done.get("model"), done.get("control")
    if model is not None:
        best = model["best_prefix_matching"]
        met = best >= TARGET_MODEL
        lines.append(
            f"- The model's best head matches prefixes {best:.3f} after training: the target "
            f"(at least {TARGET_MODEL}) is **{'met' if met else 'missed'}**."
        )
    if control is not None:
        best = control["best_prefix_matching"]
        met = best < TARGET_CONTROL
        lines.append(
            f"- The control's best head matches prefixes {best:.3f}: the target (below "
            f"{TARGET_CONTROL}) is **{'met' if met else 'missed'}**."
        )
    return [*lines, ""]
