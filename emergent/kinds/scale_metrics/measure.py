"""The problems and what is measured on the held-out ones: one all-or-nothing metric (exact
match of the greedy answer) beside continuous ones (per-token cross-entropy, per-digit
accuracy, token edit distance: `emergent.metrics.communication.edit_distances`).

References:
    Schaeffer, Miranda & Koyejo 2023, "Are Emergent Abilities of Large Language Models a
        Mirage?", arXiv:2304.15004 (exact match against per-token metrics; edit distance).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from emergent.kinds.scale_metrics.config import ScaleMetricsExperiment, data_info
from emergent.metrics.communication import edit_distances
from generative.data import Dataset
from generative.models.language_model import LanguageModel
from generative.text.tasks import AdditionTask, Sequences, addition


def problems(cfg: ScaleMetricsExperiment) -> AdditionTask:
    """The problems and their split, drawn from the experiment's seed (the same for every
    trial)."""
    t = cfg.task
    return addition(t.digits, t.problems, cfg.seed, val_fraction=t.val_fraction, reverse=t.reverse)


def dataset(task: AdditionTask, cfg: ScaleMetricsExperiment) -> Dataset:
    """x (N, 3k + 2) with targets y: `IGNORE` (-1) but at the k + 1 answer digits."""
    train, val = task.train, task.val
    return Dataset(data_info(cfg.task), train.x, val.x, val.x, train.y, val.y, val.y)


@dataclass(frozen=True)
class Measurement:
    """Means over the held-out problems; the answer has k + 1 digits."""

    exact_match: float
    """Share of problems whose greedy answer (decoded one token at a time from the prompt
    "a+b=", each digit reading the model's own earlier ones) has every digit right."""
    cross_entropy: float
    """Per-token cross-entropy of the true answer digits, teacher forced (nats)."""
    digit_accuracy: float
    """Share of the greedy answer's digits that are right (same decoding as exact match)."""
    teacher_forced_accuracy: float
    """Share of answer digits whose argmax is right when the true earlier digits are read."""
    edit_distance: float
    """Token edit distance from the greedy answer to the true one, 0 to k + 1."""


@torch.no_grad()
def measure(model: LanguageModel, task: AdditionTask, data: Sequences) -> Measurement:
    """Every metric on `data` (held-out problems) in eval mode, the model's mode restored after;
    draws no random numbers."""
    was_training = model.training
    model.eval()
    x, y = data.x.to(model.device), data.y.to(model.device)  # (N, 3k + 2)
    prompt, columns = task.prompt_len, task.answer_positions
    answer = y[:, columns]  # (N, k + 1) true digits in written order
    greedy = model.generate(x[:, :prompt], task.k + 1, temperature=0.0)[:, prompt:]  # (N, k + 1)
    logits = model.logits(x)[:, columns].float()  # (N, k + 1, V)
    cross_entropy = F.cross_entropy(logits.transpose(1, 2), answer)
    right = greedy == answer  # (N, k + 1)
    model.train(was_training)
    return Measurement(
        exact_match=float(right.all(dim=1).double().mean()),
        cross_entropy=float(cross_entropy),
        digit_accuracy=float(right.double().mean()),
        teacher_forced_accuracy=float((logits.argmax(-1) == answer).double().mean()),
        edit_distance=float(edit_distances(greedy.cpu().numpy(), answer.cpu().numpy()).mean()),
    )
