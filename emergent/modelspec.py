"""Config pieces the generative kinds share: a registered model, a dataset, how to measure.

Each kind's own config (`emergent.kinds.<kind>.config`) is built from these.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emergent.config import check_range, coerce, from_dict, plain, section
from emergent.errors import UserError
from generative import registry


@dataclass(frozen=True)
class EvalConfig:
    """How a trained generative model is measured."""

    samples: int = 2000
    """Samples drawn for the sample-based metrics (Fréchet distance, precision/recall, modes)."""
    iwae_k: int = 1000
    """Importance samples of the IWAE bound for latent-variable models."""

    def __post_init__(self) -> None:
        check_range("samples", self.samples, 10, 1_000_000, "samples drawn and measured")
        check_range("iwae_k", self.iwae_k, 1, 100_000, "importance samples per test point")


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


def parse_model(raw: Any, path: str) -> ModelSpec:
    raw = dict(section(raw, path))
    name = raw.pop("model", None) if path.startswith("models.") else raw.pop("name", None)
    key = f"{path}.model" if path.startswith("models.") else f"{path}.name"
    known = ", ".join(sorted(registry.FAMILIES))
    if name is None:
        raise UserError(f"config: missing key {key!r}; known models: {known}")
    name = coerce(name, str, key)
    if name not in registry.FAMILIES:
        raise UserError(f"{key}: unknown model {name!r}; known: {known}")
    return ModelSpec(name, from_dict(registry.FAMILIES[name].config, raw, path))


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


def model_to_dict(spec: ModelSpec, name_key: str = "name") -> dict:
    """A model spec as config data: its name under `name_key`, then its options."""
    return {name_key: spec.name, **plain(dataclasses.asdict(spec.options))}
