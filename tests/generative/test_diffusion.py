"""Diffusion models: the process's closed forms, samplers against an exact denoiser, the bound
against a Monte-Carlo ELBO and the true density, guidance, EMA, latent diffusion, autocast."""

from __future__ import annotations

import math

import pytest
import torch

from generative import registry
from generative.data import DataInfo, Dataset
from generative.models.diffusion import (
    DDPM,
    DDPMConfig,
    LatentDiffusion,
    LatentDiffusionConfig,
)
from generative.models.diffusion.guidance import drop_labels, guided
from generative.models.diffusion.process import (
    GaussianDiffusion,
    discretized_gaussian_log_likelihood,
    prediction_target,
    to_x0_eps,
)
from generative.models.diffusion.samplers import sample_loop
from generative.models.diffusion.schedules import (
    alpha_bars,
    cosine_betas,
    linear_betas,
    make_betas,
    timestep_sequence,
)
from generative.models.diffusion.unet import UNet
from generative.models.gaussian import normal_log_prob
from generative.train import FitConfig, fit

DIGITS = DataInfo("digits", (1, 8, 8), "categorical", num_categories=17, num_classes=10)
TWO = DataInfo("two", (2,), "continuous", num_classes=2)
MU, STD = torch.tensor([0.5, -1.0]), torch.tensor([0.5, 1.5])
"""A 2-D Gaussian N(MU, diag STD^2), whose optimal denoiser is known in closed form."""


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def exact_eps(alpha_bar: torch.Tensor, mu: torch.Tensor = MU, std: torch.Tensor = STD):
    """E[eps | x_t] for x_0 ~ N(mu, std^2): sqrt(1-ab)(x_t - sqrt(ab) mu) / (ab std^2 + 1-ab)."""

    def denoise(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = alpha_bar[t].float()[:, None]
        return (1 - ab).sqrt() * (x_t - ab.sqrt() * mu) / (ab * std**2 + 1 - ab)

    return denoise


# ------------------------------------------------------------------------------ the process
def test_schedules_are_valid_and_cosine_follows_its_closed_form():
    for betas in (linear_betas(1000), cosine_betas(1000)):
        assert betas.dtype == torch.float64 and (betas > 0).all() and (betas <= 0.999).all()
        assert (alpha_bars(betas).diff() < 0).all()
    assert linear_betas(1000)[[0, -1]].tolist() == pytest.approx([1e-4, 0.02])
    # Nichol & Dhariwal's scaling keeps alpha_bar_T near exp(-10) for fewer steps
    assert make_betas("linear", 100).equal(linear_betas(100, 1e-3, 0.2))
    for steps in (20, 100, 1000):
        assert alpha_bars(make_betas("linear", steps))[-1] < 1e-3
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    ab = alpha_bars(cosine_betas(1000))
    assert ab[499].item() == pytest.approx(f(500) / f(0), rel=1e-9)  # unclipped region


def test_first_step_uses_alpha_bar_prev_one_and_clipped_variances():
    for variance in ("fixed_small", "fixed_large"):
        process = GaussianDiffusion(linear_betas(100), variance=variance)
        assert process.alpha_bar_prev[0] == 1.0
        assert process.alpha_bar_prev[1:].equal(process.alpha_bar[:-1])
        assert process.posterior_log_var[0] == process.posterior_log_var[1]  # not log 0
        assert not process.state_dict()  # derived from the config, not saved with weights
        large = process.model_log_var.equal(process.betas.log())  # beta_1 at the decoder
        small = process.model_log_var.equal(process.posterior_log_var)
        assert (large, small) == (variance == "fixed_large", variance == "fixed_small")


def test_q_sample_has_the_forward_marginal_moments():
    process = GaussianDiffusion(linear_betas(1000))
    n, t = 20000, 300
    x0 = torch.full((n, 1), 0.8)
    g = torch.Generator().manual_seed(0)
    x_t = process.q_sample(x0, torch.full((n,), t), torch.randn(n, 1, generator=g))
    ab = process.alpha_bar[t].item()
    sd = math.sqrt(1 - ab)
    assert abs(x_t.mean().item() - math.sqrt(ab) * 0.8) < 4 * sd / math.sqrt(n)
    assert abs(x_t.std().item() - sd) < 4 * sd / math.sqrt(2 * n)


@pytest.mark.parametrize("prediction", ["epsilon", "x0", "v"])
def test_each_parameterisation_recovers_x0_and_eps(prediction):
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(8, 3, generator=g), torch.randn(8, 3, generator=g)
    ab = torch.linspace(0.01, 0.99, 8, dtype=torch.float64)
    x_t = ab.sqrt().float()[:, None] * x0 + (1 - ab).sqrt().float()[:, None] * eps
    x0_hat, eps_hat = to_x0_eps(prediction_target(x0, eps, ab, prediction), x_t, ab, prediction)
    assert torch.allclose(x0_hat, x0, atol=1e-4) and torch.allclose(eps_hat, eps, atol=1e-4)


@pytest.mark.parametrize("levels", [2, 17])
def test_discretized_decoder_sums_to_one_over_the_levels(levels):
    g = torch.Generator().manual_seed(0)
    mean, log_var = torch.randn(5, 1, generator=g), torch.randn(5, 1, generator=g) * 3 - 4
    grid = torch.linspace(-1, 1, levels)[None, :]  # (1, K)
    log_p = discretized_gaussian_log_likelihood(grid, mean, log_var, levels)  # (5, K)
    assert torch.allclose(log_p.exp().sum(1), torch.ones(5), atol=1e-5)
    assert (log_p <= 0).all()


# ------------------------------------------------------------------------------- samplers
def test_samplers_with_the_exact_denoiser_draw_the_data_distribution():
    process = GaussianDiffusion(linear_betas(1000))
    ab, n = process.alpha_bar, 10000
    runs = {
        "ddpm": ("ddpm", 0.0, 1000),
        "ddim_eta1": ("ddim", 1.0, 1000),
        "ddim_eta0": ("ddim", 0.0, 1000),
    }
    x_T = torch.randn(n, 2, generator=torch.Generator().manual_seed(1))
    out = {}
    for name, (sampler, eta, steps) in runs.items():
        g = torch.Generator().manual_seed(2)
        seq = timestep_sequence(1000, steps)
        out[name] = sample_loop(exact_eps(ab), x_T, ab, seq, "epsilon", sampler, eta, gen=g)
        assert (out[name].mean(0) - MU).abs().max() < 4 * STD.max() / math.sqrt(n), name
        assert ((out[name].std(0) - STD).abs() < 4 * STD / math.sqrt(2 * n)).all(), name
    # DDIM with eta = 1 on the full chain is the ancestral sampler: same noise, same path
    assert torch.allclose(out["ddim_eta1"], out["ddpm"], atol=1e-3)


def test_last_step_adds_no_noise_and_eta_zero_is_deterministic():
    ab = GaussianDiffusion(linear_betas(100)).alpha_bar
    x_T = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))

    def run(seq, sampler, eta, seed):
        g = torch.Generator().manual_seed(seed)
        return sample_loop(exact_eps(ab), x_T, ab, seq, "epsilon", sampler, eta, gen=g)

    assert run([0], "ddpm", 0.0, 1).equal(run([0], "ddpm", 0.0, 2))
    assert not run([1, 0], "ddpm", 0.0, 1).equal(run([1, 0], "ddpm", 0.0, 2))
    seq = timestep_sequence(100, 10)
    assert run(seq, "ddim", 0.0, 1).equal(run(seq, "ddim", 0.0, 2))
    assert not run(seq, "ddim", 1.0, 1).equal(run(seq, "ddim", 1.0, 2))


