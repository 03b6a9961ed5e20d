"""Our diffusion schedules and sampler steps against diffusers' schedulers (a test-only peer).

Same inputs in, same numbers out: alpha_bar of the linear and cosine schedules, one DDIM
step (eta 0 and 1, epsilon and v prediction, sharing the noise through `variance_noise`),
one DDPM ancestral step (sharing the noise through a seeded generator), and q_sample.
"""

from __future__ import annotations

import pytest
import torch

from generative.models.diffusion.process import GaussianDiffusion, to_x0_eps
from generative.models.diffusion.samplers import ddim_step, ddpm_step
from generative.models.diffusion.schedules import (
    alpha_bars,
    cosine_betas,
    linear_betas,
    timestep_sequence,
)

diffusers = pytest.importorskip("diffusers")

T = 1000
PREDICTION = {"epsilon": "epsilon", "v": "v_prediction", "x0": "sample"}


@pytest.mark.parametrize(
    ("ours", "theirs"), [(linear_betas(T), "linear"), (cosine_betas(T), "squaredcos_cap_v2")]
)
def test_alpha_bar_matches_diffusers(ours, theirs):
    ref = diffusers.DDPMScheduler(num_train_timesteps=T, beta_schedule=theirs)
    assert torch.allclose(alpha_bars(ours), ref.alphas_cumprod.double(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("spacing", ["leading", "trailing"])
@pytest.mark.parametrize("steps", [1, 7, 50, T])
def test_timestep_sequences_match_diffusers(spacing, steps):
    ref = diffusers.DDIMScheduler(num_train_timesteps=T, timestep_spacing=spacing)
    ref.set_timesteps(steps)
    assert timestep_sequence(T, steps, spacing) == ref.timesteps.tolist()


def _inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x_t = torch.randn(4, 1, 8, 8, generator=g)
    output = torch.randn(4, 1, 8, 8, generator=g)
    noise = torch.randn(4, 1, 8, 8, generator=g)
    return x_t, output, noise


@pytest.mark.parametrize("prediction", ["epsilon", "v", "x0"])
@pytest.mark.parametrize("eta", [0.0, 1.0])
@pytest.mark.parametrize("t", [980, 500, 20, 0])
def test_ddim_step_matches_diffusers(prediction, eta, t):
    ref = diffusers.DDIMScheduler(
        num_train_timesteps=T, clip_sample=False, prediction_type=PREDICTION[prediction]
    )
    ref.set_timesteps(50)  # leading spacing: t' = t - 20, and t = 0 steps to alpha_bar = 1
    x_t, output, noise = _inputs()
    expected = ref.step(output, t, x_t, eta=eta, variance_noise=noise).prev_sample
    ab = ref.alphas_cumprod
    ab_t, ab_prev = ab[t], (ab[t - 20] if t >= 20 else torch.tensor(1.0))
    x0, eps = to_x0_eps(output, x_t, ab_t, prediction)
    ours = ddim_step(x_t, x0, eps, ab_t, ab_prev, eta, noise if eta > 0 else None)
    assert torch.allclose(ours, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("prediction", ["epsilon", "v"])
@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
@pytest.mark.parametrize("t", [999, 300, 1, 0])
def test_ddpm_step_matches_diffusers(prediction, variance, t):
    ref = diffusers.DDPMScheduler(
        num_train_timesteps=T,
        clip_sample=False,
        prediction_type=PREDICTION[prediction],
        variance_type=variance,
    )
    x_t, output, _ = _inputs(1)
    expected = ref.step(output, t, x_t, generator=torch.Generator().manual_seed(7)).prev_sample
    noise = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(7))
    ab = ref.alphas_cumprod
    ab_prev = ab[t - 1] if t > 0 else torch.tensor(1.0)
    x0, _ = to_x0_eps(output, x_t, ab[t], prediction)
    ours = ddpm_step(x_t, x0, ab[t], ab_prev, variance, noise if t > 0 else None)
    assert torch.allclose(ours, expected, rtol=1e-5, atol=1e-5)


def test_q_sample_matches_add_noise():
    ref = diffusers.DDPMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2")
    process = GaussianDiffusion(cosine_betas(T))
    x0, _, noise = _inputs(2)
    t = torch.tensor([0, 10, 500, 999])
    expected = ref.add_noise(x0, noise, t)
    assert torch.allclose(process.q_sample(x0, t, noise), expected, rtol=1e-5, atol=1e-5)
