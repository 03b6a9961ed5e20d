"""Classifier-free guidance: label dropout in training, the guided combination at sampling.

Training replaces each label by the null class with probability p_uncond, so one network
learns both eps(x_t, t, y) and eps(x_t, t, null). Sampling combines them with the guidance
weight w in Ho & Salimans' convention (2022, eq. 6):

    eps_w(x_t, t, y) = (1 + w) eps(x_t, t, y) - w eps(x_t, t, null),

so w = 0 is the plain conditional model, w > 0 sharpens towards the class, and w = -1 is the
unconditional model. (Some code writes the same thing as eps_u + s (eps_c - eps_u) with
s = 1 + w.) The combination is affine with weights summing to 1, and x_0 and v are affine in
eps at fixed x_t, so it applies unchanged to x_0- and v-predicting networks.

Reference:
    Ho & Salimans 2022, "Classifier-free diffusion guidance", arXiv:2207.12598.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from generative.models.diffusion.process import Denoise

__all__ = ["Conditional", "drop_labels", "guided"]

Conditional = Callable[[Tensor, Tensor, Tensor | None], Tensor]
"""A class-conditional denoiser (x_t, t, y) -> output; y = null class for unconditional."""


def drop_labels(
    y: Tensor, p_uncond: float, null: int, gen: torch.Generator | None = None
) -> Tensor:
    """y with each label replaced by `null` independently with probability `p_uncond`.

    Args:
        y: (B,) int64 labels in 0..null-1.
    Returns:
        (B,) int64.
    """
    if p_uncond <= 0:
        return y
    if gen is None:
        u = torch.rand(y.shape, device=y.device)
    else:
        u = torch.rand(y.shape, generator=gen, device=gen.device).to(y.device)
    return torch.where(u < p_uncond, torch.full_like(y, null), y)


def guided(net: Conditional, y: Tensor, weight: float, null: int) -> Denoise:
    """The denoiser (x_t, t) -> (1 + w) net(x_t, t, y) - w net(x_t, t, null), in float32.

    One forward pass of the stacked batch (2B) when w is neither 0 nor -1, where only the
    conditional or only the unconditional pass is needed.

    Args:
        net: the class-conditional network.
        y: (B,) int64 labels of the samples.
        weight: w, see the module docstring.
        null: the null-class label.
    """
    uncond = torch.full_like(y, null)

    def denoise(x_t: Tensor, t: Tensor) -> Tensor:
        if weight == 0:
            return net(x_t, t, y).float()
        if weight == -1:
            return net(x_t, t, uncond).float()
        out = net(torch.cat([x_t, x_t]), torch.cat([t, t]), torch.cat([y, uncond])).float()
        cond, free = out.chunk(2)
        return (1 + weight) * cond - weight * free

    return denoise
