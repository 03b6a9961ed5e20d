"""Config of the model zoo (`kind: gen_zoo`): every listed model on every listed dataset, over
several seeds, with one budget."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

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
from emergent.modelspec import EvalConfig, ModelSpec, check_dataset, model_to_dict, parse_model
from generative.train import FitConfig

TOP_KEYS = ("name", "kind", "seed", "seeds", "datasets", "models", "train", "eval", "code_sizes")


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

    def __post_init__(self) -> None:
        check_range("seeds", self.seeds, 1, 1_000, "every model is trained once per seed")
        if any(not 1 <= k <= 64 for k in self.code_sizes) or len(self.code_sizes) > 64:
            raise ValueError(
                f"code_sizes={list(self.code_sizes)}; at most 64 sizes, each from 1 to 64 "
                "(a digit has 64 pixels)"
            )


def parse(raw: dict) -> ZooExperiment:
    check_keys(raw, TOP_KEYS, "")
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
            name=run_name(raw),
            seed=check_seed(raw.get("seed", 0)),
            datasets=datasets,
            models=tuple(entries),
            seeds=coerce(raw.get("seeds", 3), int, "seeds"),
            code_sizes=coerce(raw.get("code_sizes", (2, 8, 16, 32)), tuple[int, ...], "code_sizes"),
            train=from_dict(FitConfig, section(raw.get("train", {}), "train"), "train"),
            eval=from_dict(EvalConfig, section(raw.get("eval", {}), "eval"), "eval"),
        )
    except ValueError as err:
        raise UserError(f"config: {err}") from None


def to_dict(cfg: ZooExperiment) -> dict:
    models = {}
    for entry in cfg.models:
        spec = model_to_dict(entry.model, "model")
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
