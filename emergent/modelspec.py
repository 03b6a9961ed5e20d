"""Configs of the generative experiments: one model, the zoo, and the pair's learning curves.

```
kind: generative    one model on one dataset: model, data, train (FitConfig), eval
kind: gen_zoo       every listed model on every listed dataset, several seeds, one budget
kind: pair_curves   Naive Bayes against logistic regression: test error against train size
kind: diffusion     pixel and latent diffusion on digits, DDPM on the toys (`diffusion_config`)
```
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emergent.config import check_keys, coerce, from_dict, plain, section
from emergent.errors import UserError
from generative import registry
from generative.train import FitConfig


@dataclass(frozen=True)
class EvalConfig:
    """How a trained generative model is measured."""

    samples: int = 2000
    """Samples drawn for the sample-based metrics (Fréchet distance, precision/recall, modes)."""
    iwae_k: int = 1000
    """Importance samples of the IWAE bound for latent-variable models."""

    def __post_init__(self) -> None:
        if self.samples < 10:
            raise ValueError(f"samples={self.samples}; need at least 10")
        if self.iwae_k < 1:
            raise ValueError(f"iwae_k={self.iwae_k}; must be at least 1")


@dataclass(frozen=True)
class ModelSpec:
    """A registered model and its typed options."""

    name: str
    options: Any


@dataclass(frozen=True)
class DataSpec:
    """A dataset of `generative.data` and the options of its loader."""

    name: str
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GenerativeExperiment:
    name: str
    model: ModelSpec
    data: DataSpec
    train: FitConfig = field(default_factory=FitConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0
    kind: str = "generative"


@dataclass(frozen=True)
class ZooEntry:
    """One row family of the zoo: a model, its options, and its learning rate."""

    label: str
    model: ModelSpec
    lr: float | None = None


@dataclass(frozen=True)
class ZooExperiment:
    """Every model on every dataset with the same budget, over several seeds."""

    name: str
    datasets: tuple[str, ...]
    models: tuple[ZooEntry, ...]
    train: FitConfig = field(default_factory=FitConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seeds: int = 3
    seed: int = 0
    code_sizes: tuple[int, ...] = (2, 8, 16, 32)
    """Code sizes of the autoencoder-against-PCA reconstruction table (digits)."""
    kind: str = "gen_zoo"


@dataclass(frozen=True)
class PairExperiment:
    """Ng & Jordan (2002): Naive Bayes against logistic regression as the train set grows."""

    name: str
    datasets: tuple[str, ...] = ("breast_cancer", "wine", "digits_tabular", "digits_binary")
    sizes: tuple[int, ...] = ()
    """Training-set sizes m; empty = about 10 sizes log-spaced from 2 per class to the full set."""
    seeds: int = 10
    C: float = 1.0
    """Inverse L2 strength of logistic regression (scikit-learn's convention)."""
    seed: int = 0
    kind: str = "pair_curves"

    def __post_init__(self) -> None:
        if self.seeds < 2:
            raise ValueError(f"seeds={self.seeds}; need at least 2 for confidence bands")
        if any(m < 2 for m in self.sizes):
            raise ValueError(f"sizes={list(self.sizes)}; every size must be at least 2")
        if not self.C > 0:
            raise ValueError(f"C={self.C}; must be positive")


GEN_KEYS = ("name", "kind", "seed", "model", "data", "train", "eval")
ZOO_KEYS = ("name", "kind", "seed", "seeds", "datasets", "models", "train", "eval", "code_sizes")


def parse(raw: dict) -> Any:
    kind = raw.get("kind")
    if "name" not in raw:
        raise UserError("config: missing key 'name' (the experiment's name, used for runs/<name>/)")
    name = coerce(raw["name"], str, "name")
    seed = coerce(raw.get("seed", 0), int, "seed")
    if kind == "diffusion":
        from emergent import diffusion_config

        return diffusion_config.parse(raw)
    if kind == "generative":
        check_keys(raw, GEN_KEYS, "")
        return GenerativeExperiment(
            name=name,
            seed=seed,
            model=parse_model(raw.get("model"), "model"),
            data=parse_data(raw.get("data")),
            train=from_dict(FitConfig, section(raw.get("train", {}), "train"), "train"),
            eval=from_dict(EvalConfig, section(raw.get("eval", {}), "eval"), "eval"),
        )
    if kind == "gen_zoo":
        check_keys(raw, ZOO_KEYS, "")
        datasets = coerce(raw.get("datasets", []), tuple[str, ...], "datasets")
        for data in datasets:
            check_dataset(data, "datasets")
        models = section(raw.get("models"), "models")
        if not datasets or not models:
            raise UserError("config: a zoo needs non-empty 'datasets' and 'models'")
        entries = []
        for label, spec in models.items():
            spec = dict(section(spec, f"models.{label}"))
            lr = coerce(spec.pop("lr"), float, f"models.{label}.lr") if "lr" in spec else None
            entries.append(ZooEntry(str(label), parse_model(spec, f"models.{label}"), lr))
        try:
            return ZooExperiment(
                name=name,
                seed=seed,
                datasets=datasets,
                models=tuple(entries),
                seeds=coerce(raw.get("seeds", 3), int, "seeds"),
                code_sizes=coerce(
                    raw.get("code_sizes", (2, 8, 16, 32)), tuple[int, ...], "code_sizes"
                ),
                train=from_dict(FitConfig, section(raw.get("train", {}), "train"), "train"),
                eval=from_dict(EvalConfig, section(raw.get("eval", {}), "eval"), "eval"),
            )
        except ValueError as err:
            raise UserError(f"config: {err}") from None
    raw = {k: v for k, v in raw.items() if k != "kind"}
    for data in raw.get("datasets", []) or []:
        check_dataset(data, "datasets")
    return from_dict(PairExperiment, raw, "pair_curves")


def parse_model(raw: Any, path: str) -> ModelSpec:
    raw = dict(section(raw, path))
    name = raw.pop("model", None) if path.startswith("models.") else raw.pop("name", None)
    key = f"{path}.model" if path.startswith("models.") else f"{path}.name"
    if name is None:
        raise UserError(
            f"config: missing key {key!r}; known models: {', '.join(sorted(registry.MODELS))}"
        )
    name = coerce(name, str, key)
    if name not in registry.MODELS:
        raise UserError(
            f"{key}: unknown model {name!r}; known: {', '.join(sorted(registry.MODELS))}"
        )
    config_cls = registry.MODELS[name][0]
    return ModelSpec(name, from_dict(config_cls, raw, path))


def parse_data(raw: Any) -> DataSpec:
    raw = dict(section(raw, "data"))
    name = raw.pop("name", None)
    if name is None:
        raise UserError(
            f"config: missing key 'data.name'; known: {', '.join(registry.dataset_names())}"
        )
    check_dataset(coerce(name, str, "data.name"), "data.name")
    return DataSpec(name, raw)


def check_dataset(name: str, key: str) -> None:
    if name not in registry.dataset_names():
        raise UserError(
            f"{key}: unknown dataset {name!r}; known: {', '.join(registry.dataset_names())}"
        )


def to_dict(cfg: Any) -> dict:
    from emergent import diffusion_config

    if isinstance(cfg, diffusion_config.DiffusionExperiment):
        return diffusion_config.to_dict(cfg)
    if isinstance(cfg, GenerativeExperiment):
        return {
            "name": cfg.name,
            "kind": cfg.kind,
            "seed": cfg.seed,
            "model": {"name": cfg.model.name, **plain(dataclasses.asdict(cfg.model.options))},
            "data": {"name": cfg.data.name, **plain(cfg.data.options)},
            "train": plain(dataclasses.asdict(cfg.train)),
            "eval": plain(dataclasses.asdict(cfg.eval)),
        }
    if isinstance(cfg, ZooExperiment):
        models = {}
        for entry in cfg.models:
            spec = {"model": entry.model.name, **plain(dataclasses.asdict(entry.model.options))}
            models[entry.label] = {**spec, **({"lr": entry.lr} if entry.lr is not None else {})}
        return {
            "name": cfg.name,
            "kind": cfg.kind,
            "seed": cfg.seed,
            "seeds": cfg.seeds,
            "datasets": list(cfg.datasets),
            "code_sizes": list(cfg.code_sizes),
            "models": models,
            "train": plain(dataclasses.asdict(cfg.train)),
            "eval": plain(dataclasses.asdict(cfg.eval)),
        }
    return {"kind": cfg.kind, **plain(dataclasses.asdict(cfg))}
