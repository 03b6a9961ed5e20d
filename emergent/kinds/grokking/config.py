"""Config of a grokking experiment (`kind: grokking`): (a + b) mod p learnt by one small model,
full batch, with AdamW at several weight decays, each over several seeds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

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
from emergent.modelspec import ModelSpec, model_to_dict, parse_model
from generative.config_checks import MAX_BATCH, MAX_STEPS
from generative.text.tasks import MAX_MODULUS

TOP_KEYS = ("name", "kind", "seed", "seeds", "task", "model", "train", "weight_decays")
MODELS = ("mlp", "transformer")
"""Registered language models that read [a, b, =]: Bengio's MLP (context >= 3) and the
transformer (block_size >= 3)."""
SEQUENCE = 3
"""Tokens of one problem: a, b and '='."""
MAX_WEIGHT_DECAYS = 16
MAX_SEEDS = 64
MAX_THREADS = 1_024


@dataclass(frozen=True)
class TaskConfig:
    """The problems: every pair (a, b) of residues mod p, a fraction of them for training."""

    p: int = 53
    """The modulus; 2 to 2,000 (Power et al. 2022 use 97, Nanda et al. 2023 use 113)."""
    train_fraction: float = 0.6
    """Share of the p^2 pairs in the training set (the split is drawn from each trial's seed);
    must leave at least one pair on each side."""

    def __post_init__(self) -> None:
        check_range("p", self.p, 2, MAX_MODULUS, "the modulus")
        check_range("train_fraction", self.train_fraction, 0.0, 1.0, "a share of the pairs")
        n_train = round(self.train_fraction * self.p**2)
        if not 1 <= n_train <= self.p**2 - 1:
            raise ValueError(
                f"train_fraction={self.train_fraction}; must leave at least one of the "
                f"{self.p**2} pairs on each side"
            )
        if n_train > MAX_BATCH:
            raise ValueError(
                f"p={self.p}, train_fraction={self.train_fraction}; {n_train:,} training pairs, "
                f"at most {MAX_BATCH:,} (one full batch)"
            )


@dataclass(frozen=True)
class GrokTrainConfig:
    """Full-batch AdamW: every step is one epoch over all training pairs."""

    epochs: int = 10_000
    """Full-batch steps; 1 to 10**9."""
    lr: float = 3e-2
    """AdamW's learning rate; > 0 and at most 10."""
    beta2: float = 0.999
    """AdamW's second-moment decay, in [0, 1) (Nanda et al. 2023 use 0.98)."""
    grad_clip: float = 0.0
    """Max global gradient norm; 0 (the default) turns clipping off."""
    eval_every: int = 10
    """Epochs between measurements of train and validation accuracy and the weight norm;
    1 to 10**9. The memorisation and generalisation epochs are known to this resolution."""
    checkpoint_every: int = 1_000
    """Epochs between checkpoints of each trial (and at its end); 1 to 10**9."""
    device: str = "auto"
    """'auto', 'cpu' or 'cuda'."""
    threads: int = 0
    """CPU threads of PyTorch while a trial trains; 0 (the default) keeps PyTorch's setting (one
    per core, or OMP_NUM_THREADS), 1 to 1,024 sets it for the trial. One full-batch epoch of
    the issue's MLP took 5.4 ms with one thread and 57 to 200 ms with two on a 2-core machine
    shared with other jobs (2026-12-02): its matrices are too small to share out."""

    def __post_init__(self) -> None:
        check_range("epochs", self.epochs, 1, MAX_STEPS, "full-batch steps")
        check_range("lr", self.lr, 1e-12, 10.0, "AdamW's learning rate")
        check_range("beta2", self.beta2, 0.0, 0.999999, "AdamW's second-moment decay")
        check_range("grad_clip", self.grad_clip, 0.0, 1e6, "0 = no clipping")
        check_range("eval_every", self.eval_every, 1, MAX_STEPS, "epochs")
        check_range("checkpoint_every", self.checkpoint_every, 1, MAX_STEPS, "epochs")
        check_range("threads", self.threads, 0, MAX_THREADS, "0 = PyTorch's setting")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device={self.device!r}; allowed: 'auto', 'cpu', 'cuda'")


@dataclass(frozen=True)
class GrokkingExperiment:
    """One model on (a + b) mod p, trained once per (weight decay, seed)."""

    name: str
    model: ModelSpec
    task: TaskConfig = field(default_factory=TaskConfig)
    train: GrokTrainConfig = field(default_factory=GrokTrainConfig)
    weight_decays: tuple[float, ...] = (0.03, 5.0)
    """AdamW's decoupled weight decay of each arm; the largest is the control when there are
    several."""
    seeds: int = 3
    """Trials per weight decay, with seeds `seed`, `seed` + 1, ...; 1 to 64. Each seed fixes
    the split of the pairs and the initial weights."""
    seed: int = 0
    """The first seed."""
    kind: str = "grokking"

    @property
    def trial_seeds(self) -> range:
        return range(self.seed, self.seed + self.seeds)


def parse(raw: dict) -> GrokkingExperiment:
    check_keys(raw, TOP_KEYS, "")
    name = run_name(raw)
    task = from_dict(TaskConfig, section(raw.get("task", {}), "task"), "task")
    train = from_dict(GrokTrainConfig, section(raw.get("train", {}), "train"), "train")
    weight_decays = coerce(
        raw.get("weight_decays", [0.03, 5.0]), tuple[float, ...], "weight_decays"
    )
    if not 1 <= len(weight_decays) <= MAX_WEIGHT_DECAYS or len(set(weight_decays)) != len(
        weight_decays
    ):
        raise UserError(
            f"config: weight_decays={list(weight_decays)}; give 1 to {MAX_WEIGHT_DECAYS} "
            "different values (e.g. [0.03, 5.0])"
        )
    for value in weight_decays:
        if not 0 <= value <= 1e4:
            raise UserError(f"config: weight_decays: {value}; each must be from 0 to 10,000")
    seeds = coerce(raw.get("seeds", 3), int, "seeds")
    if not 1 <= seeds <= MAX_SEEDS:
        raise UserError(f"config: seeds={seeds}; give 1 to {MAX_SEEDS} (trials per weight decay)")
    seed = check_seed(raw.get("seed", 0))
    if seed + seeds - 1 > SEED_MAX:
        raise UserError(f"config: seed={seed}; the last of {seeds} seeds passes {SEED_MAX}")
    return GrokkingExperiment(
        name=name,
        model=parse_grok_model(raw.get("model")),
        task=task,
        train=train,
        weight_decays=tuple(sorted(weight_decays)),
        seeds=seeds,
        seed=seed,
    )


def parse_grok_model(raw: Any) -> ModelSpec:
    """`model: {name: mlp | transformer, ...options}`; it must read all three tokens."""
    raw = dict(section(raw, "model")) if raw is not None else {"name": "mlp", "context": 3}
    name = raw.get("name")
    if name is not None and name not in MODELS:
        raise UserError(f"model.name: {name!r}; allowed: {', '.join(MODELS)}")
    if name == "mlp":
        raw.setdefault("context", SEQUENCE)
    if name == "transformer":
        raw.setdefault("block_size", SEQUENCE)
    spec = parse_model(raw, "model")
    reach = spec.options.context if spec.name == "mlp" else spec.options.block_size
    key = "context" if spec.name == "mlp" else "block_size"
    if reach < SEQUENCE:
        raise UserError(
            f"config: model.{key}={reach}; must be at least {SEQUENCE} to read a, b and '='"
        )
    return spec


def to_dict(cfg: GrokkingExperiment) -> dict:
    return {
        "name": cfg.name,
        "kind": cfg.kind,
        "task": plain(dataclasses.asdict(cfg.task)),
        "model": model_to_dict(cfg.model),
        "train": plain(dataclasses.asdict(cfg.train)),
        "weight_decays": list(cfg.weight_decays),
        "seed": cfg.seed,
        "seeds": cfg.seeds,
    }
