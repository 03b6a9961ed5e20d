"""Neural spline flow: coupling layers with monotone rational-quadratic splines.

Reference: Durkan, Bekasov, Murray & Papamakarios 2019, "Neural Spline Flows",
arXiv:1906.04032 (the coupling variant, RQ-NSF (C)). The layout is RealNVP's (alternating or
random halves, an optional ActNorm before each coupling); only the element-wise map differs:
z_b = RQS(x_b; theta(x_a)), K bins on [-bound, bound], identity outside.
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
from generative.models.flows.layers import ActNorm, Permutation, SplineCoupling
from generative.models.flows.realnvp import MASKS, first_half
from generative.models.layers import check_activation


@dataclass(frozen=True)
class NSFConfig:
    """Settings of `NSF`."""

    num_layers: int = 6
    """Coupling layers K; 1 to 256 (`MAX_FLOW_LAYERS`: Glow's deepest stack is 192)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of each coupling's MLP: at most 64 layers, each 1 to 16,384 wide, with
    at most 2**30 weights between hidden layers in all K networks (`config_checks`: what
    trains in 24 GiB)."""
    activation: str = "relu"
    """Activation of the coupling MLPs (a key of `generative.models.layers.ACTIVATIONS`)."""
    bins: int = 8
    """Spline bins per dimension; 2 to 256 (Durkan et al. 2019 use 4 to 10; each bin adds 3
    outputs per dimension to every coupling's MLP)."""
    bound: float = 4.0
    """The splines act on [-bound, bound]; identity outside; finite and > 0."""
    actnorm: str = "every"
    """ActNorm (Glow, data-dependent standardisation) before 'every' coupling, once at the
    'input', or 'none'; it keeps inputs inside the splines' [-bound, bound]."""
    masks: str = "alternate"
    """'alternate' or 'random' halves, as in `RealNVPConfig.masks`."""
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
        check_int("bins", self.bins, 2, 256)
        check_positive(bound=self.bound)
        if self.masks not in MASKS:
            raise ValueError(f"masks={self.masks!r}; allowed: {', '.join(MASKS)}")
        check_logit_alpha(self.logit_alpha)
        check_int("seed", self.seed, 0, MAX_SEED)


class NSF(Flow):
    """Rational-quadratic neural spline flow (coupling) for flat data with D >= 2.

    Layers, data -> base: a fixed permutation (skipped when it is the identity), then
    ([ActNorm] -> spline coupling) `num_layers` times, alternating the kept half; `sample`
    inverts each spline in closed form (a quadratic per dimension).
    """

    def __init__(self, info: DataInfo, cfg: NSFConfig) -> None:
        D = info.dim
        if D < 2:
            raise ValueError(f"data dim={D}; NSF needs D >= 2 to split dimensions")
        perm = first_half(D, cfg.masks, cfg.seed)
        layers: list[nn.Module] = [ActNorm(D)] if cfg.actnorm == "input" else []
        if not torch.equal(perm, torch.arange(D)):
            layers.append(Permutation(perm))
        split = (D + 1) // 2
        for k in range(cfg.num_layers):
            if cfg.actnorm == "every":
                layers.append(ActNorm(D))
            layers.append(
                SplineCoupling(
                    D, split, k % 2 == 0, cfg.hidden, cfg.activation, cfg.bins, cfg.bound
                )
            )
        super().__init__(info, layers, cfg.logit_alpha)
        self.cfg = cfg
