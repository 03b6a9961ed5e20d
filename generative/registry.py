"""Every generative family and dataset by name: plain dicts, merged from their modules.

`FAMILIES` maps a name to its `Family` (config and model classes, the data kinds it models, how
it is fitted, what its `log_prob` returns, its group); `make` builds one for a dataset.
"""

from __future__ import annotations

from typing import Any

from generative import data as data_mod
from generative.base import GenerativeModel
from generative.data import DataInfo, Dataset
from generative.family import Family
from generative.models import (
    autoencoder,
    diffusion,
    ebm,
    flows,
    gan,
    naive_bayes,
    text_baselines,
    transformer,
    vae,
)
from generative.models import logistic as logistic_mod

FAMILIES: dict[str, Family] = {
    **naive_bayes.FAMILIES,
    **autoencoder.FAMILIES,
    **vae.FAMILIES,
    **gan.FAMILIES,
    **flows.FAMILIES,
    **ebm.FAMILIES,
    **diffusion.FAMILIES,
    **transformer.FAMILIES,
    **text_baselines.FAMILIES,
}

CLASSIFIERS: dict[str, tuple[type, type]] = {**logistic_mod.MODELS}
"""Discriminative partners of the generative models (the pair experiment)."""

DATA_KINDS: dict[str, str] = {
    "moons": "continuous",
    "ring8": "continuous",
    "grid25": "continuous",
    "swissroll": "continuous",
    "checkerboard": "continuous",
    "digits": "categorical",
    "digits_continuous": "dequantized",
    "breast_cancer": "continuous",
    "wine": "continuous",
    "iris": "continuous",
    "digits_tabular": "categorical",
    "digits_binary": "binary",
}
"""The kind of each dataset, known without loading it. A family whose data kinds no dataset here
has (the language model's "tokens") gets no view from `view_for`, so the zoo skips it."""

VIEWS: dict[str, tuple[str, ...]] = {"digits": ("digits", "digits_continuous")}
"""Datasets with several views, in order of preference; a family takes the first it models."""


def dataset_names() -> list[str]:
    return sorted(data_mod.LOADERS)


def load_data(name: str, seed: int = 0, **options: Any) -> Dataset:
    return data_mod.load(name, seed=seed, **options)


def family(name: str) -> Family:
    """The entry of family `name`.

    Raises:
        KeyError: unknown name (the message lists the known ones).
    """
    if name not in FAMILIES:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[name]


def view_for(model: str, dataset: str) -> str | None:
    """The view of `dataset` that family `model` trains on, or None if it models none.

    Raises:
        KeyError: unknown model.
    """
    kinds = family(model).data_kinds
    for view in VIEWS.get(dataset, (dataset,)):
        if DATA_KINDS.get(view) in kinds:
            return view
    return None


def make(name: str, info: DataInfo, options: Any = None) -> GenerativeModel:
    """Build model `name` for data `info`; `options` is its config, a dict of its fields, or None
    (the defaults).

    Raises:
        KeyError: unknown name (the message lists the known ones).
        ValueError: options of another type, fields the config does not have or rejects, or
            data of a kind the family does not model.
    """
    entry = family(name)
    config_cls = entry.config
    if options is None or isinstance(options, dict):
        try:
            options = config_cls(**(options or {}))
        except TypeError as err:
            raise ValueError(f"{name}: {err}") from None
    elif type(options) is not config_cls:
        raise ValueError(
            f"{name}: options must be a {config_cls.__name__} or a dict, "
            f"not {type(options).__name__}"
        )
    if info.kind not in entry.data_kinds:
        raise ValueError(
            f"{name} does not model {info.kind} data ({info.name}); it models "
            f"{', '.join(entry.data_kinds)} data"
        )
    return entry.model(info, options)
