"""Reverse-process samplers: DDPM ancestral steps and DDIM steps, on any timestep sub-sequence.

Both step from timestep t to its predecessor t' in a descending sequence tau (the full 0..T-1
or a sub-sequence from `schedules.timestep_sequence`), with ab = alpha_bar_t and
ab' = alpha_bar_{t'} (ab' = 1 after the last index: the step lands on the data).

DDPM (Ho et al. 2020, eq. 6-7 and alg. 2), on a sub-sequence with the respaced
beta = 1 - ab / ab' (Nichol & Dhariwal 2021, sec. 4):

    x_{t'} = c0 x0_hat + ct x_t + sigma z,  sigma^2 = beta_tilde ('fixed_small') or beta,

DDIM (Song et al. 2021, eq. 12 and 16):

    x_{t'} = sqrt(ab') x0_hat + sqrt(1 - ab' - sigma^2) eps_hat + sigma z,
    sigma = eta sqrt((1 - ab') / (1 - ab)) sqrt(1 - ab / ab'),

deterministic for eta = 0; for eta = 1 it is the DDPM step with 'fixed_small'. The last
step adds no noise (sigma = 0 there in DDIM; Ho et al. alg. 2 returns the mean at t = 1).

References:
    Ho, Jain & Abbeel 2020, "Denoising diffusion probabilistic models", arXiv:2006.11239.
    Song, Meng & Ermon 2021, "Denoising diffusion implicit models", arXiv:2010.02502.
    Nichol & Dhariwal 2021, "Improved denoising diffusion probabilistic models",
        arXiv:2102.09672.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from generative.models.diffusion.process import (
    VARIANCES,
    Coef,
    Denoise,
    normal_noise,
    per_example,
    posterior_mean,
    to_x0_eps,
)

__all__ = ["SAMPLERS", "ddim_step", "ddpm_step", "sample_loop"]

SAMPLERS = ("ddpm", "ddim")


def _sqrt_nonneg(v: Coef) -> Coef:
    """sqrt(max(v, 0)): rounding can push an analytically non-negative variance below 0."""
    if isinstance(v, Tensor):
        return v.clamp_min(0).sqrt()
    return max(v, 0.0) ** 0.5


def ddpm_step(
    x_t: Tensor,
    x0: Tensor,
    ab_t: Coef,
    ab_prev: Coef,
    variance: str = "fixed_small",
    noise: Tensor | None = None,
) -> Tensor:
    """One ancestral step x_t -> x_{t'} ~ N(posterior_mean(x0_hat, x_t), sigma^2 I).

    Args:
        x_t, x0: (B, *shape) the current sample and the predicted x_0.
        ab_t, ab_prev: alpha_bar at t and at its predecessor (1 after the last index).
        variance: 'fixed_small' (sigma^2 = beta_tilde) or 'fixed_large' (sigma^2 = beta).
        noise: z ~ N(0, I) (B, *shape); None returns the mean (the last step).
    """
    if variance not in VARIANCES:
        raise ValueError(f"variance={variance!r}; allowed: {', '.join(VARIANCES)}")
    mean = posterior_mean(x0, x_t, ab_t, ab_prev)
    if noise is None:
        return mean
    beta = 1 - ab_t / ab_prev
    var = beta if variance == "fixed_large" else (1 - ab_prev) / (1 - ab_t) * beta
    return mean + per_example(_sqrt_nonneg(var), x_t) * noise


def ddim_step(
    x_t: Tensor,
    x0: Tensor,
    eps: Tensor,
    ab_t: Coef,
    ab_prev: Coef,
    eta: float = 0.0,
    noise: Tensor | None = None,
) -> Tensor:
    """One DDIM step x_t -> x_{t'} (Song et al. eq. 12), see the module docstring.

    Args:
        x_t, x0, eps: (B, *shape) the current sample and the predicted x_0 and noise.
        ab_t, ab_prev: alpha_bar at t and at its predecessor (1 after the last index).
        eta: 0 deterministic, 1 the DDPM posterior variance.
        noise: z ~ N(0, I), used when eta > 0; None adds no noise.
    """
    sigma = eta * _sqrt_nonneg((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev))
    direction = per_example(_sqrt_nonneg(1 - ab_prev - sigma**2), eps) * eps
    x = per_example(ab_prev**0.5, x0) * x0 + direction
    if eta > 0 and noise is not None:
        x = x + per_example(sigma, noise) * noise
    return x


@torch.no_grad()
def sample_loop(
    denoise: Denoise,
    x_T: Tensor,
    alpha_bar: Tensor,
    timesteps: Sequence[int],
    prediction: str,
    sampler: str = "ddim",
    eta: float = 0.0,
    variance: str = "fixed_small",
    clip: bool = False,
    gen: torch.Generator | None = None,
) -> Tensor:
    """Run the reverse process from x_T through `timesteps` to x_0.

    Coefficients are float64 Python numbers; the sample stays in x_T's dtype and the
    denoiser's output is cast to it.

    Args:
        denoise: (x_t, t (B,) int64) -> network output (labels and guidance bound in).
        x_T: (B, *shape) the starting noise.
        alpha_bar: (T,) the training schedule's alpha_bar.
        timesteps: descending indices into 0..T-1 (e.g. `schedules.timestep_sequence`).
        prediction: what the denoiser outputs: 'epsilon', 'x0' or 'v'.
        sampler: 'ddpm' (ancestral, `variance`) or 'ddim' (`eta`).
        clip: clip the predicted x_0 to [-1, 1] (data scaled to that range).
        gen: generator of the step noise.
    Returns:
        (B, *shape) x_0.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r}; allowed: {', '.join(SAMPLERS)}")
    seq = [int(t) for t in timesteps]
    if not seq or any(a <= b for a, b in zip(seq, seq[1:], strict=False)):
        raise ValueError(f"timesteps must be non-empty and strictly descending, got {seq[:5]}...")
    if seq[0] >= len(alpha_bar) or seq[-1] < 0:
        raise ValueError(f"timesteps must lie in 0..{len(alpha_bar) - 1}")
    ab = alpha_bar.double().cpu().tolist()
    x = x_T
    for i, t in enumerate(seq):
        last = i + 1 == len(seq)
        ab_t, ab_prev = ab[t], (1.0 if last else ab[seq[i + 1]])
        t_batch = torch.full((len(x),), t, dtype=torch.long, device=x.device)
        x0, eps = to_x0_eps(denoise(x, t_batch).to(x.dtype), x, ab_t, prediction, clip)
        noisy = not last and (sampler == "ddpm" or eta > 0)
        noise = normal_noise(tuple(x.shape), gen, x.device).to(x.dtype) if noisy else None
        if sampler == "ddpm":
            x = ddpm_step(x, x0, ab_t, ab_prev, variance, noise)
        else:
            x = ddim_step(x, x0, eps, ab_t, ab_prev, eta, noise)
    return x
