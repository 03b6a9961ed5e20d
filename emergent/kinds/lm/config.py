"""Config of a language-model ladder (`kind: lm`): several text models, one corpus, one
tokenizer, one context window, each model trained and measured on the same split."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from emergent.config import (
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
from generative import registry
from generative.train import FitConfig

TOP_KEYS = (
    "name",
    "kind",
    "seed",
    "corpus",
    "tokenizer",
    "block_size",
    "models",
    "train",
    "eval",
)
CORPORA = ("shakespeare",)
"""Corpora by name: `generative.text.shakespeare` (fetched once by `make setup`)."""
TOKENIZERS = ("char", "bpe")
MAX_BLOCK_SIZE = 8_192
"""Longest context window (the transformer's bound)."""
MAX_MODELS = 32
LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class CorpusConfig:
    """Which text, and how much of it."""

    name: str = "shakespeare"
    """One of `CORPORA`."""
    max_chars: int = 0
    """Only the first max_chars characters of the training and of the validation text
    (0 = all of both): for tests and quick looks; 0 to 10**9."""

    def __post_init__(self) -> None:
        if self.name not in CORPORA:
            raise ValueError(f"name={self.name!r}; allowed: {', '.join(CORPORA)}")
        check_range("max_chars", self.max_chars, 0, 10**9, "0 = the whole corpus")


@dataclass(frozen=True)
class TokenizerConfig:
    """How text becomes tokens: built from the corpus when the run starts, saved with it."""

    kind: str = "char"
    """'char' (one token per character of the corpus's alphabet) or 'bpe' (byte-level BPE
    trained on the training text with the `tokenizers` library)."""
    vocab_size: int = 1024
    """BPE's vocabulary, the 256 bytes and the end token included; 257 to 65,536 (unused by
    'char')."""

    def __post_init__(self) -> None:
        if self.kind not in TOKENIZERS:
            raise ValueError(f"kind={self.kind!r}; allowed: {', '.join(TOKENIZERS)}")
        check_range("vocab_size", self.vocab_size, 257, 65_536, "256 bytes and the end token")


@dataclass(frozen=True)
class LMEvalConfig:
    """What is measured besides the exact validation loss, and how samples are drawn."""

    val_windows: int = 256
    """Validation windows (evenly spaced, the same at every step) whose mean loss is logged
    with each training row, for the curves; 0 = none; at most 100,000. The final number is
    always the exact loss over the whole validation text."""
    samples: int = 1
    """Samples drawn from each model after training; 0 to 100."""
    sample_chars: int = 500
    """Characters per sample; 1 to 100,000."""
    temperature: float = 0.8
    """Sampling temperature (nanoGPT's `sample.py` uses 0.8); 0 = greedy; at most 10."""
    top_k: int = 0
    """Sample from the k most likely tokens (nanoGPT's `sample.py`: 200); 0 = all; at most
    1,048,576 (a k above the vocabulary keeps every token)."""
    prompt: str = "\n"
    """The text every sample continues (at least one character, at most 10,000)."""

    def __post_init__(self) -> None:
        check_range("val_windows", self.val_windows, 0, 100_000)
        check_range("samples", self.samples, 0, 100)
        check_range("sample_chars", self.sample_chars, 1, 100_000)
        check_range("temperature", self.temperature, 0.0, 10.0, "0 = greedy")
        check_range("top_k", self.top_k, 0, 2**20, "0 = every token")
        if not 1 <= len(self.prompt) <= 10_000:
            raise ValueError(
                f"prompt of {len(self.prompt):,} characters; give 1 to 10,000 (e.g. '\\n')"
            )


@dataclass(frozen=True)
class LMEntry:
    """One rung of the ladder: a label (its folder `models/<label>/`), a registered language
    model with its options, and the training settings it changes."""

    label: str
    model: ModelSpec
    train: tuple[tuple[str, Any], ...] = ()
    """(key, value) pairs over the shared `train` section."""

    def budget(self, shared: FitConfig, seed: int) -> FitConfig:
        """The shared settings with this entry's changes and the experiment's seed."""
        return FitConfig(**{**shared.__dict__, **dict(self.train), "seed": seed})


@dataclass(frozen=True)
class LMExperiment:
    """Every model of `models` trained on the same tokens of `corpus` and measured alike."""

    name: str
    models: tuple[LMEntry, ...]
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    block_size: int = 64
    """The context window: training batches are random windows of block_size + 1 tokens, and
    the validation text is scored in consecutive windows of as many."""
    train: FitConfig = field(default_factory=FitConfig)
    """The training settings every gradient-trained model shares (the fit's seed is the
    experiment's `seed`); closed-form models (counts) ignore them."""
    eval: LMEvalConfig = field(default_factory=LMEvalConfig)
    seed: int = 0
    kind: str = "lm"


def parse(raw: dict) -> LMExperiment:
    check_keys(raw, TOP_KEYS, "")
    name = run_name(raw)
    seed = check_seed(raw.get("seed", 0))
    block_size = coerce(raw.get("block_size", 64), int, "block_size")
    try:
        check_range("block_size", block_size, 1, MAX_BLOCK_SIZE, "tokens of context")
    except ValueError as err:
        raise UserError(f"config: {err}") from None
    train = from_dict(FitConfig, section(raw.get("train", {}), "train"), "train")
    corpus = from_dict(CorpusConfig, section(raw.get("corpus", {}), "corpus"), "corpus")
    tokenizer = from_dict(
        TokenizerConfig, section(raw.get("tokenizer", {}), "tokenizer"), "tokenizer"
    )
    evaluation = from_dict(LMEvalConfig, section(raw.get("eval", {}), "eval"), "eval")
    models = section(raw.get("models"), "models")
    if not 1 <= len(models) <= MAX_MODELS:
        raise UserError(
            f"config: models has {len(models)} entries; give 1 to {MAX_MODELS} "
            "(label: {model: <family>, ...options})"
        )
    entries = tuple(parse_entry(label, spec, block_size, train) for label, spec in models.items())
    return LMExperiment(
        name=name,
        seed=seed,
        models=entries,
        corpus=corpus,
        tokenizer=tokenizer,
        block_size=block_size,
        train=train,
        eval=evaluation,
    )


def language_models() -> list[str]:
    """The registered families that model token streams."""
    return [name for name, family in registry.FAMILIES.items() if "tokens" in family.data_kinds]


def parse_entry(label: Any, spec: Any, block_size: int, shared: FitConfig) -> LMEntry:
    """One `models.<label>` entry: the family, its options, its `train` changes."""
    label = str(label)
    if not LABEL.fullmatch(label):
        raise UserError(
            f"config: models.{label}: a label is a folder name of 1 to 64 letters, digits, "
            "'_', '-' or '.', not starting with '.' or '-'"
        )
    path = f"models.{label}"
    spec = dict(section(spec, path))
    changes = section(spec.pop("train", {}), f"{path}.train")
    family = spec.get("model")
    has_context = False  # a family with a bounded context window (the transformer's)
    if isinstance(family, str) and family in registry.FAMILIES:
        if "tokens" not in registry.FAMILIES[family].data_kinds:
            raise UserError(
                f"{path}.model: {family!r} does not model text; language models: "
                f"{', '.join(language_models())}"
            )
        fields = {f.name for f in dataclasses.fields(registry.FAMILIES[family].config)}
        has_context = "block_size" in fields
        if has_context and "block_size" not in spec:
            spec["block_size"] = block_size  # the model's context: the experiment's window
    model = parse_model(spec, path)
    if has_context and model.options.block_size < block_size:
        raise UserError(
            f"config: {path}.block_size={model.options.block_size}; must be at least the "
            f"experiment's block_size={block_size} (the windows it is trained and scored on)"
        )
    check_keys(changes, [f.name for f in dataclasses.fields(FitConfig)], f"{path}.train")
    budget = from_dict(FitConfig, {**dataclasses.asdict(shared), **changes}, f"{path}.train")
    return LMEntry(label, model, tuple((key, getattr(budget, key)) for key in changes))


def to_dict(cfg: LMExperiment) -> dict:
    models = {}
    for entry in cfg.models:
        spec = model_to_dict(entry.model, "model")
        if entry.train:
            spec["train"] = dict(entry.train)
        models[entry.label] = spec
    return {
        "name": cfg.name,
        "kind": cfg.kind,
        "seed": cfg.seed,
        "corpus": plain(dataclasses.asdict(cfg.corpus)),
        "tokenizer": plain(dataclasses.asdict(cfg.tokenizer)),
        "block_size": cfg.block_size,
        "models": models,
        "train": plain(dataclasses.asdict(cfg.train)),
        "eval": plain(dataclasses.asdict(cfg.eval)),
    }
