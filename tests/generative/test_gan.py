"""GAN, WGAN-GP, SNGAN + R1 and PacGAN: losses, penalties, packing, groups, and a short fit."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from generative.data import DataInfo, Dataset
from generative.models.gan import (
    FAMILIES,
    GAN,
    GANR1,
    SNGANR1,
    WGANGP,
    GANConfig,
    GANR1Config,
    PacGAN,
    PacGANConfig,
    SNGANR1Config,
    WGANGPConfig,
    losses,
)
from generative.models.gan.networks import pack
from generative.train import FitConfig, fit

FLAT = DataInfo("toy", (2,), "continuous")
DIGITS = DataInfo("digits", (1, 8, 8), "categorical", num_categories=17, num_classes=10)
SMALL = {"hidden": 16, "depth": 2}


def build(name: str, info: DataInfo = FLAT, **cfg: object):
    family = FAMILIES[name]
    return family.model(info, family.config(**{**SMALL, **cfg}))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def linear_critic(w: torch.Tensor):
    """A hand-built critic D(x) = x . w, whose input gradient is w everywhere."""
    return lambda x: x @ w


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_losses_are_finite_with_expected_diagnostics(name: str) -> None:
    torch.manual_seed(0)
    model = build(name)
    x = torch.randn(8, 2)
    d = model.loss(x, group="discriminator")
    g = model.loss(x, group="generator")
    assert {"loss", "d_real", "d_fake"} <= d.keys() and {"loss", "d_fake"} <= g.keys()
    extra = {"wgan_gp": "gp", "sngan_r1": "r1", "gan_r1": "r1"}.get(name)
    if extra:
        assert d[extra] >= 0
    for value in (*d.values(), *g.values()):
        assert value.dim() == 0 and torch.isfinite(value)
    if name != "wgan_gp":  # cross-entropies are non-negative
        assert d["loss"] >= 0 and g["loss"] >= 0


def test_loss_functions_sign_conventions() -> None:
    hi, lo = torch.full((4,), 5.0), torch.full((4,), -5.0)
    zero = torch.zeros(4)
    assert losses.discriminator_bce(zero, zero) == pytest.approx(2 * math.log(2))
    assert losses.discriminator_bce(hi, lo) < 0.02 < 10 < losses.discriminator_bce(lo, hi)
    assert losses.generator_nonsaturating(hi) < 0.01 < 5 < losses.generator_nonsaturating(lo)
    assert losses.critic_wasserstein(hi, lo) == pytest.approx(-10.0)
    assert losses.generator_wasserstein(hi) == pytest.approx(-5.0)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_each_players_gradient_step_favours_that_player(name: str) -> None:
    torch.manual_seed(0)
    model = build(name, standardize=False)
    x = torch.randn(64, 2) + 3.0  # far from the untrained G's samples near 0
    groups = model.param_groups()

    def gap() -> float:
        torch.manual_seed(1)  # same noise z and penalty draws every time
        out = model.loss(x, group="discriminator")
        return float(out["d_real"] - out["d_fake"])

    def g_loss() -> float:
        torch.manual_seed(2)
        return float(model.loss(x, group="generator")["loss"].detach())

    before = gap()
    opt = torch.optim.SGD(groups["discriminator"], lr=0.05)
    for _ in range(5):
        torch.manual_seed(1)
        opt.zero_grad()
        model.loss(x, group="discriminator")["loss"].backward()
        opt.step()
    assert gap() > before  # D learns to rate data above samples

    before = g_loss()
    opt = torch.optim.SGD(groups["generator"], lr=0.05)
    torch.manual_seed(2)
    opt.zero_grad()
    model.loss(x, group="generator")["loss"].backward()
    opt.step()
    assert g_loss() < before  # G learns to fool D


def test_generator_step_leaves_discriminator_without_gradients() -> None:
    torch.manual_seed(0)
    model = build("gan")
    model.loss(torch.randn(8, 2), group="generator")["loss"].backward()
    assert all(p.grad is None for p in model.discriminator.parameters())
    assert all(p.requires_grad for p in model.discriminator.parameters())
    assert any(p.grad is not None for p in model.generator.parameters())


def test_gradient_penalty_zero_for_unit_gradient_positive_when_steep() -> None:
    torch.manual_seed(0)
    real, fake, eps = torch.randn(32, 3), torch.randn(32, 3), torch.rand(32, 1)
    unit = torch.tensor([0.6, 0.0, 0.8])  # ||w|| = 1
    assert losses.gradient_penalty(linear_critic(unit), real, fake, eps) < 1e-10
    steep = 5 * unit  # ||grad|| = 5 -> (5 - 1)^2 = 16
    assert losses.gradient_penalty(linear_critic(steep), real, fake, eps) == pytest.approx(16.0)


def test_r1_penalty_is_squared_gradient_norm_on_data() -> None:
    real = torch.randn(16, 3).requires_grad_(True)
    w = torch.tensor([1.0, 2.0, 2.0])  # ||w||^2 = 9
    assert losses.r1_penalty(real @ w, real).item() == pytest.approx(9.0)
    quadratic = (real**2).sum(dim=1)  # grad = 2x -> 4 E||x||^2
    expected = 4 * real.detach().pow(2).sum(dim=1).mean()
    assert losses.r1_penalty(quadratic, real).item() == pytest.approx(float(expected), rel=1e-5)


def test_wgan_gp_penalty_in_the_critic_loss() -> None:
    torch.manual_seed(0)
    model = build("wgan_gp")
    for p in model.discriminator.parameters():  # a critic of slope 0 everywhere: GP = 1
        nn.init.zeros_(p)
    out = model.loss(torch.randn(16, 2), group="discriminator")
    assert float(out["gp"]) == pytest.approx(1.0)
    assert out["loss"].item() == pytest.approx(10.0)  # lambda * GP, critic values all 0


def test_spectral_norm_keeps_largest_singular_value_near_one() -> None:
    torch.manual_seed(0)
    model = build("sngan_r1", hidden=32, depth=2)
    layers = [m for m in model.discriminator.modules() if isinstance(m, nn.Linear)]
    for m in layers:  # a steep start: raw weights with singular values far above 1
        with torch.no_grad():
            m.parametrizations.weight.original.mul_(10.0)
    for _ in range(20):  # power iterations run in training-mode forward passes
        model.discriminator(torch.randn(8, 2))
    for m in layers:
        assert torch.linalg.matrix_norm(m.weight.detach(), ord=2) == pytest.approx(1.0, abs=0.02)
    x = torch.randn(64, 2).requires_grad_(True)  # 1-Lipschitz layers -> |grad D| <= 1
    model.discriminator.eval()
    (grad,) = torch.autograd.grad(model.discriminator(x).sum(), x)
    assert grad.norm(dim=1).max() <= 1.0 + 0.02


def test_pack_concatenates_consecutive_samples() -> None:
    x = torch.arange(14.0).reshape(7, 2)
    packed = pack(x, 3)
    assert packed.shape == (2, 6)
    assert torch.equal(packed[1], torch.tensor([6.0, 7.0, 8.0, 9.0, 10.0, 11.0]))
    assert torch.equal(pack(x, 1), x)


@pytest.mark.parametrize("m", [2, 4])
def test_pacgan_discriminator_sees_m_times_d_features(m: int) -> None:
    model = build("pacgan", DIGITS, pac=m)
    first = next(l for l in model.discriminator.modules() if isinstance(l, nn.Linear))
    assert first.in_features == m * 64
    x = torch.randint(0, 17, (12, 1, 8, 8)).float()
    assert model.critic(model.to_unit(x)).shape == (12 // m,)
    assert torch.isfinite(model.loss(x, group="discriminator")["loss"])
    with pytest.raises(ValueError, match="pac"):
        model.loss(x[: m - 1], group="generator")


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_param_groups_are_disjoint_cover_everything_and_fit_accepts_options(name: str) -> None:
    model = build(name)
    groups = model.param_groups()
    assert list(groups) == ["discriminator", "generator"]
    d_ids = {id(p) for p in groups["discriminator"]}
    g_ids = {id(p) for p in groups["generator"]}
    assert not d_ids & g_ids
    assert d_ids | g_ids == {id(p) for p in model.parameters()}
    critic_steps = {"wgan_gp": 5, "pacgan": 2}.get(name, 1)
    assert model.group_steps(0) == {"discriminator": critic_steps, "generator": 1}
    options = model.optimizer_options()
    assert options.keys() == groups.keys()
    for group, params in groups.items():
        opt = torch.optim.AdamW(params, **{"lr": 1.0, **options[group]})  # as `fit` builds it
        assert opt.param_groups[0]["lr"] == options[group]["lr"] > 0
        assert len(opt.param_groups[0]["betas"]) == 2
    expected = (0.5, 0.9) if name == "wgan_gp" else (0.5, 0.999)
    assert options["discriminator"]["betas"] == options["generator"]["betas"] == expected


def test_standardize_fixes_shift_and_scale_from_the_first_batch() -> None:
    torch.manual_seed(0)
    model = build("gan")
    x = torch.tensor([3.0, -2.0]) + torch.tensor([0.5, 2.0]) * torch.randn(512, 2)
    z = model.to_unit(x)
    assert torch.allclose(z.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(z.std(0), torch.ones(2), atol=1e-5)
    assert torch.allclose(model.to_unit(x + 1), z + 1 / model.scale)  # fixed after the first call
    model.eval()
    with torch.no_grad():
        g = model.generator(torch.randn(4, 2, generator=torch.Generator().manual_seed(0)))
    samples = model.sample(4, gen=torch.Generator().manual_seed(0))
    assert torch.allclose(samples, model.shift + model.scale * g)
    raw = build("gan", standardize=False)
    assert torch.equal(raw.to_unit(x), x)


def test_samples_have_the_datas_shape_and_kind() -> None:
    torch.manual_seed(0)
    model = build("gan", DIGITS).eval()
    levels = model.sample(10, gen=torch.Generator().manual_seed(0))
    assert levels.shape == (10, 1, 8, 8)
    assert torch.equal(levels, levels.round()) and levels.min() >= 0 and levels.max() <= 16
    again = model.sample(10, gen=torch.Generator().manual_seed(0))
    assert torch.equal(levels, again)
    unit = build("gan", DataInfo("d", (1, 8, 8), "dequantized", num_categories=17)).eval()
    x = unit.sample(10)
    assert x.shape == (10, 1, 8, 8) and x.min() >= 0 and x.max() <= 1
    assert build("gan").eval().sample(5).shape == (5, 2)
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(2, cond=torch.zeros(2, dtype=torch.long))


def test_no_likelihood_and_unknown_group() -> None:
    model = build("gan")
    assert model.likelihood == "none"
    with pytest.raises(NotImplementedError):
        model.log_prob(torch.randn(3, 2))
    with pytest.raises(ValueError, match="group"):
        model.loss(torch.randn(3, 2), group="model")


@pytest.mark.parametrize(
    ("config_cls", "field", "value"),
    [
        (GANConfig, "latent_dim", 0),
        (GANConfig, "lr_generator", 0.0),
        (GANConfig, "betas", (0.5, 1.0)),
        (WGANGPConfig, "gp_weight", -1.0),
        (GANR1Config, "r1_weight", -0.1),
        (SNGANR1Config, "r1_weight", -0.1),
        (PacGANConfig, "pac", 0),
    ],
)
def test_configs_reject_bad_values(config_cls, field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        config_cls(**{field: value})


def test_default_configs_and_classes_match() -> None:
    assert isinstance(GAN(FLAT).cfg, GANConfig)
    assert WGANGP(FLAT).cfg.critic_steps == 5 and WGANGP(FLAT).cfg.gp_weight == 10.0
    assert SNGANR1(FLAT).spectral and not GANR1(FLAT).spectral and not GAN(FLAT).spectral
    assert PacGAN(FLAT).pac == PacGANConfig().pac and GAN(FLAT).pac == 1


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_fit_moves_samples_toward_a_gaussian(name: str) -> None:
    torch.manual_seed(0)
    mean = torch.tensor([3.0, -2.0])
    x = mean + 0.3 * torch.randn(2048, 2)
    data = Dataset(FLAT, x, x[:64], x[:64])
    model = build(name, hidden=32, lr_discriminator=2e-3, lr_generator=2e-3, standardize=False)
    gen = torch.Generator().manual_seed(0)
    before = (model.eval().sample(1000, gen=gen).mean(0) - mean).norm()
    steps = {"gan": 200, "gan_r1": 200, "pacgan": 200, "sngan_r1": 100, "wgan_gp": 100}[name]
    result = fit(model, data, FitConfig(steps=steps, batch_size=64, device="cpu", log_every=50))
    after = (result.model.sample(1000, gen=gen).mean(0) - mean).norm()
    assert before > 3.0  # samples start near the origin, 3.6 away
    assert after < 0.5 * before  # seeds 0-3 give 0.02-0.25 of the start
    assert result.history[-1]["step"] == steps
