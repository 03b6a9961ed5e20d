"""Config of a scale-metrics experiment (`kind: scale_metrics`): one k-digit addition split,
transformers of several sizes trained alike on it, each over several seeds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

from emergent.config import (
    SEED_MAX,
    check_keys,
    check_range,
    check_seed,
    coerce,
    from_dict,
    plain,
    run_name,
    section,
)
from emergent.errors import UserError
from generative.data import DataInfo
from generative.models.transformer import Transformer, TransformerConfig
from generative.text.tasks import ADDITION_CHARS, MAX_ADDITION_DIGITS, MAX_TOKENS
from generative.train import FitConfig

TOP_KEYS = ("name", "kind", "seed", "seeds", "threads", "task", "sizes", "train", "eval")
MIN_SIZES = 5
"""The issue asks for models of at least five sizes: fewer cannot tell a jump from a bend."""
MAX_SIZES = 16
MAX_SEEDS = 16
MAX_THREADS = 1_024


@dataclass(frozen=True)
class TaskConfig:
    """The problems: distinct "a+b=" with k-digit operands, one split for every model."""

    digits: int = 3
    """k, digits per operand; the answer has k + 1 digits; 1 to 9."""
    problems: int = 20_000
    """Distinct (a, b) pairs drawn once from the experiment's `seed`; 2 to 10^(2k) (and
    at most 50 million tokens)."""
    val_fraction: float = 0.1
    """Share of the problems held out for measuring; must leave at least one on each side."""
    reverse: bool = True
    """Write the answer units first (Lee et al. 2023, arXiv:2307.03381): the order in which
    the carries are computed, which small transformers learn much faster."""

    def __post_init__(self) -> None:
        check_range("digits", self.digits, 1, MAX_ADDITION_DIGITS)
        check_range("problems", self.problems, 2, 10 ** (2 * self.digits), "distinct pairs")
        check_range("val_fraction", self.val_fraction, 0.0, 1.0, "a share of the problems")
        if self.problems * self.sequence_len > MAX_TOKENS:
            raise ValueError(
                f"problems={self.problems} of {self.sequence_len} tokens; at most "
                f"{MAX_TOKENS:,} tokens in all"
            )
        if not 1 <= self.held_out <= self.problems - 1:
            raise ValueError(
                f"val_fraction={self.val_fraction}; must leave at least one of the "
                f"{self.problems} problems on each side"
            )

    @property
    def sequence_len(self) -> int:
        """Tokens the model reads: "a+b=" and all but the last answer digit, 3k + 2."""
        return 3 * self.digits + 2

    @property
    def held_out(self) -> int:
        return round(self.val_fraction * self.problems)


@dataclass(frozen=True)
class SizeConfig:
    """One model size: a GPT-shaped transformer (`generative.models.transformer`)."""

    n_layer: int = 2
    """Transformer blocks; 1 to 64."""
    n_head: int = 4
    """Attention heads per block; must divide n_embd."""
    n_embd: int = 64
    """Width of the residual stream; 1 to 4,096."""

    def __post_init__(self) -> None:
        check_range("n_layer", self.n_layer, 1, 64)
        check_range("n_embd", self.n_embd, 1, 4_096)
        check_range("n_head", self.n_head, 1, self.n_embd, "at most n_embd")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd}; must be divisible by n_head={self.n_head}")

    @property
    def label(self) -> str:
        """'l2h4d64': the name of its trials' directories."""
        return f"l{self.n_layer}h{self.n_head}d{self.n_embd}"

    def options(self, block_size: int) -> TransformerConfig:
        return TransformerConfig(
            n_layer=self.n_layer, n_head=self.n_head, n_embd=self.n_embd, block_size=block_size
        )


SIZES = (
    SizeConfig(1, 1, 4),
    SizeConfig(1, 1, 6),
    SizeConfig(1, 1, 8),
    SizeConfig(1, 2, 12),
    SizeConfig(1, 2, 16),
    SizeConfig(1, 3, 24),
    SizeConfig(1, 4, 32),
)
"""One layer, widths 4 to 32: about 340 to 13,500 parameters on 3-digit addition."""


@dataclass(frozen=True)
class EvalConfig:
    """What is measured on the held-out problems, during training and at its end."""

    every: int = 200
    """Measure every `every` steps (and at the last); a multiple of train.log_every; 1 to
    10**6."""
    problems: int = 0
    """Held-out problems measured: the first `problems` of them; 0 = all."""

    def __post_init__(self) -> None:
        check_range("every", self.every, 1, 10**6)
        check_range("problems", self.problems, 0, 10**7, "0 = every held-out problem")