# ---------------------------------------------------------------------------------- bound
@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
def test_bound_equals_a_monte_carlo_elbo_and_stays_below_log_p(variance):
    """Closed-form KL terms against log p(x_{0:T}) - log q(x_{1:T}|x_0) on forward paths."""
    process = GaussianDiffusion(linear_betas(100, 1e-3, 0.2), variance=variance)
    denoise, n = exact_eps(process.alpha_bar), 6000
    g = torch.Generator().manual_seed(0)
    x0 = MU + STD * torch.randn(n, 2, generator=g)
    bound = -process.negative_bound(denoise, x0, "gaussian", gen=g)
    betas, path, elbo = process.betas.float(), [x0], torch.zeros(n)
    for t in range(100):  # forward path and -log q(x_{1:T} | x_0)
        mean = (1 - betas[t]).sqrt() * path[-1]
        path.append(mean + betas[t].sqrt() * torch.randn(n, 2, generator=g))
        elbo -= normal_log_prob(path[-1], mean, betas[t].log()).sum(1)
    elbo += normal_log_prob(path[-1], torch.zeros(()), torch.zeros(())).sum(1)
    for t in range(100):  # + log p(x_{t-1} | x_t) along the path
        tt = torch.full((n,), t)
        mean = process.p_mean(denoise, path[t + 1], tt, clip=False)
        elbo += normal_log_prob(path[t], mean, process.model_log_var[t].float()).sum(1)
    se = math.hypot(bound.std().item(), elbo.std().item()) / math.sqrt(n)
    assert abs(bound.mean().item() - elbo.mean().item()) < 4 * se
    log_p = normal_log_prob(x0, MU, 2 * STD.log()).sum(1)
    assert (bound - log_p).mean().item() < 4 * (bound - log_p).std().item() / math.sqrt(n)


