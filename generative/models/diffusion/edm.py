"""The EDM formulation of diffusion: preconditioning, training noise, Karras sigmas, Euler.

Karras et al. 2022 write diffusion as the data plus Gaussian noise of standard deviation sigma
(variance exploding, no scaling), x = x_0 + sigma n, and learn the denoiser D(x, sigma) ~
E[x_0 | x]. The network F is wrapped so its inputs and target have unit variance at every
sigma (EDM Table 1, "Ours"; sd = sigma_data, the data's standard deviation):

    D(x, sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x, c_noise(sigma)),
    c_skip = sd^2 / (sigma^2 + sd^2),   c_out = sigma sd / sqrt(sigma^2 + sd^2),
    c_in = 1 / sqrt(sigma^2 + sd^2),    c_noise = ln(sigma) / 4.

Training draws ln sigma ~ N(P_mean, P_std^2) and minimises lambda(sigma) ||D(x, sigma) - x_0||^2
with lambda = (sigma^2 + sd^2) / (sigma sd)^2 = 1 / c_out^2, which is exactly the unweighted
error of the network against its effective target (EDM eq. 8):

    || F(c_in x, c_noise) - (x_0 - c_skip x) / c_out ||^2.

Sampling integrates the probability-flow ODE dx/dsigma = (x - D(x, sigma)) / sigma from
sigma_max to 0 along the Karras schedule (EDM eq. 5 and alg. 1 without the Heun correction,
as DIAMOND samples). DIAMOND's settings: sigma_data = 0.5, P_mean = -0.4, P_std = 1.2,
sigma_min = 2e-3, sigma_max = 5, rho = 7, 3 Euler steps.

References:
    Karras, Aittala, Aila & Laine 2022, "Elucidating the design space of diffusion-based
        generative models", arXiv:2206.00364.
    Alonso et al. 2024, "Diffusion for world modeling: visual details matter in Atari"
        (DIAMOND), arXiv:2405.12399.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from generative.models.diffusion.process import normal_noise

__all__ = [
    "EDMDenoise",
    "Preconditioning",
    "euler_sample",
    "karras_sigmas",
    "loss_weight",
    "network_target",
    "preconditioning",
    "training_sigmas",
]

EDMDenoise = Callable[[Tensor, Tensor], Tensor]
"""(x (B, *shape), sigma (B,)) -> D(x, sigma) (B, *shape), the denoised estimate of x_0."""


class Preconditioning(NamedTuple):
    """The four EDM coefficients at each sigma, shaped like sigma."""

    c_skip: Tensor
    c_out: Tensor
    c_in: Tensor
    c_noise: Tensor


def preconditioning(sigma: Tensor, sigma_data: float) -> Preconditioning:
    """EDM Table 1 coefficients for noise levels `sigma` (any shape, > 0).

    c_skip = sd^2 / (sigma^2 + sd^2), c_out = sigma sd / sqrt(sigma^2 + sd^2),
    c_in = 1 / sqrt(sigma^2 + sd^2), c_noise = ln(sigma) / 4.

    Args:
        sigma: noise standard deviations, > 0.
        sigma_data: sd, the standard deviation of the data.
    """
    total = sigma**2 + sigma_data**2
    return Preconditioning(
        c_skip=sigma_data**2 / total,
        c_out=sigma * sigma_data / total.sqrt(),
        c_in=total.rsqrt(),
        c_noise=sigma.log() / 4,
    )


def training_sigmas(
    n: int,
    p_mean: float,
    p_std: float,
    gen: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> Tensor:
    """(n,) training noise levels, ln sigma ~ N(P_mean, P_std^2) (EDM Table 1, sec. 5).

    Drawn from `gen` on its own device (the global generator when None), then moved.
    """
    return (p_mean + p_std * normal_noise((n,), gen, torch.device(device))).exp()


def loss_weight(sigma: Tensor, sigma_data: float) -> Tensor:
    """lambda(sigma) = (sigma^2 + sd^2) / (sigma sd)^2 = 1 / c_out^2 (EDM Table 1): the weight
    of the denoiser error ||D - x_0||^2 that makes the effective network target unit-variance."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def network_target(x0: Tensor, x_noisy: Tensor, pre: Preconditioning) -> Tensor:
    """(x_0 - c_skip x) / c_out: what F should output at x = x_0 + sigma n (EDM eq. 8).

    ||F - target||^2 = lambda(sigma) ||D - x_0||^2, the weighted denoiser loss.

    Args:
        x0, x_noisy: (B, *shape).
        pre: the coefficients at the batch's sigmas, each (B,).
    """
    view = (-1,) + (1,) * (x0.dim() - 1)
    return (x0 - pre.c_skip.view(view) * x_noisy) / pre.c_out.view(view)


def karras_sigmas(steps: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> Tensor:
    """The Karras sampling schedule (EDM eq. 5), with 0 appended.

    sigma_i = (smax^(1/rho) + i / (N - 1) (smin^(1/rho) - smax^(1/rho)))^rho,  i = 0..N-1,
    sigma_N = 0. One step (N = 1) is [sigma_max, 0]: straight from pure noise to D(x, smax).

    Args:
        steps: N >= 1, the number of denoiser calls of a first-order sampler.
        sigma_min, sigma_max: 0 < sigma_min <= sigma_max.
        rho: > 0; larger spends more steps at low noise (7 in EDM and DIAMOND).
    Returns:
        (N + 1,) float64, strictly decreasing from sigma_max to 0.
    """
    if steps < 1:
        raise ValueError(f"steps={steps}; need at least 1")
    if not 0 < sigma_min <= sigma_max:
        raise ValueError(f"sigma_min={sigma_min}, sigma_max={sigma_max}; need 0 < min <= max")
    if rho <= 0:
        raise ValueError(f"rho={rho}; must be > 0")
    if steps == 1:
        return torch.tensor([sigma_max, 0.0], dtype=torch.float64)
    ramp = torch.linspace(0, 1, steps, dtype=torch.float64)  # i / (N - 1)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    sigmas = (hi + ramp * (lo - hi)) ** rho
    return torch.cat([sigmas, sigmas.new_zeros(1)])


@torch.no_grad()
def euler_sample(denoise: EDMDenoise, x_T: Tensor, sigmas: Tensor) -> Tensor:
    """Integrate the probability-flow ODE with first-order Euler steps (EDM alg. 1, no Heun).

    x <- x + (sigma_next - sigma) (x - D(x, sigma)) / sigma  for consecutive (sigma,
    sigma_next) of `sigmas`; a step to sigma_next = 0 returns D(x, sigma) exactly.

    Args:
        denoise: D(x, sigma) with sigma (B,) in x's dtype and device.
        x_T: (B, *shape) the start, e.g. sigma_max z with z ~ N(0, I).
        sigmas: (N + 1,) decreasing noise levels ending at 0 (`karras_sigmas`).
    Returns:
        (B, *shape) the sample at sigmas[-1].
    """
    levels = [float(s) for s in sigmas]
    x = x_T
    for sigma, sigma_next in zip(levels, levels[1:], strict=False):
        sigma_batch = torch.full((len(x),), sigma, dtype=x.dtype, device=x.device)
        denoised = denoise(x, sigma_batch).to(x.dtype)
        x = denoised if sigma_next == 0 else x + (sigma_next - sigma) * (x - denoised) / sigma
    return x
