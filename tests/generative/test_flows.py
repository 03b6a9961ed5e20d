"""RealNVP, MAF and NSF: invertibility, log-determinants, normalisation, gradients, checkpoints."""

from __future__ import annotations

import math

import pytest
import torch

from generative import registry
from generative.data import DataInfo, Dataset
from generative.models.flows import (
    MAF,
    NSF,
    MAFConfig,
    NSFConfig,
    RealNVP,
    RealNVPConfig,
    spline,
)
from generative.models.flows.layers import MADE, ActNorm
from generative.train import FitConfig, fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")


SMALL = {
    "realnvp": RealNVPConfig(num_layers=4, hidden=(16, 16)),
    "maf": MAFConfig(num_layers=3, hidden=(16, 16)),
    "realnvp-random": RealNVPConfig(num_layers=4, hidden=(16, 16), masks="random", seed=1),
    "maf-random": MAFConfig(num_layers=3, hidden=(16, 16), orders="random", seed=1),
    "nsf": NSFConfig(num_layers=3, hidden=(16, 16), bins=5),
}
FAMILIES = ["realnvp", "maf", "nsf"]


def make(name: str, info: DataInfo) -> RealNVP | MAF | NSF:
    cfg = SMALL[name]
    return registry.FAMILIES[name.split("-")[0]].model(info, cfg)


def perturbed(name: str, info: DataInfo, scale: float = 0.3, seed: int = 0) -> RealNVP | MAF | NSF:
    """A float64 flow far from the identity: ActNorm initialised on data, weights jittered."""
    torch.manual_seed(seed)
    model = make(name, info).double()
    x = torch.randn(64, *info.shape, dtype=torch.float64) * 2 + 0.5
    if info.kind == "dequantized":
        x = torch.rand(64, *info.shape, dtype=torch.float64)
    model.train()
    model.log_prob(x)  # data-dependent ActNorm initialisation
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn_like(p))
    return model.eval()


@pytest.mark.parametrize("name", list(SMALL))
@pytest.mark.parametrize(
    "info",
    [
        DataInfo("flat", (5,), "continuous"),
        DataInfo("img", (1, 2, 3), "dequantized", num_categories=17),
    ],
)
def test_inverse_recovers_data(name: str, info: DataInfo) -> None:
    model = perturbed(name, info, scale=0.3 if info.kind == "continuous" else 0.1)
    x = torch.rand(32, *info.shape, dtype=torch.float64) * 0.98 + 0.01
    z, _ = model.to_base(x)
    assert torch.allclose(model.from_base(z), x, atol=1e-5, rtol=0)
    z = torch.randn(32, info.dim, dtype=torch.float64)
    assert torch.allclose(model.to_base(model.from_base(z))[0], z, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", list(SMALL))
@pytest.mark.parametrize("D", [2, 3, 4])
def test_log_det_matches_autograd_jacobian(name: str, D: int) -> None:
    model = perturbed(name, DataInfo("flat", (D,), "continuous"), seed=D)
    x = torch.randn(6, D, dtype=torch.float64)
    _, log_det = model.to_base(x)
    for xi, ld in zip(x, log_det, strict=True):
        J = torch.autograd.functional.jacobian(lambda v: model.to_base(v[None])[0][0], xi)
        assert torch.linalg.slogdet(J).logabsdet.item() == pytest.approx(ld.item(), abs=1e-8)


def test_logit_preprocessing_log_det_matches_autograd() -> None:
    info = DataInfo("img", (3,), "dequantized", num_categories=17)
    model = perturbed("realnvp", info)
    y = torch.rand(4, 3, dtype=torch.float64)
    _, log_det = model.to_base(y)
    for yi, ld in zip(y, log_det, strict=True):
        J = torch.autograd.functional.jacobian(lambda v: model.to_base(v[None])[0][0], yi)
        assert torch.linalg.slogdet(J).logabsdet.item() == pytest.approx(ld.item(), abs=1e-8)


def grid_2d(low: float, high: float, n: int) -> tuple[torch.Tensor, float]:
    h = (high - low) / n
    axis = low + h * (torch.arange(n, dtype=torch.float64) + 0.5)
    return torch.cartesian_prod(axis, axis), h * h


@pytest.mark.parametrize("name", FAMILIES)
def test_density_integrates_to_one_in_2d(name: str) -> None:
    model = perturbed(name, DataInfo("toy", (2,), "continuous"), scale=0.05)
    grid, cell = grid_2d(-20.0, 20.0, 500)
    with torch.no_grad():
        mass = (model.log_prob(grid).exp() * cell).sum().item()
    assert mass == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("name", FAMILIES)
def test_sample_mean_matches_density_mean(name: str) -> None:
    """Sampling inverts the density: sample mean ~ integral of x p(x) dx (4 sigma band)."""
    model = perturbed(name, DataInfo("toy", (2,), "continuous"), scale=0.05)
    grid, cell = grid_2d(-20.0, 20.0, 500)
    with torch.no_grad():
        weights = model.log_prob(grid).exp() * cell  # (G,)
    mean = (weights[:, None] * grid).sum(0) / weights.sum()
    x = model.sample(20000, gen=torch.Generator().manual_seed(0))
    se = x.std(0) / math.sqrt(len(x))
    assert ((x.mean(0) - mean).abs() < 4 * se).all()


@pytest.mark.parametrize("name", FAMILIES)
def test_gradients_reach_every_parameter(name: str) -> None:
    torch.manual_seed(0)
    model = make(name, DataInfo("flat", (4,), "continuous")).train()
    model.loss(torch.randn(32, 4))["loss"].backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", FAMILIES)
def test_state_dict_round_trip(name: str) -> None:
    info = DataInfo("img", (1, 2, 2), "dequantized", num_categories=17)
    model = perturbed(name, info).float()
    clone = make(name, info)
    clone.load_state_dict(model.state_dict())
    clone.eval()
    x = torch.rand(16, *info.shape)
    assert torch.equal(clone.log_prob(x), model.log_prob(x))
    assert all(m.initialized for m in clone.modules() if isinstance(m, ActNorm))
    gen_a, gen_b = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(clone.sample(8, gen=gen_a), model.sample(8, gen=gen_b))


@pytest.mark.parametrize("name", FAMILIES)
def test_samples_have_data_shape_and_dequantized_range(name: str) -> None:
    info = DataInfo("img", (1, 3, 3), "dequantized", num_categories=17)
    x = perturbed(name, info, scale=1.0).float().sample(500, gen=torch.Generator().manual_seed(0))
    assert x.shape == (500, 1, 3, 3) and x.dtype == torch.float32
    assert x.min() >= 0 and x.max() < 1


def test_made_is_autoregressive_in_its_order() -> None:
    order = torch.tensor([2, 0, 3, 1])  # position of each dimension
    made = MADE(order, hidden=(12, 12), activation="relu").double()
    with torch.no_grad():
        for p in made.parameters():
            p.add_(torch.randn_like(p))
    J = torch.autograd.functional.jacobian(made, torch.randn(4, dtype=torch.float64))  # (8, 4)
    allowed = order[:, None] > order[None, :]  # output i may see input j iff j comes first
    assert (J[:4][~allowed] == 0).all() and (J[4:][~allowed] == 0).all()
    assert (J[:4][allowed] != 0).all()


def test_actnorm_standardises_its_first_training_batch() -> None:
    layer = ActNorm(3).train()
    z, log_det = layer(torch.randn(500, 3) * torch.tensor([0.1, 2.0, 5.0]) + 7.0)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=1e-4)
    assert torch.allclose(z.std(0), torch.ones(3), atol=1e-3)
    assert log_det[0].item() == pytest.approx(-math.log(0.1 * 2.0 * 5.0), abs=0.2)