def test_bound_is_tight_on_real_valued_data_with_the_exact_denoiser():
    """T = 1000, a narrow Gaussian (std 0.1, the moons' noise): with the exact denoiser the
    bound's gap is the process's own. fixed_large with beta_1 at the decoder: ~0.07 nats in
    2-D; Ho et al.'s decoder clipped to beta_tilde_1 would add ~0.25; fixed_small: ~1.06."""
    mu, std = torch.tensor([0.5, -1.0]), torch.tensor([0.1, 0.1])
    gaps = {}
    for variance in ("fixed_small", "fixed_large"):
        process = GaussianDiffusion(make_betas("linear", 1000), variance=variance)
        g = torch.Generator().manual_seed(0)
        x0 = mu + std * torch.randn(2000, 2, generator=g)
        nll = -normal_log_prob(x0, mu, 2 * std.log()).sum(1)
        denoise = exact_eps(process.alpha_bar, mu, std)
        gaps[variance] = (process.negative_bound(denoise, x0, "gaussian", gen=g) - nll).mean()
    assert 0 < gaps["fixed_large"] < 0.15  # ~0.07 ± 0.03
    assert gaps["fixed_small"] > gaps["fixed_large"] + 0.6


def test_categorical_bound_is_a_log_probability():
    torch.manual_seed(0)
    cfg = DDPMConfig(timesteps=20, sample_steps=5, channels=(8, 16), embed_dim=16)
    model = DDPM(DIGITS, cfg)
    for p in model.core.net.conv_out.parameters():  # a non-trivial (untrained) denoiser
        torch.nn.init.normal_(p, std=0.1)
    x = torch.randint(0, 17, (6, 1, 8, 8)).float()
    log_p = model.log_prob(x)
    assert log_p.shape == (6,) and torch.isfinite(log_p).all() and (log_p <= 0).all()
    samples = model.sample(3, gen=torch.Generator().manual_seed(0))
    assert samples.shape == (3, 1, 8, 8) and samples.equal(samples.round())
    assert samples.min() >= 0 and samples.max() <= 16


