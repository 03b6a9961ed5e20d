"""VAE: closed forms (KL, reparameterisation, decoder densities), the IWAE bound, and a
linear-Gaussian VAE reaching the probabilistic-PCA maximum likelihood."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from generative.data import DataInfo, Dataset
from generative.models.pca import PPCAParams, ppca_fit, ppca_log_likelihood
from generative.models.vae import VAE, VAEConfig, gaussian_kl, reparameterize
from generative.train import FitConfig, fit

DIGITS = DataInfo("digits", (1, 8, 8), "categorical", num_categories=17, num_classes=10)
BINARY = DataInfo("binary", (1, 8, 8), "binary")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def prototypes(n: int, seed: int = 0) -> torch.Tensor:
    """(n, 1, 8, 8) categorical images: copies of two fixed random prototypes."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.randint(0, 17, (2, 1, 8, 8), generator=g).float()
    return protos[torch.arange(n) % 2]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arch": "rnn"},
        {"decoder": "poisson"},
        {"variance": "learned"},
        {"latent_dim": 0},
        {"dropout": 1.0},
        {"beta": -1.0},
        {"warmup_steps": -1},
        {"fixed_sigma": 0.0},
        {"activation": "swish"},
        {"arch": "conv", "channels": ()},
    ],
)
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        VAEConfig(**kwargs)


def test_conv_needs_images_and_decoders_must_fit_the_data():
    with pytest.raises(ValueError, match="shape"):
        VAE(DataInfo("toy", (2,), "continuous"), VAEConfig(arch="conv"))
    with pytest.raises(ValueError, match="decoder='categorical'"):
        VAE(DataInfo("toy", (2,), "continuous"), VAEConfig(decoder="categorical"))
    with pytest.raises(ValueError, match="num_categories=None"):
        VAE(DataInfo("toy", (2,), "categorical"), VAEConfig())


def test_gaussian_kl_matches_torch_closed_form_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu, log_var = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    q, p = Normal(mu, (0.5 * log_var).exp()), Normal(torch.zeros(3), torch.ones(3))
    torch.testing.assert_close(gaussian_kl(mu, log_var), kl_divergence(q, p).sum(-1))
    z = q.sample((50_000,))  # (S, 5, 3)
    log_ratio = (q.log_prob(z) - p.log_prob(z)).sum(-1)  # (S, 5)
    se = log_ratio.std(0) / math.sqrt(len(z))
    assert ((log_ratio.mean(0) - gaussian_kl(mu, log_var)).abs() < 4 * se).all()


def test_reparameterized_sample_has_the_right_moments_and_gradients():
    torch.manual_seed(0)
    n = 100_000
    mu = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    log_var = torch.tensor([0.0, math.log(4.0), math.log(0.01)], requires_grad=True)
    z = reparameterize(mu.expand(n, 3), log_var.expand(n, 3))  # (n, 3)
    var = log_var.exp().detach()
    assert ((z.mean(0) - mu).abs() < 4 * (var / n).sqrt()).all()
    assert ((z.var(0) - var).abs() < 4 * var * math.sqrt(2 / n)).all()
    z.mean(0).sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones(3))  # dz/dmu = 1
    assert log_var.grad.abs().max() < 0.05  # d E[z]/d log_var = 0, up to noise


def test_loss_reports_the_closed_form_kl_and_beta_scales_it():
    torch.manual_seed(0)
    x = prototypes(32)
    model = VAE(DIGITS, VAEConfig(hidden=(32,), latent_dim=4)).eval()
    heavy = copy.deepcopy(model)
    object.__setattr__(heavy.cfg, "beta", 3.0)  # same weights, beta = 3
    torch.manual_seed(1)
    out = model.loss(x)
    torch.manual_seed(1)
    out3 = heavy.loss(x)
    mu, log_var = model.encode(x)
    torch.testing.assert_close(out["kl"], gaussian_kl(mu, log_var).mean())
    torch.testing.assert_close(out["loss"], out["recon"] + out["kl"])
    torch.testing.assert_close(out["elbo"], -out["loss"])
    torch.testing.assert_close(out3["recon"], out["recon"])
    torch.testing.assert_close(out3["loss"] - out["loss"], 2 * out["kl"])


def test_kl_warmup_ramps_beta_linearly_over_the_training_steps_the_loop_passes():
    model = VAE(BINARY, VAEConfig(hidden=(16,), latent_dim=2, beta=2.0, warmup_steps=10))
    x = (prototypes(8) > 8).float()
    betas = [float(model.loss(x, step=step)["beta"]) for step in range(12)]
    assert betas[:3] == pytest.approx([0.0, 0.2, 0.4])
    assert betas[-2:] == [2.0, 2.0]
    assert float(model.loss(x)["beta"]) == 2.0  # outside training: the full weight
    torch.manual_seed(0)
    first = model.loss(x, step=3)
    torch.manual_seed(0)
    again = model.loss(x, step=3)  # the loss is a function of batch, weights and step
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert "num_updates" not in model.state_dict()