@dataclass(frozen=True)
class ScaleMetricsExperiment:
    """Every size trained alike on the same problems, once per seed."""

    name: str
    task: TaskConfig = field(default_factory=TaskConfig)
    sizes: tuple[SizeConfig, ...] = SIZES
    """Model sizes, in increasing order of parameters (`parse` sorts them)."""
    train: FitConfig = field(default_factory=FitConfig)
    """The same budget for every size; its seed is each trial's."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    seeds: int = 3
    """Trials per size, with seeds `seed`, `seed` + 1, ...; 1 to 16. A trial's seed fixes the
    initial weights and the order of the batches."""
    seed: int = 0
    """The first seed; it also draws the problems and their split, the same for every trial."""
    threads: int = 1
    """PyTorch's CPU threads while a trial trains; 0 keeps PyTorch's setting. One by default:
    float sums in another order move a run that is learning the task onto another path (the
    largest size's mean exact match was 0.70 with one thread and 0.91 with two, 2026-12-02),
    and `emergent sweep` gives each trial one core, so the two commands agree."""
    kind: str = "scale_metrics"

    @property
    def trial_seeds(self) -> range:
        return range(self.seed, self.seed + self.seeds)

    @property
    def eval_problems(self) -> int:
        return self.eval.problems or self.task.held_out


def data_info(task: TaskConfig) -> DataInfo:
    """What the model is told about the data: sequences of 3k + 2 tokens over "0-9+="."""
    return DataInfo(
        f"addition_{task.digits}digit", (task.sequence_len,), "tokens", len(ADDITION_CHARS)
    )


def count_parameters(size: SizeConfig, task: TaskConfig) -> int:
    """Parameters of the model of `size` on `task` (built on the meta device: no memory)."""
    with torch.device("meta"):
        model = Transformer(data_info(task), size.options(task.sequence_len))
    return sum(p.numel() for p in model.parameters())


def parse(raw: dict) -> ScaleMetricsExperiment:
    check_keys(raw, TOP_KEYS, "")
    name = run_name(raw)
    task = from_dict(TaskConfig, section(raw.get("task", {}), "task"), "task")
    train = from_dict(FitConfig, section(raw.get("train", {}), "train"), "train")
    evaluation = from_dict(EvalConfig, section(raw.get("eval", {}), "eval"), "eval")
    if evaluation.every % train.log_every:
        raise UserError(
            f"config: eval.every={evaluation.every}; must be a multiple of "
            f"train.log_every={train.log_every} (it is measured at log steps)"
        )
    if evaluation.problems > task.held_out:
        raise UserError(
            f"config: eval.problems={evaluation.problems}; only {task.held_out} problems are "
            "held out (task.problems x task.val_fraction); 0 = all of them"
        )
    seeds = coerce(raw.get("seeds", 3), int, "seeds")
    if not 1 <= seeds <= MAX_SEEDS:
        raise UserError(f"config: seeds={seeds}; give 1 to {MAX_SEEDS} (trials per size)")
    threads = coerce(raw.get("threads", 1), int, "threads")
    if not 0 <= threads <= MAX_THREADS:
        raise UserError(f"config: threads={threads}; give 0 (PyTorch's setting) to {MAX_THREADS}")
    seed = check_seed(raw.get("seed", 0))
    if seed + seeds - 1 > SEED_MAX:
        raise UserError(f"config: seed={seed}; the last of {seeds} seeds passes {SEED_MAX}")
    return ScaleMetricsExperiment(
        name=name,
        task=task,
        sizes=parse_sizes(raw.get("sizes"), task),
        train=train,
        eval=evaluation,
        seeds=seeds,
        seed=seed,
        threads=threads,
    )


def parse_sizes(raw: Any, task: TaskConfig) -> tuple[SizeConfig, ...]:
    """`sizes: [{n_layer, n_head, n_embd}, ...]`, 5 to 16 of them with different parameter
    counts, sorted by parameters."""
    if raw is None:
        raw = [dataclasses.asdict(s) for s in SIZES]
    if not isinstance(raw, list):
        raise UserError(
            f"config: sizes: expected a list of {{n_layer, n_head, n_embd}}, got {raw!r}"
        )
    if not MIN_SIZES <= len(raw) <= MAX_SIZES:
        raise UserError(
            f"config: sizes has {len(raw)} models; give {MIN_SIZES} to {MAX_SIZES} "
            "(e.g. widths 8, 16, 24, 32, 48, 64)"
        )
    sizes = [from_dict(SizeConfig, section(item, f"sizes[{i}]"), f"sizes[{i}]")
             for i, item in enumerate(raw)]  # fmt: skip
    counted = {}
    for size in sizes:
        n = count_parameters(size, task)
        if n in counted:
            raise UserError(
                f"config: sizes: {counted[n].label} and {size.label} both have {n:,} "
                "parameters; give sizes that differ"
            )
        counted[n] = size
    return tuple(counted[n] for n in sorted(counted))


def to_dict(cfg: ScaleMetricsExperiment) -> dict:
    return {
        "name": cfg.name,
        "kind": cfg.kind,
        "seed": cfg.seed,
        "seeds": cfg.seeds,
        "threads": cfg.threads,
        "task": plain(dataclasses.asdict(cfg.task)),
        "sizes": [plain(dataclasses.asdict(s)) for s in cfg.sizes],
        "train": plain(dataclasses.asdict(cfg.train)),
        "eval": plain(dataclasses.asdict(cfg.eval)),
    }
