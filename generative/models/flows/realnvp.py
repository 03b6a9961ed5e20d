"""RealNVP: a stack of affine coupling layers with alternating (or random) masks.

Reference: Dinh, Sohl-Dickstein & Bengio 2017, "Density estimation using Real NVP",
arXiv:1605.08803. Coupling k transforms the dimensions outside its mask given those inside:
    z_b = x_b * exp(s(x_a)) + t(x_a),  log|det| = sum_b s(x_a)_b,
with the mask flipped from one coupling to the next, so every dimension is transformed.
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
from generative.models.flows.layers import ActNorm, AffineCoupling, Permutation
from generative.models.layers import check_activation

MASKS = ("alternate", "random")


@dataclass(frozen=True)
class RealNVPConfig:
    """Settings of `RealNVP`."""

    num_layers: int = 8
    """Coupling layers K; 1 to 256 (`MAX_FLOW_LAYERS`: Glow's deepest stack is 192)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of each coupling's MLP s, t: at most 64 layers, each 1 to 16,384 wide, with
    at most 2**30 weights between hidden layers in all K networks (`config_checks`: what
    trains in 24 GiB)."""
    activation: str = "relu"
    """Activation of the coupling MLPs (a key of `generative.models.layers.ACTIVATIONS`)."""
    clamp: float = 3.0
    """Log-scales are soft-clamped to (-clamp, clamp) by clamp * tanh(s / clamp); finite and
    > 0."""
    actnorm: str = "every"
    """ActNorm (Glow, data-dependent standardisation) before 'every' coupling, once at the
    'input', or 'none'."""
    masks: str = "alternate"
    """'alternate': coupling k keeps dimensions d with d % 2 == k % 2 (flipping each layer);
    'random': a random half of the dimensions (drawn from `seed`), flipped each layer."""
    logit_alpha: float = 0.05
    """For dequantized data in [0, 1): x = logit(alpha + (1 - 2 alpha) y); 0 turns it off;
    in [0, 0.5)."""
    seed: int = 0
    """Seed of the random masks; 0 to 2**64 - 1 (what `torch.Generator.manual_seed`
    takes)."""

    def __post_init__(self) -> None:
        check_layers(self.num_layers, self.hidden)
        check_actnorm(self.actnorm)
        check_activation(self.activation)
        check_positive(clamp=self.clamp)
        if self.masks not in MASKS:
            raise ValueError(f"masks={self.masks!r}; allowed: {', '.join(MASKS)}")
        check_logit_alpha(self.logit_alpha)
        check_int("seed", self.seed, 0, MAX_SEED)


def first_half(dim: int, kind: str, seed: int) -> torch.Tensor:
    """(D,) permutation putting the dimensions of the even-numbered couplings' mask first.

    'alternate': the even dimensions, then the odd ones; 'random': a random permutation.
    Coupling k then keeps the first ceil(D / 2) of these if k is even, the rest if k is odd.
    """
    if kind == "random":
        return torch.randperm(dim, generator=torch.Generator().manual_seed(seed))
    return torch.cat([torch.arange(0, dim, 2), torch.arange(1, dim, 2)])


class RealNVP(Flow):
    """RealNVP for flat data of any dimension D >= 2 (Dinh et al. 2017).

    Layers, data -> base: a fixed permutation (skipped when it is the identity), then
    ([ActNorm] -> coupling) `num_layers` times, couplings alternating which half they keep;
    exact `log_prob`, `sample` by inverting each coupling in closed form. The base N(0, I)
    is permutation invariant, so no permutation back is needed.
    """

    def __init__(self, info: DataInfo, cfg: RealNVPConfig) -> None:
        D = info.dim
        if D < 2:
            raise ValueError(f"data dim={D}; RealNVP needs D >= 2 to split dimensions")
        perm = first_half(D, cfg.masks, cfg.seed)
        layers: list[nn.Module] = [ActNorm(D)] if cfg.actnorm == "input" else []
        if not torch.equal(perm, torch.arange(D)):
            layers.append(Permutation(perm))
        split = (D + 1) // 2
        for k in range(cfg.num_layers):
            if cfg.actnorm == "every":
                layers.append(ActNorm(D))
            layers.append(
                AffineCoupling(D, split, k % 2 == 0, cfg.hidden, cfg.activation, cfg.clamp)
            )
        super().__init__(info, layers, cfg.logit_alpha)
        self.cfg = cfg
