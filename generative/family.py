"""What the registry knows of a generative family without building it: `Family`.

Each family module exports its entries (`FAMILIES`), and `generative.registry.FAMILIES` merges
them. An entry names the config and model classes and declares what the family can do, so no
caller probes a model for methods: the data kinds it models, how it is fitted and what its
`log_prob` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from generative.base import GenerativeModel, Likelihood
from generative.data import DataKind

Fit = Literal["closed_form", "gradient"]
"""'closed_form': the model's `fit_exact(x, y)` sets the maximum-likelihood parameters at once;
'gradient': `generative.train.fit` takes optimiser steps on its `loss`."""

Group = Literal[
    "naive_bayes", "autoencoder", "vae", "gan", "flow", "ebm", "diffusion", "language_model"
]
"""The kind of model, as reports group them."""


@dataclass(frozen=True)
class Family:
    """One generative family: its classes and its capabilities.

    Raises:
        ValueError: no data kinds, or a value outside the allowed ones.
    """

    config: type
    """The frozen dataclass of its options."""
    model: type[GenerativeModel]
    """Built as `model(info, config)`."""
    data_kinds: tuple[DataKind, ...]
    """The kinds of data it models (`DataInfo.kind`); at least one."""
    fit: Fit
    """How it is fitted (see `Fit`)."""
    likelihood: Likelihood
    """What `log_prob` returns: 'exact', a 'bound' (e.g. an ELBO), or 'none' (it raises
    `NotImplementedError`). A model instance may know less on some data: its own
    `likelihood` attribute says what it returns there."""
    group: Group
    """The kind of model, for reports."""

    def __post_init__(self) -> None:
        if not self.data_kinds:
            raise ValueError(f"{self.model.__name__}: a family must model at least one data kind")
        allowed = {
            "data_kinds": get_args(DataKind),
            "fit": get_args(Fit),
            "likelihood": get_args(Likelihood),
            "group": get_args(Group),
        }
        values = {
            "data_kinds": self.data_kinds,
            "fit": (self.fit,),
            "likelihood": (self.likelihood,),
            "group": (self.group,),
        }
        for name, given in values.items():
            bad = [v for v in given if v not in allowed[name]]
            if bad:
                raise ValueError(
                    f"{self.model.__name__}: {name}={bad[0]!r}; allowed: {', '.join(allowed[name])}"
                )