@pytest.mark.parametrize("name", FAMILIES)
def test_fit_learns_a_correlated_gaussian(name: str) -> None:
    """Trained NLL on a 2-D Gaussian gets within 0.1 nats of its entropy (from > 3 nats)."""
    gen = torch.Generator().manual_seed(0)
    L = torch.tensor([[1.0, 0.0], [0.8, 0.3]])
    x = torch.randn(4000, 2, generator=gen) @ L.T + torch.tensor([1.0, -2.0])
    entropy = 1.0 + math.log(2 * math.pi) + math.log(L.diag().prod().item())
    info = DataInfo("gauss", (2,), "continuous")
    data = Dataset(info, x[:3000], x[3000:3500], x[3500:])
    cfg = FitConfig(steps=150, batch_size=256, lr=3e-3, device="cpu")
    model = fit(make(name, info), data, cfg).model
    with torch.no_grad():
        nll = -model.log_prob(data.test).mean().item()
    assert nll - entropy < 0.1


def test_configs_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="num_layers=0"):
        RealNVPConfig(num_layers=0)
    with pytest.raises(ValueError, match="masks='checker'"):
        RealNVPConfig(masks="checker")
    with pytest.raises(ValueError, match="orders='sorted'"):
        MAFConfig(orders="sorted")
    with pytest.raises(ValueError, match="logit_alpha=0.5"):
        MAFConfig(logit_alpha=0.5)
    with pytest.raises(ValueError, match="clamp=0"):
        MAFConfig(clamp=0)
    with pytest.raises(ValueError, match="actnorm='always'"):
        NSFConfig(actnorm="always")
    with pytest.raises(ValueError, match=r"hidden=\(\)"):
        RealNVPConfig(hidden=())


def test_unsupported_data_is_refused() -> None:
    with pytest.raises(ValueError, match="'categorical'"):
        MAF(DataInfo("digits", (1, 8, 8), "categorical", num_categories=17), MAFConfig())
    with pytest.raises(ValueError, match="D >= 2"):
        RealNVP(DataInfo("line", (1,), "continuous"), RealNVPConfig())
    model = MAF(DataInfo("toy", (2,), "continuous"), MAFConfig())
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(2, cond=torch.zeros(2, dtype=torch.long))


def test_rational_quadratic_spline_is_a_monotone_bijection_with_its_log_det() -> None:
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(2000, generator=gen, dtype=torch.float64) * 3).requires_grad_(True)
    params = torch.randn(2000, spline.num_params(6), generator=gen, dtype=torch.float64) * 2
    y, log_det = spline.rational_quadratic(x, params, bound=4.0)
    (dy_dx,) = torch.autograd.grad(y.sum(), x)
    assert (dy_dx > 0).all()
    assert torch.allclose(dy_dx.log(), log_det, atol=1e-9)
    outside = x.abs() > 4.0
    assert torch.equal(y[outside], x[outside]) and (log_det[outside] == 0).all()
    x_back, log_det_inv = spline.rational_quadratic(y, params, bound=4.0, inverse=True)
    assert torch.allclose(x_back, x, atol=1e-8) and torch.allclose(log_det_inv, -log_det, atol=1e-8)
    y0, _ = spline.rational_quadratic(x, torch.zeros_like(params), bound=4.0)
    assert torch.allclose(y0, x, atol=1e-12)  # zero parameters give the identity


def test_an_unknown_activation_is_a_value_error_naming_the_allowed_ones():
    allowed = "activation='swish'; allowed: elu, gelu, relu, silu, tanh"
    with pytest.raises(ValueError, match=allowed):
        MADE(torch.arange(3), hidden=(8,), activation="swish")
    with pytest.raises(ValueError, match=allowed):
        RealNVPConfig(activation="swish")