# ------------------------------------------------------------------ training and guidance
def two_gaussians(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class y in {0, 1} with x ~ N((y - 1/2, 0), I): overlapping classes."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g)
    x[:, 0] += y - 0.5
    return x, y


def two_gaussians_log_p(x: torch.Tensor) -> torch.Tensor:
    comps = [normal_log_prob(x, torch.tensor([c, 0.0]), torch.zeros(())) for c in (-0.5, 0.5)]
    return torch.logsumexp(torch.stack([c.sum(1) for c in comps]), 0) - math.log(2)


COND = DDPMConfig(
    timesteps=100,
    hidden=(64, 64),
    embed_dim=32,
    class_conditional=True,
    p_uncond=0.2,
    sample_steps=20,
)


@pytest.fixture(scope="module")
def trained():
    """A class-conditional MLP DDPM fitted for 300 steps (with an EMA), and its initial copy."""
    x, y = two_gaussians(4000, 0)
    data = Dataset(TWO, x, x[:10], x[:10], y, y[:10], y[:10])
    torch.manual_seed(0)
    model = DDPM(TWO, COND)
    initial = DDPM(TWO, COND)
    initial.load_state_dict(model.state_dict())
    result = fit(model, data, FitConfig(steps=300, batch_size=256, lr=3e-3, ema=0.9, log_every=25))
    return result, initial.eval()


def test_loss_decreases_and_bound_improves_towards_the_true_density(trained):
    result, initial = trained
    x, y = two_gaussians(1000, 1)
    held_out = {}  # L_simple on the same held-out draws of (t, eps), the labels kept
    for name, model in (("before", initial), ("after", result.model)):
        denoise = lambda x_t, t, m=model: m.core.network(x_t, t, y)  # noqa: E731
        held_out[name] = model.core.process.training_loss(denoise, x, seeded()).mean().item()
    assert held_out["after"] < 0.7 * held_out["before"]
    before = initial.log_prob(x, y, gen=seeded()).mean().item()
    after = result.model.log_prob(x, y, gen=seeded())
    assert torch.isfinite(after).all()
    assert after.mean().item() > before + 1.0
    gap = after - two_gaussians_log_p(x)  # a bound cannot beat the true density on average
    assert gap.mean().item() < 4 * gap.std().item() / math.sqrt(len(x))
    null_model = result.model.log_prob(x, gen=seeded())  # without labels: the null-class model
    assert torch.isfinite(null_model).all() and not torch.allclose(null_model, after)


def test_guidance_raises_the_class_accuracy_of_samples(trained):
    model = trained[0].model
    labels = torch.arange(2000) % 2
    accuracy = {}
    for w in (0.0, 3.0):
        x = model.sample(2000, labels, gen=torch.Generator().manual_seed(0), guidance=w)
        accuracy[w] = ((x[:, 0] > 0).long() == labels).float().mean().item()  # Bayes rule
    assert accuracy[0.0] < 0.8  # the classes overlap: 0.69 for the true density
    assert accuracy[3.0] > accuracy[0.0] + 0.1


def test_guided_combination_and_label_dropout():
    net = lambda x, t, y: x * (y[:, None].float() + 1)  # noqa: E731  (null = 2: x * 3)
    x, t, y = torch.ones(4, 2), torch.zeros(4, dtype=torch.long), torch.tensor([0, 1, 0, 1])
    out = guided(net, y, 2.0, null=2)(x, t)
    assert torch.allclose(out, 3 * (y[:, None].float() + 1) - 2 * 3)
    assert guided(net, y, -1.0, null=2)(x, t).equal(torch.full((4, 2), 3.0))
    dropped = drop_labels(
        torch.zeros(20000, dtype=torch.long), 0.2, 9, torch.Generator().manual_seed(0)
    )
    assert set(dropped.unique().tolist()) == {0, 9}
    assert abs((dropped == 9).float().mean().item() - 0.2) < 4 * math.sqrt(0.16 / 20000)


def test_ema_copy_averages_weights_and_carries_the_schedule(trained):
    result, _ = trained
    ema, model = result.ema_model, result.model
    assert ema is not model
    assert any(
        not torch.equal(a, b) for a, b in zip(ema.parameters(), model.parameters(), strict=True)
    )
    assert ema.core.process.alpha_bar.equal(model.core.process.alpha_bar)
    x, y = two_gaussians(500, 2)
    assert ema.log_prob(x, y, gen=seeded()).mean() > model.log_prob(x, y, gen=seeded()).mean() - 0.2
    assert torch.isfinite(ema.sample(16, gen=seeded())).all()


# ------------------------------------------------------------------------- latent diffusion
def test_latent_diffusion_trains_the_autoencoder_then_the_prior(tmp_path):
    torch.manual_seed(0)
    x = torch.randint(0, 17, (64, 1, 8, 8)).float()
    y = torch.arange(64) % 10
    data = Dataset(DIGITS, x, x[:8], x[:8], y, y[:8], y[:8])
    cfg = LatentDiffusionConfig(
        timesteps=20, sample_steps=5, hidden=(32,), embed_dim=16, latent_dim=4,
        vae_hidden=(32,), stage1_steps=5,
    )  # fmt: skip
    model = LatentDiffusion(DIGITS, cfg)
    denoiser0 = {k: v.clone() for k, v in model.core.state_dict().items()}
    ckpt = tmp_path / "latent.pt"
    first = fit(model, data, FitConfig(steps=5, batch_size=32, log_every=1), checkpoint=ckpt)
    assert all("autoencoder/loss" in r and "diffusion/loss" not in r for r in first.history)
    vae1 = {k: v.clone() for k, v in model.vae.state_dict().items() if v.is_floating_point()}
    assert all(torch.equal(v, model.core.state_dict()[k]) for k, v in denoiser0.items())
    model = LatentDiffusion(DIGITS, cfg)  # resume: the step count in the checkpoint picks stage 2
    cfg_fit = FitConfig(steps=12, batch_size=32, log_every=1, ema=0.5)
    second = fit(model, data, cfg_fit, checkpoint=ckpt)
    assert second.history[:5] == first.history  # the rows of stage 1, kept by the checkpoint
    assert all("diffusion/loss" in r and "autoencoder/loss" not in r for r in second.history[5:])
    assert [r["step"] for r in second.history] == list(range(1, 13))
    assert all(torch.equal(v, model.vae.state_dict()[k]) for k, v in vae1.items())
    assert any(not torch.equal(v, model.core.state_dict()[k]) for k, v in denoiser0.items())
    assert model.latent_scale > 0 and second.ema_model.latent_scale == model.latent_scale
    log_p = model.log_prob(x[:8], y[:8], gen=torch.Generator().manual_seed(0))
    assert log_p.shape == (8,) and torch.isfinite(log_p).all()
    samples = model.sample(4, gen=torch.Generator().manual_seed(0))
    assert samples.shape == (4, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 16


# ------------------------------------------------------------------------------- autocast
@pytest.mark.parametrize(
    ("info", "cfg"),
    [
        (
            DIGITS,
            DDPMConfig(
                timesteps=50, sample_steps=5, channels=(8, 16), embed_dim=16, class_conditional=True
            ),
        ),
        (
            TWO,
            DDPMConfig(timesteps=50, sample_steps=5, hidden=(32, 32), embed_dim=16, prediction="v"),
        ),
    ],
    ids=["unet", "mlp"],
)
def test_training_under_bfloat16_autocast_stays_finite(info, cfg):
    torch.manual_seed(0)
    model = DDPM(info, cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    if info.kind == "categorical":
        x = torch.randint(0, 17, (16, *info.shape)).float()
    else:
        x = torch.randn(16, *info.shape)
    y = torch.arange(16) % info.num_classes
    t = torch.zeros(16, dtype=torch.long)
    for _ in range(3):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            labels = y if cfg.class_conditional else None
            net_dtype = model.core.network(model.to_diffusion(x), t, labels).dtype
            loss = model.loss(x, y)["loss"]
        assert net_dtype == torch.bfloat16  # autocast is really on
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.isfinite(model.log_prob(x[:4], y[:4])).all()
        assert torch.isfinite(model.sample(4, gen=torch.Generator().manual_seed(0))).all()


# --------------------------------------------------------------------- configs and registry
@pytest.mark.parametrize(
    "kwargs",
    [
        {"schedule": "quadratic"},
        {"prediction": "score"},
        {"variance": "learned"},
        {"denoiser": "transformer"},
        {"sampler": "euler"},
        {"spacing": "linspace"},
        {"timesteps": 1},
        {"sample_steps": 2000},
        {"p_uncond": 1.0},
        {"guidance": -2.0},
        {"embed_dim": 15},
    ],
)
def test_config_rejects_bad_values_naming_the_key(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        DDPMConfig(**kwargs)


def test_models_reject_data_they_cannot_use():
    with pytest.raises(ValueError, match="labelled"):
        DDPM(DataInfo("moons2", (2,), "continuous"), DDPMConfig(class_conditional=True))
    with pytest.raises(ValueError, match="shape"):
        DDPM(TWO, DDPMConfig(denoiser="unet"))
    with pytest.raises(ValueError, match="denoiser"):
        LatentDiffusionConfig(denoiser="unet")
    with pytest.raises(ValueError, match="unconditional"):
        DDPM(TWO, DDPMConfig(timesteps=10, sample_steps=2)).sample(2, cond=torch.tensor([0, 1]))


def test_registry_builds_both_families_on_their_views():
    assert registry.view_for("ddpm", "digits") == "digits"  # discrete decoder on the levels
    assert registry.view_for("ddpm", "ring8") == "ring8"
    assert registry.view_for("latent_diffusion", "digits") == "digits"
    assert isinstance(registry.make("ddpm", DIGITS, {"timesteps": 10, "sample_steps": 2}), DDPM)
    model = registry.make("latent_diffusion", TWO, {"timesteps": 10, "sample_steps": 2})
    assert isinstance(model, LatentDiffusion)


def test_unet_keeps_the_image_shape_and_reads_the_label():
    torch.manual_seed(0)
    net = UNet((3, 16, 16), channels=(8, 16, 16), blocks=2, embed_dim=16, num_classes=4)
    for p in net.parameters():  # the zero-initialised layers make the untrained net output 0
        if not p.any():
            torch.nn.init.normal_(p, std=0.1)
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([3, 7])
    a, b = net(x, t, torch.tensor([0, 1])), net(x, t, torch.tensor([2, 3]))
    assert a.shape == x.shape and not torch.allclose(a, b)
