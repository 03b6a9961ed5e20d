"""EDM preconditioning, training noise, Karras schedule and the Euler sampler (Karras et al.
2022), checked against identities and the exact denoiser of Gaussian data."""

from __future__ import annotations

import math

import pytest
import torch

from generative.models.diffusion.edm import (
    euler_sample,
    karras_sigmas,
    loss_weight,
    network_target,
    preconditioning,
    training_sigmas,
)

SIGMA_DATA = 0.5


def test_preconditioning_identities():
    sigma = torch.logspace(-4, 2, 50, dtype=torch.float64)
    pre = preconditioning(sigma, SIGMA_DATA)
    total = sigma**2 + SIGMA_DATA**2
    torch.testing.assert_close(pre.c_in**2 * total, torch.ones_like(sigma))
    # c_skip + c_out^2 / sd^2 = 1: the skip and the network share the unit of variance
    torch.testing.assert_close(pre.c_skip + pre.c_out**2 / SIGMA_DATA**2, torch.ones_like(sigma))
    torch.testing.assert_close(pre.c_noise, sigma.log() / 4)
    torch.testing.assert_close(loss_weight(sigma, SIGMA_DATA), pre.c_out**-2)


def test_preconditioning_limits():
    low = preconditioning(torch.tensor([1e-8], dtype=torch.float64), SIGMA_DATA)
    high = preconditioning(torch.tensor([1e8], dtype=torch.float64), SIGMA_DATA)
    assert abs(low.c_skip.item() - 1) < 1e-12 and low.c_out.item() < 1e-7  # D(x) -> x
    assert high.c_skip.item() < 1e-12 and abs(high.c_out.item() - SIGMA_DATA) < 1e-9


def test_network_target_is_the_weighted_denoiser_error():
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    sigma = torch.logspace(-2, 1, 6, dtype=torch.float64)
    x = x0 + sigma[:, None] * torch.randn(6, 3, generator=gen, dtype=torch.float64)
    f = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    pre = preconditioning(sigma, SIGMA_DATA)
    denoised = pre.c_skip[:, None] * x + pre.c_out[:, None] * f
    left = ((f - network_target(x0, x, pre)) ** 2).sum(1)
    right = loss_weight(sigma, SIGMA_DATA) * ((denoised - x0) ** 2).sum(1)
    torch.testing.assert_close(left, right)


def test_training_sigmas_are_log_normal():
    n = 20_000
    log_sigma = training_sigmas(n, -0.4, 1.2, torch.Generator().manual_seed(0)).log()
    assert abs(log_sigma.mean().item() + 0.4) < 4 * 1.2 / math.sqrt(n)
    assert abs(log_sigma.std().item() - 1.2) < 4 * 1.2 / math.sqrt(2 * n)


@pytest.mark.parametrize("steps", [1, 2, 3, 10, 50])
def test_karras_schedule_endpoints_and_order(steps):
    sigmas = karras_sigmas(steps, 2e-3, 5.0, 7.0)
    assert sigmas.shape == (steps + 1,) and sigmas.dtype == torch.float64
    assert sigmas[0].item() == pytest.approx(5.0) and sigmas[-1].item() == 0.0
    if steps > 1:
        assert sigmas[-2].item() == pytest.approx(2e-3)
    assert (sigmas[1:] < sigmas[:-1]).all()


def test_karras_schedule_rejects_bad_settings():
    with pytest.raises(ValueError, match="steps=0"):
        karras_sigmas(0, 2e-3, 5.0)
    with pytest.raises(ValueError, match="sigma_min"):
        karras_sigmas(3, 6.0, 5.0)
    with pytest.raises(ValueError, match="rho"):
        karras_sigmas(3, 2e-3, 5.0, 0.0)


def gaussian_denoiser(s0: float):
    """The exact D(x, sigma) = E[x_0 | x] for x_0 ~ N(0, s0^2)."""
    return lambda x, sigma: x * s0**2 / (s0**2 + sigma[:, None] ** 2)


def test_one_euler_step_returns_the_denoiser_at_sigma_max():
    x_T = 5.0 * torch.randn(100, 1, generator=torch.Generator().manual_seed(0))
    out = euler_sample(gaussian_denoiser(0.5), x_T, karras_sigmas(1, 2e-3, 5.0))
    torch.testing.assert_close(out, x_T * 0.25 / (0.25 + 25.0))


def test_euler_with_the_exact_denoiser_recovers_the_data_std():
    s0, smax, n = 0.5, 5.0, 20_000
    gen = torch.Generator().manual_seed(0)
    x_T = math.sqrt(smax**2 + s0**2) * torch.randn(n, 1, generator=gen, dtype=torch.float64)
    out = euler_sample(gaussian_denoiser(s0), x_T, karras_sigmas(100, 2e-3, smax))
    # 4 standard errors of a std from 20k draws is 2 %, plus the Euler error at 100 steps
    assert abs(out.std().item() / s0 - 1) < 0.03
