"""Autoencoders and PCA: PCA's closed form, a linear autoencoder reaching PCA's error, the
MLP/conv variants learning, and the code-Gaussian sampling heuristic."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SklearnPCA
from threadpoolctl import threadpool_limits

from generative.data import DataInfo, Dataset
from generative.models.autoencoder import FAMILIES, Autoencoder, AutoencoderConfig
from generative.models.pca import PCA
from generative.train import FitConfig, fit

CONTINUOUS = DataInfo("digits", (1, 8, 8), "continuous")
CATEGORICAL = DataInfo("digits", (1, 8, 8), "categorical", num_categories=17, num_classes=10)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny problems: extra threads (torch's and NumPy's BLAS) only contend on a shared
    machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


def digits(n: int = 1000) -> torch.Tensor:
    """(n, 1, 8, 8) the first n digits as levels / 16 in [0, 1]."""
    return torch.tensor(load_digits().data[:n] / 16, dtype=torch.float32).view(-1, 1, 8, 8)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"arch": "rbm"},
        {"code_size": 0},
        {"hidden": (0,)},
        {"dropout": -0.1},
        {"code_momentum": 0.0},
        {"activation": "sigmoidish"},
    ],
)
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        AutoencoderConfig(**kwargs)


def test_pca_error_is_the_sum_of_discarded_variances_and_matches_sklearn():
    x = digits(500)
    pca = PCA().fit(x)
    flat = x.reshape(len(x), -1).double()
    comps = pca.components
    torch.testing.assert_close(comps @ comps.T, torch.eye(len(comps), dtype=torch.float64))
    for k in (1, 5, 20):
        assert pca.reconstruction_error(x, k) == pytest.approx(float(pca.variances[k:].sum()))
        ref = SklearnPCA(k, svd_solver="full").fit(flat.numpy())
        recon = ref.inverse_transform(ref.transform(flat.numpy()))
        np.testing.assert_allclose(pca.reconstruct(x, k).reshape(len(x), -1), recon, atol=1e-5)
        np.testing.assert_allclose(
            pca.variances[:k] * len(x) / (len(x) - 1), ref.explained_variance_, rtol=1e-8
        )
    assert pca.encode(x, 3).shape == (500, 3) and pca.decode(torch.zeros(2, 3)).shape == (
        2,
        1,
        8,
        8,
    )
    with pytest.raises(ValueError, match="k=65"):
        pca.encode(x, 65)


def test_linear_autoencoder_reaches_pca_error():
    """Baldi & Hornik 1989: the optimum of a linear autoencoder is PCA's projection."""
    k, x = 8, digits(1000)
    pca_error = PCA().fit(x).reconstruction_error(x, k)
    torch.manual_seed(0)
    model = Autoencoder(CONTINUOUS, AutoencoderConfig(arch="linear", code_size=k))
    data = Dataset(CONTINUOUS, x, x[:10], x[:10])
    cfg = FitConfig(steps=200, batch_size=len(x), lr=0.1, lr_schedule="cosine", grad_clip=0)
    fit(model, data, cfg)
    with torch.no_grad():
        ae_error = model.loss(x)["sse"].item()
        codes = model.encode(x)
    assert pca_error <= ae_error < 1.02 * pca_error  # measured: within 0.7 % over 8 seeds
    # the running averages saw the full batch: they hold the data mean and the code moments
    torch.testing.assert_close(model.input_mean, x.reshape(len(x), -1).mean(0))
    torch.testing.assert_close(model.code_mean, codes.mean(0), atol=0.02, rtol=0)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_nonlinear_autoencoders_learn_to_reconstruct(arch):
    x = digits(256)
    cfg = AutoencoderConfig(arch=arch, code_size=8, hidden=(64,), channels=(8, 16))
    torch.manual_seed(0)
    model = Autoencoder(CONTINUOUS, cfg)
    with torch.no_grad():
        before = model.loss(x)
    assert model.encode(x).shape == (256, 8) and model.reconstruct(x).shape == x.shape
    torch.testing.assert_close(before["sse"], 64 * before["loss"])
    fit(model, Dataset(CONTINUOUS, x, x[:8], x[:8]), FitConfig(steps=120, batch_size=64, lr=3e-3))
    with torch.no_grad():
        after = model.loss(x)
    assert after["sse"] < 0.35 * before["sse"]


def test_categorical_data_is_reconstructed_in_levels_and_sampled_as_levels():
    x = (digits(64) * 16).round()
    torch.manual_seed(0)
    model = Autoencoder(CATEGORICAL, AutoencoderConfig(hidden=(32,))).eval()
    model.fit_codes(x)
    x_hat = model.reconstruct(x)
    assert x_hat.abs().max() > 1.5  # data units, not [0, 1]
    samples = model.sample(100, gen=torch.Generator().manual_seed(0))
    assert samples.shape == (100, 1, 8, 8)
    assert torch.equal(samples, samples.round()) and samples.min() >= 0 and samples.max() <= 16


def test_sample_decodes_the_gaussian_fitted_to_the_codes():
    """For a linear decoder g(h) = D h + c, samples have mean g(m) and covariance D S D^T."""
    x = digits(400)
    torch.manual_seed(0)
    model = Autoencoder(CONTINUOUS, AutoencoderConfig(arch="linear", code_size=3)).eval()
    model.fit_codes(x)
    with torch.no_grad():
        codes = model.encode(x)
        torch.testing.assert_close(model.code_mean, codes.mean(0))
        torch.testing.assert_close(
            model.code_covariance(), torch.cov(codes.T, correction=0), atol=1e-5, rtol=1e-4
        )
        n = 20_000
        samples = model.sample(n, gen=torch.Generator().manual_seed(0)).reshape(n, -1)
        mean = model.decode(model.code_mean[None]).reshape(-1)
        D = model.decoder[0].weight  # (64, 3)
        cov = D @ model.code_covariance() @ D.T  # (64, 64)
    sd = cov.diagonal().sqrt()
    assert ((samples.mean(0) - mean).abs() < 4 * sd / math.sqrt(n) + 1e-5).all()
    assert (
        (samples.var(0) - cov.diagonal()).abs() < 4 * cov.diagonal() * math.sqrt(2 / n) + 1e-6
    ).all()


def test_autoencoder_has_no_likelihood():
    model = Autoencoder(CONTINUOUS, AutoencoderConfig(arch="linear", code_size=2))
    assert model.likelihood == "none"
    with pytest.raises(NotImplementedError, match="Autoencoder"):
        model.log_prob(digits(2))
    family = FAMILIES["autoencoder"]
    assert (family.config, family.model, family.likelihood) == (
        AutoencoderConfig,
        Autoencoder,
        "none",
    )
