"""The one log-variance Gaussian log-density agrees with `torch.distributions`."""

from __future__ import annotations

import math

import torch
from torch.distributions import Normal

from generative.models.gaussian import normal_log_prob


def test_normal_log_prob_is_the_gaussian_density_to_float_rounding():
    gen = torch.Generator().manual_seed(0)
    x, mean = torch.randn(2, 1000, 3, generator=gen, dtype=torch.float64)
    log_var = 4 * torch.rand(1000, 3, generator=gen, dtype=torch.float64) - 2
    reference = Normal(mean, (0.5 * log_var).exp()).log_prob(x)
    torch.testing.assert_close(normal_log_prob(x, mean, log_var), reference, rtol=1e-12, atol=0)
    ours32 = normal_log_prob(x.float(), mean.float(), log_var.float())
    torch.testing.assert_close(ours32, reference.float(), rtol=1e-5, atol=1e-6)


def test_normal_log_prob_integrates_to_one_and_broadcasts():
    grid = torch.linspace(-12, 12, 24001, dtype=torch.float64)
    log_p = normal_log_prob(grid[:, None], torch.tensor([0.5, -1.0]), torch.tensor([0.0, 1.0]))
    mass = torch.trapezoid(log_p.exp(), grid, dim=0)  # (2,)
    torch.testing.assert_close(mass, torch.ones(2, dtype=torch.float64))
    standard = normal_log_prob(torch.zeros(()), torch.zeros(()), torch.zeros(()))
    assert math.isclose(float(standard), -0.5 * math.log(2 * math.pi), rel_tol=1e-7)
