"""Noise schedules and sampling timesteps of Gaussian diffusion, as small pure functions.

A schedule is the sequence beta_1..beta_T of per-step noise variances of the forward process
q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I); what the rest of the code needs is
its cumulative product

    alpha_bar_t = prod_{s <= t} (1 - beta_s),
    q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I).

Everything here is float64 and lives outside any autocast region. Timesteps are 0-based in
code (index t is the paper's t + 1), as in the reference implementations.

References:
    Ho, Jain & Abbeel 2020, "Denoising diffusion probabilistic models", arXiv:2006.11239.
    Nichol & Dhariwal 2021, "Improved denoising diffusion probabilistic models",
        arXiv:2102.09672.
    Song, Meng & Ermon 2021, "Denoising diffusion implicit models", arXiv:2010.02502.
    Lin, Liu, Li & Yang 2024, "Common diffusion noise schedules and sample steps are
        flawed", arXiv:2305.08891.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "SCHEDULES",
    "SPACINGS",
    "alpha_bars",
    "cosine_betas",
    "linear_betas",
    "make_betas",
    "timestep_sequence",
]

SCHEDULES = ("linear", "cosine")
SPACINGS = ("trailing", "leading")


def linear_betas(timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    """beta_t rising linearly from `beta_start` to `beta_end` (Ho et al. 2020, sec. 4).

    beta_t = beta_start + (beta_end - beta_start) (t - 1) / (T - 1),  t = 1..T.

    Returns:
        (T,) float64.
    """
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


def cosine_betas(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> Tensor:
    """The cosine schedule of Nichol & Dhariwal 2021 (eq. 17), betas clipped at `max_beta`.

    alpha_bar(t) = f(t) / f(0),  f(t) = cos((t / T + s) / (1 + s) * pi / 2)^2,
    beta_t = min(1 - alpha_bar(t) / alpha_bar(t - 1), max_beta),  t = 1..T.

    The clip keeps the last step from being a pure-noise singularity (beta_T = 1).

    Returns:
        (T,) float64.
    """
    steps = np.arange(timesteps + 1, dtype=np.float64) / timesteps
    f = np.cos((steps + s) / (1 + s) * math.pi / 2) ** 2  # (T + 1,)
    betas = np.minimum(1.0 - f[1:] / f[:-1], max_beta)
    return torch.from_numpy(betas)


def make_betas(
    schedule: str, timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02
) -> Tensor:
    """(T,) float64 betas of schedule 'linear' or 'cosine' (whose constants are fixed).

    For 'linear', `beta_start` and `beta_end` are the values at T = 1000 and are scaled by
    1000 / T (capped at 0.999), as in Nichol & Dhariwal's code (`get_named_beta_schedule`),
    so that alpha_bar_T stays near exp(-10) for any T; at T = 1000 this is Ho et al.'s.
    """
    if schedule == "linear":
        scale = 1000 / timesteps
        return linear_betas(timesteps, beta_start * scale, min(beta_end * scale, 0.999))
    if schedule == "cosine":
        return cosine_betas(timesteps)
    raise ValueError(f"schedule={schedule!r}; allowed: {', '.join(SCHEDULES)}")


def alpha_bars(betas: Tensor) -> Tensor:
    """alpha_bar_t = prod_{s <= t} (1 - beta_s): (T,) -> (T,), computed in float64."""
    return torch.cumprod(1.0 - betas.double(), dim=0)


def timestep_sequence(timesteps: int, steps: int, spacing: str = "trailing") -> list[int]:
    """The descending sub-sequence tau of 0..T-1 that a sampler visits in `steps` steps.

    'trailing' (Lin et al. 2024, table 2): round(T - i T / S) - 1 for i = 0..S-1, so the first
    step starts from the last, noisiest timestep T - 1. 'leading' (Song et al. 2021, the
    DDIM code and diffusers' default): i * floor(T / S), descending, ending at 0; it starts
    up to floor(T / S) - 1 steps short of T - 1. Both give T-1..0 when S = T. After the last
    index the sampler steps to the data itself (alpha_bar_prev = 1).

    Args:
        timesteps: T.
        steps: S, 1 <= S <= T.
        spacing: 'trailing' or 'leading'.
    Returns:
        S distinct indices in T-1..0, descending.
    """
    if not 1 <= steps <= timesteps:
        raise ValueError(f"steps={steps}; must lie in 1..{timesteps} (the training timesteps)")
    if spacing == "trailing":
        seq = np.round(timesteps - np.arange(steps) * timesteps / steps).astype(np.int64) - 1
    elif spacing == "leading":
        seq = (np.arange(steps) * (timesteps // steps))[::-1]
    else:
        raise ValueError(f"spacing={spacing!r}; allowed: {', '.join(SPACINGS)}")
    return [int(t) for t in seq]
