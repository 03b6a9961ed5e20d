"""Energy-based model: Langevin sampling, quadrature log Z, contrastive-divergence learning."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from generative.data import DataInfo, Dataset
from generative.models.ebm import EBM, EBMConfig, sgld
from generative.train import FitConfig, fit

TOY = DataInfo("toy", (2,), "continuous")
SMALL = EBMConfig(hidden=(32, 32), alpha=0.1, sgld_steps=10, buffer_size=512, grid_size=64)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


MEAN = torch.tensor([0.5, -1.0])
STD = torch.tensor([0.5, 0.3])


def gaussian_energy(x: Tensor) -> Tensor:
    """E(x) = |(x - m) / s|^2 / 2, so exp(-E) is N(m, diag(s^2)) up to Z = 2 pi s_1 s_2."""
    return 0.5 * (((x.flatten(1) - MEAN.to(x)) / STD.to(x)) ** 2).sum(-1)


class GaussianEBM(EBM):
    """An EBM whose energy is the known quadratic above."""

    def energy(self, x: Tensor) -> Tensor:
        return gaussian_energy(x)


def test_sgld_samples_the_gaussian_of_a_quadratic_energy() -> None:
    gen = torch.Generator().manual_seed(0)
    n, step = 4000, 0.01
    x = sgld(gaussian_energy, torch.zeros(n, 2), 400, step, math.sqrt(step), gen=gen)
    # discretised Langevin on a quadratic has variance s^2 / (1 - step / (4 s^2))
    var = STD**2 / (1 - step / (4 * STD**2))
    assert ((x.mean(0) - MEAN).abs() < 4 * var.sqrt() / math.sqrt(n)).all()
    assert ((x.var(0) / var - 1).abs() < 4 * math.sqrt(2 / n)).all()


def test_sgld_stays_in_the_box() -> None:
    x = sgld(gaussian_energy, torch.zeros(100, 2), 20, 0.5, 1.0, box=(-0.2, 0.2))
    assert x.min() >= -0.2 and x.max() <= 0.2


def test_quadrature_log_partition_of_a_gaussian_energy() -> None:
    model = GaussianEBM(TOY, EBMConfig(box=(-5.0, 5.0), grid_size=200)).double()
    exact = math.log(2 * math.pi * STD.prod().item())
    assert model.log_partition().item() == pytest.approx(exact, abs=1e-6)
    x = torch.randn(10, 2, dtype=torch.float64) * 0.3 + MEAN
    normal = torch.distributions.Normal(MEAN.double(), STD.double())
    assert torch.allclose(model.log_prob(x), normal.log_prob(x).sum(-1), atol=1e-6)


def test_log_prob_is_minus_infinity_outside_the_box_and_refused_above_2d() -> None:
    model = EBM(TOY, SMALL)
    lp = model.log_prob(torch.tensor([[0.0, 0.0], [4.5, 0.0]]))
    assert torch.isfinite(lp[0]) and lp[1] == -math.inf
    assert model.likelihood == "exact"
    cube = EBM(DataInfo("cube", (3,), "continuous"), SMALL)
    assert cube.likelihood == "none"
    with pytest.raises(NotImplementedError, match="D=3"):
        cube.log_prob(torch.zeros(2, 3))


def test_training_lowers_data_energy_relative_to_noise() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 2, generator=gen) * 0.3 + torch.tensor([1.0, -1.0])
    data = Dataset(TOY, x[:1600], x[1600:1800], x[1800:])
    torch.manual_seed(0)
    model = EBM(TOY, SMALL)
    noise = torch.rand(2000, 2, generator=gen) * 8 - 4  # uniform over the default box

    def gap() -> float:
        with torch.no_grad():
            return (model.energy(noise).mean() - model.energy(data.test).mean()).item()

    before = gap()
    fit(model, data, FitConfig(steps=60, batch_size=128, lr=3e-3, device="cpu"))
    assert gap() > before + 3.0
    with torch.no_grad():  # and the normalised density now favours the data
        assert model.log_prob(data.test).mean() > -math.log(64.0) + 2.0


def test_replay_buffer_is_updated_and_saved() -> None:
    torch.manual_seed(0)
    model = EBM(TOY, SMALL)
    before = model.replay.clone()
    model.loss(torch.randn(64, 2))
    changed = (model.replay != before).any(-1).sum().item()
    assert 0 < changed <= 64
    clone = EBM(TOY, SMALL)
    clone.load_state_dict(model.state_dict())
    assert torch.equal(clone.replay, model.replay)
    gen_a, gen_b = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(clone.sample(16, gen=gen_a), model.sample(16, gen=gen_b))


def test_samples_have_data_shape_and_stay_in_the_box() -> None:
    info = DataInfo("img", (1, 2, 2), "dequantized", num_categories=17)
    model = EBM(info, EBMConfig(hidden=(16,), sample_steps=5, buffer_size=64))
    x = model.sample(32, gen=torch.Generator().manual_seed(0))
    assert x.shape == (32, 1, 2, 2)
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="step_size=0"):
        EBMConfig(step_size=0)
    with pytest.raises(ValueError, match="reinit_prob=1.5"):
        EBMConfig(reinit_prob=1.5)
    with pytest.raises(ValueError, match=r"box=\(1.0, -1.0\)"):
        EBMConfig(box=(1.0, -1.0))
    with pytest.raises(ValueError, match="sgld_steps=0"):
        EBMConfig(sgld_steps=0)
    with pytest.raises(ValueError, match="'binary'"):
        EBM(DataInfo("bits", (4,), "binary"), EBMConfig())
