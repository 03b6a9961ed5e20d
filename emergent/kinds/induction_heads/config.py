"""Config of an induction-head experiment (`kind: induction_heads`): a task of repeated random
tokens, an attention-only transformer and its one-layer control, and how often they are
measured."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from emergent.config import check_keys, check_range, check_seed, from_dict, plain, run_name
from emergent.errors import UserError
from generative.train import FitConfig

TOP_KEYS = ("name", "kind", "seed", "task", "model", "train", "eval")
MAX_TOKENS = 20_000_000
"""Most tokens in the training set (160 MB as int64)."""
MAX_NGRAM_VOCAB = 1_024
"""Largest vocabulary with n-gram statistics (two (vocab, vocab) tables, 8 MB each)."""


@dataclass(frozen=True)
class TaskConfig:
    """The sequences: random tokens in which a segment is repeated."""

    vocab: int = 64
    """Token values 0..vocab-1; 2 to 65,536."""
    half_len: int = 32
    """Sequences have 2 half_len tokens; the held-out ones repeat their first half; 2 to
    1,024."""
    train_sequences: int = 20_000
    """Fixed training sequences, drawn once from the seed; 1 to 10**7 (and at most
    `MAX_TOKENS` tokens)."""
    min_repeat: int = 2
    """Shortest repeated segment, and shortest distance from a segment to its copy, in the
    training sequences (see `measure.training_sequences`: the distance is uniform over the
    whole context, so no fixed offset predicts the copy); 2 to half_len."""

    ngram_scale: float = 1.0
    """Std of the random second-order statistics of the training tokens (see
    `measure.ngram_tokens`): each token's logits are A[previous] + B[the one before]; they
    give a previous-token head a use of its own, as text does; 0 = uniform random tokens;
    0 to 10 (above 0, vocab at most `MAX_NGRAM_VOCAB`). The held-out sequences are always
    uniform random tokens."""

    def __post_init__(self) -> None:
        check_range("vocab", self.vocab, 2, 65_536)
        check_range("ngram_scale", self.ngram_scale, 0, 10)
        check_range("half_len", self.half_len, 2, 1_024)
        check_range("train_sequences", self.train_sequences, 1, 10**7)
        check_range("min_repeat", self.min_repeat, 2, self.half_len)
        if self.ngram_scale > 0 and self.vocab > MAX_NGRAM_VOCAB:
            raise ValueError(
                f"vocab={self.vocab} with ngram_scale={self.ngram_scale:g}; n-gram statistics "
                f"take at most {MAX_NGRAM_VOCAB:,} tokens (or set ngram_scale: 0)"
            )
        if self.train_sequences * 2 * self.half_len > MAX_TOKENS:
            raise ValueError(
                f"train_sequences={self.train_sequences} of {2 * self.half_len} tokens; at most "
                f"{MAX_TOKENS:,} tokens in all"
            )


@dataclass(frozen=True)
class ModelConfig:
    """The attention-only transformer (no MLP) and its control, alike but for the depth."""

    n_layer: int = 2
    """Layers of the model; 2 to 8."""
    control_layers: int = 1
    """Layers of the control; 1 to 8 (one layer cannot compose heads into an induction
    head)."""
    n_head: int = 4
    """Heads per layer; 1 to 64, dividing n_embd."""
    n_embd: int = 64
    """Width of the residual stream; 1 to 1,024."""
    bias: bool = False

    def __post_init__(self) -> None:
        check_range("n_layer", self.n_layer, 2, 8)
        check_range("control_layers", self.control_layers, 1, 8)
        check_range("n_head", self.n_head, 1, 64)
        check_range("n_embd", self.n_embd, 1, 1_024)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd}; must be divisible by n_head={self.n_head}")


@dataclass(frozen=True)
class EvalConfig:
    """What is measured during training, on held-out repeated sequences."""

    every: int = 50
    """Measure every `every` steps (and at the last); a multiple of train.log_every; 1 to
    10**6."""
    sequences: int = 256
    """Held-out sequences (first half random, second half its copy); 1 to 100,000."""

    def __post_init__(self) -> None:
        check_range("every", self.every, 1, 10**6)
        check_range("sequences", self.sequences, 1, 100_000)


@dataclass(frozen=True)
class InductionExperiment:
    """The model and its control trained alike on the same sequences and measured alike."""

    name: str
    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: FitConfig = field(default_factory=FitConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0
    kind: str = "induction_heads"

    @property
    def depths(self) -> dict[str, int]:
        """Trial label -> layers: the model, then the control."""
        return {"model": self.model.n_layer, "control": self.model.control_layers}


def parse(raw: dict) -> InductionExperiment:
    check_keys(raw, TOP_KEYS, "")
    name = run_name(raw)
    seed = check_seed(raw.get("seed", 0))
    task = from_dict(TaskConfig, raw.get("task", {}), "task")
    model = from_dict(ModelConfig, raw.get("model", {}), "model")
    train = from_dict(FitConfig, raw.get("train", {}), "train")
    evaluation = from_dict(EvalConfig, raw.get("eval", {}), "eval")
    if evaluation.every % train.log_every:
        raise UserError(
            f"config: eval.every={evaluation.every}; must be a multiple of "
            f"train.log_every={train.log_every} (it is measured at log steps)"
        )
    return InductionExperiment(
        name=name, task=task, model=model, train=train, eval=evaluation, seed=seed
    )


def to_dict(cfg: InductionExperiment) -> dict:
    return {
        "name": cfg.name,
        "kind": cfg.kind,
        "seed": cfg.seed,
        "task": plain(dataclasses.asdict(cfg.task)),
        "model": plain(dataclasses.asdict(cfg.model)),
        "train": plain(dataclasses.asdict(cfg.train)),
        "eval": plain(dataclasses.asdict(cfg.eval)),
    }
