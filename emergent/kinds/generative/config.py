"""Config of one generative model on one dataset (`kind: generative`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from emergent.config import check_keys, check_seed, from_dict, plain, run_name, section
from emergent.modelspec import (
    DataSpec,
    EvalConfig,
    ModelSpec,
    model_to_dict,
    parse_data,
    parse_model,
)
from generative.train import FitConfig

TOP_KEYS = ("name", "kind", "seed", "model", "data", "train", "eval")


@dataclass(frozen=True)
class GenerativeExperiment:
    """One model (`model.name` plus its options) trained on one dataset, then measured."""

    name: str
    model: ModelSpec
    data: DataSpec
    train: FitConfig = field(default_factory=FitConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0
    kind: str = "generative"


def parse(raw: dict) -> GenerativeExperiment:
    check_keys(raw, TOP_KEYS, "")
    return GenerativeExperiment(
        name=run_name(raw),
        seed=check_seed(raw.get("seed", 0)),
        model=parse_model(raw.get("model"), "model"),
        data=parse_data(raw.get("data")),
        train=from_dict(FitConfig, section(raw.get("train", {}), "train"), "train"),
        eval=from_dict(EvalConfig, section(raw.get("eval", {}), "eval"), "eval"),
    )


def to_dict(cfg: GenerativeExperiment) -> dict:
    return {
        "name": cfg.name,
        "kind": cfg.kind,
        "seed": cfg.seed,
        "model": model_to_dict(cfg.model),
        "data": {"name": cfg.data.name, **plain(cfg.data.options)},
        "train": plain(dataclasses.asdict(cfg.train)),
        "eval": plain(dataclasses.asdict(cfg.eval)),
    }