def test_kl_warmup_continues_where_a_resumed_run_left_off(tmp_path):
    cfg = VAEConfig(hidden=(16,), latent_dim=2, beta=2.0, warmup_steps=4)
    x = (prototypes(32) > 8).float()
    data = Dataset(BINARY, x, x[:4], x[:4])
    fit_cfg = FitConfig(steps=6, batch_size=8, log_every=1)
    straight = fit(VAE(BINARY, cfg), data, fit_cfg)
    fit(VAE(BINARY, cfg), data, FitConfig(steps=2, batch_size=8), checkpoint=tmp_path / "c.pt")
    resumed = fit(VAE(BINARY, cfg), data, fit_cfg, checkpoint=tmp_path / "c.pt")
    assert [row["beta"] for row in straight.history] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    # The checkpoint keeps the rows logged before it: the short run's one row (steps 0-1).
    assert [row["beta"] for row in resumed.history] == [0.25, 1.0, 1.5, 2.0, 2.0]


def test_a_checkpoint_with_the_old_step_counter_still_loads():
    model = VAE(BINARY, VAEConfig(hidden=(16,), latent_dim=2))
    old = {**model.state_dict(), "num_updates": torch.tensor(7)}
    fresh = VAE(BINARY, VAEConfig(hidden=(16,), latent_dim=2))
    fresh.load_state_dict(old)  # strict: only the retired buffer is skipped
    assert all(torch.equal(v, fresh.state_dict()[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("variance", ["output", "per_dim", "isotropic", "fixed"])
def test_gaussian_decoder_is_a_normalised_density(variance):
    info = DataInfo("line", (1,), "dequantized", num_categories=17)
    torch.manual_seed(0)
    model = VAE(info, VAEConfig(hidden=(8,), latent_dim=2, variance=variance, fixed_sigma=0.3))
    with torch.no_grad():
        params = model.decoder_params(torch.randn(1, 2))  # (1, 1, m)
        grid = torch.linspace(-30, 30, 200_001).view(-1, 1)
        density = model.log_px_given_z(grid, params.expand(len(grid), -1, -1)).exp()
    assert torch.trapezoid(density, grid[:, 0]).item() == pytest.approx(1.0, abs=1e-4)


def test_categorical_decoder_samples_follow_its_probabilities():
    torch.manual_seed(0)
    model = VAE(DIGITS, VAEConfig(hidden=(16,), latent_dim=2)).eval()
    z = torch.randn(1, 2).expand(20_000, 2)
    probs = model.decoder_params(z[:1]).softmax(-1)[0]  # (D, K)
    draws = model.decode(z, "sample", torch.Generator().manual_seed(0)).view(len(z), -1)
    freq = torch.stack([(draws == k).float().mean(0) for k in range(17)], -1)  # (D, K)
    assert ((freq - probs).abs() < 5 * (probs * (1 - probs) / len(z)).sqrt() + 1e-3).all()
    mean = model.decode(z[:1], "mean")
    torch.testing.assert_close(mean.view(-1), probs @ torch.arange(17.0))


@pytest.mark.parametrize(("info", "arch"), [(DIGITS, "mlp"), (DIGITS, "conv"), (BINARY, "conv")])
def test_samples_have_the_data_shape_and_valid_values(info, arch):
    torch.manual_seed(0)
    model = VAE(info, VAEConfig(arch=arch, hidden=(16,), channels=(4, 8), latent_dim=3)).eval()
    top = (info.num_categories or 2) - 1
    gen = torch.Generator().manual_seed(0)
    for mode in ("sample", "mode"):
        x = model.sample(50, gen=gen, mode=mode)
        assert x.shape == (50, 1, 8, 8)
        assert torch.equal(x, x.round()) and x.min() >= 0 and x.max() <= top
    mean = model.sample(50, gen=gen, mode="mean")
    assert not torch.equal(mean, mean.round()) and mean.min() >= 0 and mean.max() <= top


def test_iwae_bound_starts_at_the_elbo_and_increases_with_k():
    torch.manual_seed(0)
    x = prototypes(40)
    model = VAE(DIGITS, VAEConfig(hidden=(32,), latent_dim=4)).eval()
    gen = torch.Generator().manual_seed(0)

    def bound(k: int, repeats: int = 10) -> torch.Tensor:  # (repeats, B) estimates of L_k
        return torch.stack([model.log_prob(x, k=k, gen=gen) for _ in range(repeats)])

    l1, l10, l100 = bound(1), bound(10), bound(100)
    elbo = torch.stack([-model.loss(x)["loss"] for _ in range(10)])  # beta = 1, eval mode
    se = l1.mean(1).std() / math.sqrt(10)
    assert abs(l1.mean() - elbo.mean()) < 4 * math.sqrt(2) * se
    for lower, upper in ((l1, l10), (l10, l100)):
        gap = (upper - lower).mean(0)  # (B,) per-example mean improvement
        assert gap.mean() > 4 * gap.std() / math.sqrt(len(gap))


def test_log_prob_chunking_does_not_change_the_estimate():
    torch.manual_seed(0)
    x = prototypes(30)
    small = VAE(DIGITS, VAEConfig(hidden=(32,), latent_dim=4, eval_chunk=16)).eval()
    large = copy.deepcopy(small)
    object.__setattr__(large.cfg, "eval_chunk", 1_000_000)
    a = torch.stack([small.log_prob(x, k=50) for _ in range(8)]).mean(0)  # sample chunks
    b = torch.stack([large.log_prob(x, k=50) for _ in range(8)]).mean(0)  # one chunk
    diff = a - b
    assert diff.mean().abs() < 4 * diff.std() / math.sqrt(len(diff)) + 1e-3


def test_vae_learns_two_prototypes():
    x = prototypes(256)
    data = Dataset(DIGITS, x, x[:32], x[:32])
    torch.manual_seed(0)
    model = VAE(DIGITS, VAEConfig(hidden=(64,), latent_dim=2, eval_samples=100))
    before = -model.eval().log_prob(x[:32]).mean()
    fit(model.train(), data, FitConfig(steps=80, batch_size=64, lr=3e-3))
    after = -model.log_prob(x[:32]).mean()
    assert before > 150  # about uniform: 64 ln 17 = 181 nats
    assert after < 15  # the ideal is ln 2 = 0.7 nats


def test_linear_vae_reaches_the_ppca_maximum_likelihood():
    """Tipping & Bishop 1999: x = W z + mu + eps; a linear VAE with a diagonal posterior and
    isotropic noise attains the ML marginal (Lucas et al. 2019)."""
    d, q, n = 16, 2, 500
    g = torch.Generator().manual_seed(0)
    W = torch.randn(d, q, generator=g) * torch.tensor([2.0, 1.0])
    z = torch.randn(n, q, generator=g)
    x = z @ W.T + torch.randn(d, generator=g) + torch.randn(n, d, generator=g)  # sigma = 1
    best = ppca_log_likelihood(x, ppca_fit(x, q)).mean().item()  # about -26 nats

    info = DataInfo("ppca", (d,), "continuous")
    torch.manual_seed(0)
    cfg = VAEConfig(arch="linear", latent_dim=q, variance="isotropic", eval_samples=1000)
    model = VAE(info, cfg)
    fit(
        model,
        Dataset(info, x, x[:8], x[:8]),
        FitConfig(steps=300, batch_size=n, lr=0.05, lr_schedule="cosine"),
    )
    decoder = model.decoder[0]
    learned = PPCAParams(decoder.bias.detach(), decoder.weight.detach(), model.log_var.exp().item())
    exact = ppca_log_likelihood(x, learned).mean().item()
    iwae = model.log_prob(x, gen=torch.Generator().manual_seed(0)).mean().item()
    assert exact <= best + 1e-6  # the ML solution is the maximum
    assert best - exact < 0.01 * abs(best)
    assert abs(iwae - exact) < 0.02  # the bound is tight for the linear model


def test_ppca_fit_maximises_the_closed_form_likelihood():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(300, 3, generator=g) @ torch.randn(3, 6, generator=g)
    x = x + 0.3 * torch.randn(300, 6, generator=g)
    params = ppca_fit(x, 3)
    best = ppca_log_likelihood(x, params).mean()
    reference = torch.distributions.MultivariateNormal(
        params.mu, params.W @ params.W.T + params.sigma2 * torch.eye(6, dtype=torch.float64)
    ).log_prob(x.double())
    torch.testing.assert_close(ppca_log_likelihood(x, params), reference)
    for _ in range(5):
        worse = PPCAParams(
            params.mu,
            params.W + 0.05 * torch.randn(6, 3, generator=g, dtype=torch.float64),
            params.sigma2 * 1.1,
        )
        assert ppca_log_likelihood(x, worse).mean() < best


def test_vae_is_a_bound_model_with_registry_entry():
    from generative.models.vae import FAMILIES

    family = FAMILIES["vae"]
    assert (family.config, family.model, family.likelihood) == (VAEConfig, VAE, "bound")
    assert VAE.likelihood == "bound"
