"""Every generative family and dataset by name: plain dicts, merged from their modules."""

from __future__ import annotations

import dataclasses
from typing import Any

from generative import data as data_mod
from generative.base import GenerativeModel
from generative.data import DataInfo, Dataset
from generative.models import autoencoder, diffusion, ebm, flows, gan, naive_bayes, vae
from generative.models import logistic as logistic_mod

MODELS: dict[str, tuple[type, type]] = {
    **naive_bayes.MODELS,
    **autoencoder.MODELS,
    **vae.MODELS,
    **gan.MODELS,
    **flows.MODELS,
    **ebm.MODELS,
    **diffusion.MODELS,
}
"""name -> (config dataclass, GenerativeModel class)."""

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
"""The kind of each dataset, known without loading it."""

VIEWS: dict[str, tuple[str, ...]] = {"digits": ("digits", "digits_continuous")}
"""Datasets with several views, in order of preference; a family takes the first it models."""

FAMILY_KINDS: dict[str, tuple[str, ...]] = {
    "gaussian_nb": ("continuous",),
    "bernoulli_nb": ("binary",),
    "categorical_nb": ("categorical",),
    "autoencoder": ("dequantized", "continuous"),
    "vae": ("categorical", "binary", "continuous", "dequantized"),
    "gan": ("continuous", "dequantized"),
    "gan_r1": ("continuous", "dequantized"),
    "wgan_gp": ("continuous", "dequantized"),
    "sngan_r1": ("continuous", "dequantized"),
    "pacgan": ("continuous", "dequantized"),
    "realnvp": ("continuous", "dequantized"),
    "maf": ("continuous", "dequantized"),
    "nsf": ("continuous", "dequantized"),
    "ebm": ("continuous", "dequantized"),
    "ddpm": ("continuous", "categorical", "dequantized", "binary"),
    "latent_diffusion": ("categorical", "binary", "continuous", "dequantized"),
}
"""The data kinds each family models."""


def dataset_names() -> list[str]:
    return sorted(data_mod.LOADERS)


def load_data(name: str, seed: int = 0, **options: Any) -> Dataset:
    return data_mod.load(name, seed=seed, **options)


def view_for(model: str, dataset: str) -> str | None:
    """The view of `dataset` that family `model` trains on, or None if it models none."""
    for view in VIEWS.get(dataset, (dataset,)):
        if DATA_KINDS.get(view) in FAMILY_KINDS.get(model, ()):
            return view
    return None


def make(name: str, info: DataInfo, options: Any = None) -> GenerativeModel:
    """Build model `name` for data `info`; `options` is its config (or a dict of fields).

    Raises:
        KeyError: unknown name (the message lists the known ones).
        ValueError: options the model rejects, or data of a kind it does not model.
    """
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    config_cls, model_cls = MODELS[name]
    if options is None or isinstance(options, dict):
        options = config_cls(**(options or {}))
    elif not dataclasses.is_dataclass(options):
        raise ValueError(f"{name}: options must be a {config_cls.__name__} or a dict")
    if info.kind not in FAMILY_KINDS.get(name, (info.kind,)):
        raise ValueError(
            f"{name} does not model {info.kind} data ({info.name}); it models "
            f"{', '.join(FAMILY_KINDS[name])} data"
        )
    return model_cls(info, options)
