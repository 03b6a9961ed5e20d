"""The one interface every generative family implements.

A model is a `torch.nn.Module` that knows its data (`DataInfo`) and offers:

- `loss(x, y=None, group="model", *, step=None) -> dict`: the key "loss" (a scalar to
  minimise) plus diagnostics ("recon", "kl", ...). Two-player models (GANs) name their players
  in `param_groups()`; the training loop asks for each player's loss in turn. `step` is the
  training step, which the loop owns and passes in: a schedule that depends on it (a KL
  warm-up, a training stage) is a function of it, never a counter the model keeps, so the loss
  is a function of the batch, the parameters and the step, and a resumed run continues it.
- `sample(n, cond=None, gen=None) -> Tensor`: n draws shaped like the data.
- `log_prob(x, y=None) -> Tensor`: per-example log-likelihood in nats where the family has
  one (exact for flows and Naive Bayes, a bound for VAEs: `likelihood` says which), else a
  clear `NotImplementedError`.
- `no_weight_decay() -> set[str]`: parameters the optimiser leaves undecayed (the language
  model's biases and LayerNorm gains); none by default.

Models own no optimiser, no loop and no device logic: `generative.train.fit` does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

import torch
from torch import Tensor, nn

from generative.data import DataInfo

Likelihood = Literal["exact", "bound", "none"]


class GenerativeModel(nn.Module, ABC):
    """Base class of every family in `generative.models`."""

    likelihood: Likelihood = "none"
    """What `log_prob` returns: the exact log-likelihood, a lower bound, or nothing."""

    def __init__(self, info: DataInfo) -> None:
        super().__init__()
        self.info = info

    @abstractmethod
    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """{"loss": scalar to minimise, plus diagnostics}, for player `group`.

        Args:
            x: (B, *info.shape) a batch of data.
            y: (B,) int64 labels, for class-conditional models (else ignored).
            group: which parameter group is being updated (see `param_groups`).
            step: the training step (0-based) during training; None outside it, where a
                schedule takes its final value.
        """

    @abstractmethod
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, *info.shape) samples; `cond` (n,) int64 class labels for conditional models."""

    def log_prob(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """(B,) log-likelihood in nats (exact or a bound, see `likelihood`)."""
        raise NotImplementedError(f"{type(self).__name__} has no tractable log-likelihood")

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Players and their parameters, in update order; one group for most families."""
        return {"model": [p for p in self.parameters() if p.requires_grad]}

    def group_steps(self, step: int) -> dict[str, int]:
        """Updates of each group at training step `step` (e.g. 5 critic steps per generator
        step; 0 for a group that does not train then)."""
        return dict.fromkeys(self.param_groups(), 1)

    def optimizer_options(self) -> dict[str, dict]:
        """Per-group overrides of the optimiser's settings (e.g. GAN betas); {} by default."""
        return {}

    def no_weight_decay(self) -> set[str]:
        """Names (as in `named_parameters`) of the parameters the optimiser must not decay
        (biases, normalisation gains); `fit` puts them in a second AdamW group with
        weight_decay=0. Empty by default: every parameter takes `FitConfig.weight_decay`."""
        return set()

    @property
    def device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        for b in self.buffers():
            return b.device
        return torch.device("cpu")
