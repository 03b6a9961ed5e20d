"""MAF: masked autoregressive flow, MADE layers with Gaussian conditionals.

Reference: Papamakarios, Pavlakou & Murray 2017, "Masked Autoregressive Flow for Density
Estimation", arXiv:1705.07057. Each layer models
    p(x) = prod_i N(x_i; mu_i(x_<i), exp(alpha_i(x_<i))^2),
i.e. u = (x - mu) * exp(-alpha) with log|det du/dx| = -sum_i alpha_i, and layers are stacked
with the autoregressive order reversed (or randomly permuted) between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from generative.config_checks import MAX_SEED, check_int
from generative.data import DataInfo
from generative.models.flows.base import (
    Flow,
    check_actnorm,
    check_layers,
    check_logit_alpha,
    check_positive,
)
from generative.models.flows.layers import ActNorm, MaskedAffineAutoregressive
from generative.models.layers import check_activation

ORDERS = ("reverse", "random")


@dataclass(frozen=True)
class MAFConfig:
    """Settings of `MAF`."""

    num_layers: int = 8
    """Autoregressive layers K; 1 to 256 (`MAX_FLOW_LAYERS`: Glow's deepest stack is 192)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of each MADE: at most 64 layers, each 1 to 16,384 wide, with
    at most 2**30 weights between hidden layers in all K networks (`config_checks`: what
    trains in 24 GiB)."""
    activation: str = "relu"
    """Activation of the MADEs (a key of `generative.models.layers.ACTIVATIONS`)."""
    clamp: float = 3.0
    """Log-scales alpha are soft-clamped to (-clamp, clamp) by clamp * tanh(alpha / clamp);
    finite and > 0."""
    actnorm: str = "input"
    """ActNorm (Glow, data-dependent standardisation) once at the 'input' (default: before every
    MADE it would be redundant, each MAF layer already contains a per-dimension affine map),
    before 'every' MADE, or 'none'."""
    orders: str = "reverse"
    """'reverse': the order 0..D-1, reversed every other layer; 'random': a random
    permutation per layer (drawn from `seed`)."""
    logit_alpha: float = 0.05
    """For dequantized data in [0, 1): x = logit(alpha + (1 - 2 alpha) y); 0 turns it off;
    in [0, 0.5)."""
    seed: int = 0
    """Seed of the random orders; 0 to 2**64 - 1 (what `torch.Generator.manual_seed`
    takes)."""

    def __post_init__(self) -> None:
        check_layers(self.num_layers, self.hidden)
        check_actnorm(self.actnorm)
        check_activation(self.activation)
        check_positive(clamp=self.clamp)
        if self.orders not in ORDERS:
            raise ValueError(f"orders={self.orders!r}; allowed: {', '.join(ORDERS)}")
        check_logit_alpha(self.logit_alpha)
        check_int("seed", self.seed, 0, MAX_SEED)


def autoregressive_orders(dim: int, num_layers: int, kind: str, seed: int) -> list[torch.Tensor]:
    """(D,) int64 orders, order[i] = position of dimension i, one per layer."""
    if kind == "random":
        gen = torch.Generator().manual_seed(seed)
        return [torch.randperm(dim, generator=gen) for _ in range(num_layers)]
    ascending = torch.arange(dim)
    return [ascending if k % 2 == 0 else ascending.flip(0) for k in range(num_layers)]


class MAF(Flow):
    """Masked autoregressive flow for flat data of any dimension D (Papamakarios et al. 2017).

    Layers, data -> base: ActNorm where `actnorm` says, and `num_layers` MADE affine layers
    with alternating (or random) orders.
    `log_prob` takes one MADE pass per layer; `sample` takes D passes per layer.
    """

    def __init__(self, info: DataInfo, cfg: MAFConfig) -> None:
        D = info.dim
        layers: list[nn.Module] = [ActNorm(D)] if cfg.actnorm == "input" else []
        for order in autoregressive_orders(D, cfg.num_layers, cfg.orders, cfg.seed):
            if cfg.actnorm == "every":
                layers.append(ActNorm(D))
            layers.append(MaskedAffineAutoregressive(order, cfg.hidden, cfg.activation, cfg.clamp))
        super().__init__(info, layers, cfg.logit_alpha)
        self.cfg = cfg
