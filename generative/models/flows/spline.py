"""Monotone rational-quadratic splines: the element-wise transformer of neural spline flows.

Reference: Durkan, Bekasov, Murray & Papamakarios 2019, "Neural Spline Flows",
arXiv:1906.04032, sec. 3.1 and appendix A (Gregory & Delbourgo 1982 splines).

On [-bound, bound] the map is a K-bin monotone rational-quadratic spline through knots
(x^k, y^k) with slopes d^k at the knots (d = 1 at both ends); outside it is the identity
(linear tails), so the map is a bijection of R. In bin k, with theta = (x - x^k) / w^k,
s^k = h^k / w^k (the bin's mean slope):

    y = y^k + h^k [s^k theta^2 + d^k theta (1 - theta)]
              / [s^k + (d^{k+1} + d^k - 2 s^k) theta (1 - theta)]

    dy/dx = (s^k)^2 [d^{k+1} theta^2 + 2 s^k theta (1 - theta) + d^k (1 - theta)^2]
            / [s^k + (d^{k+1} + d^k - 2 s^k) theta (1 - theta)]^2

and the inverse solves a quadratic for theta (appendix A, eqs. 29-33).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

MIN_WIDTH = 1e-3
MIN_HEIGHT = 1e-3
MIN_SLOPE = 1e-3
_SLOPE_SHIFT = math.log(math.expm1(1 - MIN_SLOPE))  # softplus(0 + shift) + MIN_SLOPE = 1


def num_params(bins: int) -> int:
    """Unconstrained parameters per dimension: K widths, K heights, K - 1 inner slopes."""
    return 3 * bins - 1


def _knots(raw: Tensor, bound: float, minimum: float) -> tuple[Tensor, Tensor]:
    """Positions (..., K + 1) from -bound to bound and bin sizes (..., K), from raw logits."""
    bins = raw.shape[-1]
    sizes = minimum + (1 - minimum * bins) * torch.softmax(raw, dim=-1)
    inner = torch.cumsum(sizes[..., :-1], dim=-1) * (2 * bound) - bound  # (..., K - 1)
    ends = torch.full_like(inner[..., :1], bound)
    pos = torch.cat([-ends, inner, ends], dim=-1)  # (..., K + 1), ends exactly at +-bound
    return pos, pos[..., 1:] - pos[..., :-1]


def _unpack(params: Tensor, bound: float) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Knot x-positions, widths, y-positions, heights (..., K + 1 / K) and slopes (..., K + 1)."""
    bins = (params.shape[-1] + 1) // 3
    raw_w, raw_h, raw_d = params[..., :bins], params[..., bins : 2 * bins], params[..., 2 * bins :]
    xs, widths = _knots(raw_w, bound, MIN_WIDTH)
    ys, heights = _knots(raw_h, bound, MIN_HEIGHT)
    inner = MIN_SLOPE + F.softplus(raw_d + _SLOPE_SHIFT)  # (..., K - 1)
    slopes = F.pad(inner, (1, 1), value=1.0)  # (..., K + 1), linear tails
    return xs, widths, ys, heights, slopes


def _gather(t: Tensor, k: Tensor) -> Tensor:
    return t.gather(-1, k[..., None]).squeeze(-1)


def rational_quadratic(
    x: Tensor, params: Tensor, bound: float, inverse: bool = False
) -> tuple[Tensor, Tensor]:
    """Apply the spline (or its inverse) element-wise.

    Args:
        x: (...,) inputs.
        params: (..., 3K - 1) unconstrained spline parameters per input.
        bound: the spline acts on [-bound, bound]; identity outside.
        inverse: apply the inverse map instead.
    Returns:
        y: (...,) outputs; log_det: (...,) log|dy/dx| of the map applied (the inverse's when
        `inverse`).
    """
    inside = (x > -bound) & (x < bound)
    xc = x.clamp(-bound, bound)
    xs, widths, ys, heights, slopes = _unpack(params, bound)
    knots = ys if inverse else xs
    k = torch.searchsorted(knots[..., 1:-1].contiguous(), xc[..., None].contiguous())
    k = k.squeeze(-1)  # (...,) bin index in 0..K-1
    x_k, w, y_k, h = _gather(xs, k), _gather(widths, k), _gather(ys, k), _gather(heights, k)
    d_k, d_k1 = _gather(slopes, k), _gather(slopes, k + 1)
    s = h / w
    if inverse:
        dy = xc - y_k
        a = h * (s - d_k) + dy * (d_k1 + d_k - 2 * s)
        b = h * d_k - dy * (d_k1 + d_k - 2 * s)
        c = -s * dy
        disc = (b * b - 4 * a * c).clamp_min(0)
        theta = (2 * c) / (-b - torch.sqrt(disc))
        out = theta * w + x_k
    else:
        theta = (xc - x_k) / w
    t1 = theta * (1 - theta)
    denom = s + (d_k1 + d_k - 2 * s) * t1
    deriv = s * s * (d_k1 * theta * theta + 2 * s * t1 + d_k * (1 - theta) ** 2)
    log_det = torch.log(deriv) - 2 * torch.log(denom)
    if not inverse:
        out = y_k + h * (s * theta * theta + d_k * t1) / denom
    else:
        log_det = -log_det
    return torch.where(inside, out, x), torch.where(inside, log_det, torch.zeros_like(log_det))
