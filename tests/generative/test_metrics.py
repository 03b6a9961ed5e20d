"""generative.metrics: each metric's behaviour on cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import linalg
from threadpoolctl import threadpool_limits

from generative import data
from generative.data import toys
from generative.metrics import features as feat
from generative.metrics import frechet, kernel, likelihood, modes, prdc


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small matrices: extra BLAS/torch threads only contend on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)


def gaussians(n: int, dim: int, seed: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return shift + scale * np.random.default_rng(seed).standard_normal((n, dim))


# likelihood


def test_unit_conversions_round_trip():
    nll = torch.tensor([100.0, 44.36])
    bpd = likelihood.bits_per_dim(nll, 64)
    assert torch.allclose(bpd, nll / (64 * math.log(2)))
    assert torch.allclose(likelihood.nats_from_bits_per_dim(bpd, 64), nll)
    assert likelihood.kl_from_nll(3.5, 1.25) == 2.25


def test_dequantization_bound_is_tight_for_the_uniform_density():
    # p(y) = 1 on [0, 1)^D is P(x) = levels^-D exactly: the bound is an equality.
    dim, levels = 64, 17
    bound = likelihood.dequantized_nll_bound(np.zeros(3), dim, levels)
    assert np.allclose(bound, dim * math.log(levels))


def test_grid_log_partition_of_gaussians():
    def log_f(x):  # unnormalised N(1, 0.3^2) x N(-1, 0.5^2), as a torch function
        x = torch.as_tensor(x)
        return -0.5 * ((x[:, 0] - 1) / 0.3) ** 2 - 0.5 * ((x[:, 1] + 1) / 0.5) ** 2

    log_z = likelihood.grid_log_partition(log_f, ((-2, 4), (-4, 2)), n=201, chunk=1000)
    assert abs(log_z - math.log(2 * math.pi * 0.3 * 0.5)) < 1e-8
    with pytest.raises(ValueError, match="lo < hi"):
        likelihood.grid_log_partition(log_f, ((1, 0), (0, 1)))


# Fréchet distance


def test_frechet_zero_for_identical_sets_and_matches_closed_form():
    x = gaussians(2000, 8, seed=0)
    assert abs(frechet.frechet_distance(x, x)) < 1e-8
    mu, sigma = frechet.gaussian_stats(x)
    # FD(N(m1, S1), N(m2, S2)) by the textbook formula with scipy's sqrtm
    s2 = sigma @ np.diag(np.linspace(0.5, 2, 8)) @ sigma + 0.1 * np.eye(8)
    m2 = mu + 0.3
    expected = np.sum(0.09 * np.ones(8)) + np.trace(sigma + s2 - 2 * linalg.sqrtm(sigma @ s2).real)
    assert abs(frechet.frechet_from_stats(mu, sigma, m2, s2) - expected) < 1e-6


def test_frechet_grows_with_shift_and_exceeds_the_real_floor():
    real, same = gaussians(2000, 4, seed=0), gaussians(2000, 4, seed=1)
    floor = frechet.real_floor(real, np.random.default_rng(0))
    fds = [frechet.frechet_distance(real, same + s) for s in (0.0, 0.5, 1.0)]
    assert 0 < floor < 0.05 and fds[0] < 0.05
    assert fds[0] < fds[1] < fds[2]
    assert abs(fds[2] - 4.0) < 0.3  # ||shift||^2 = 4 x 1^2
    assert frechet.frechet_distance(torch.as_tensor(real), same) == pytest.approx(fds[0])


# kernel distances


def test_mmd_matches_naive_formula_and_detects_shift():
    x, y = gaussians(60, 3, seed=0), gaussians(50, 3, seed=1, shift=0.5)
    h = 1.3
    k = lambda a, b: np.exp(-np.sum((a[:, None] - b[None]) ** 2, -1) / (2 * h**2))  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    naive = (
        (kxx.sum() - np.trace(kxx)) / (60 * 59)
        + (kyy.sum() - np.trace(kyy)) / (50 * 49)
        - 2 * kxy.mean()
    )
    assert kernel.mmd2(x, y, bandwidth=h) == pytest.approx(naive, rel=1e-10)

    real = gaussians(500, 3, seed=2)
    same, shifted = gaussians(500, 3, seed=3), gaussians(500, 3, seed=3, shift=0.5)
    assert abs(kernel.mmd2(real, real)) < 2 / 500  # identical: exactly 2 (mean k_off - 1) / m
    assert abs(kernel.mmd2(real, same)) < 0.01
    assert kernel.mmd2(real, shifted) > 0.05


def test_kid_near_zero_for_same_distribution_and_positive_for_shift():
    real, same = gaussians(600, 16, seed=0), gaussians(600, 16, seed=1)
    shifted = gaussians(600, 16, seed=1, shift=0.3)
    on_self = kernel.kid(real, real, n_subsets=10, subset_size=200)
    on_same = kernel.kid(real, same, n_subsets=10, subset_size=200)
    on_shift = kernel.kid(real, shifted, n_subsets=10, subset_size=200)
    assert abs(on_same.mean) < 3 * on_same.std + 1e-3 and abs(on_self.mean) < 0.05
    assert on_shift.mean > on_same.mean + 5 * on_shift.std
    assert kernel.kid(real, same, n_subsets=10, subset_size=200) == on_same  # default rng seeded


# precision / recall / density / coverage


def test_prdc_identical_samples():
    x = toys.ring8().sample(1000, np.random.default_rng(0))
    scores = prdc.prdc(x, x)
    assert scores["precision"] == scores["recall"] == scores["coverage"] == 1.0
    assert 0.9 < scores["density"] < 1.3


def test_dropped_mode_lowers_recall_and_coverage_not_precision():
    ring = toys.ring8()
    real, _ = ring.sample_labelled(2000, np.random.default_rng(0))
    fake, labels = ring.sample_labelled(2300, np.random.default_rng(1))
    fake = fake[labels != 0][:2000]  # mode 0 missing
    scores = prdc.prdc(real, fake)
    assert scores["precision"] > 0.95 and scores["density"] > 0.85
    assert abs(scores["recall"] - 7 / 8) < 0.03 and abs(scores["coverage"] - 7 / 8) < 0.03


def test_off_data_samples_lower_precision_and_density():
    ring = toys.ring8()
    real = ring.sample(2000, np.random.default_rng(0))
    good = ring.sample(2000, np.random.default_rng(1))
    off = np.random.default_rng(2).uniform(-3, 3, (1000, 2))
    off = off[np.min(np.linalg.norm(off[:, None] - ring.modes, axis=-1), 1) > 0.5]
    fake = np.concatenate([good, off])
    precision, recall = prdc.precision_recall(real, fake)
    density, coverage = prdc.density_coverage(real, fake)
    share_good = len(good) / len(fake)
    assert abs(precision - share_good) < 0.03 and abs(density - share_good) < 0.1
    assert recall > 0.9 and coverage > 0.9
    with pytest.raises(ValueError, match="k=5"):
        prdc.knn_radii(real[:5], 5)


# mode coverage


def test_mode_coverage_counts_modes_and_high_quality_share():
    grid = toys.grid25()
    x, labels = grid.sample_labelled(modes.SAMPLES, np.random.default_rng(0))
    full = modes.mode_coverage(x, grid.modes, grid.std)
    assert full.modes_covered == 25 and full.counts.sum() == round(full.high_quality * len(x))
    p_inside = 1 - math.exp(-9 / 2)  # P(chi^2_2 < 3^2)
    assert abs(full.high_quality - p_inside) < 4 * math.sqrt(p_inside * (1 - p_inside) / len(x))
    assert full.kl_uniform < 0.02

    dropped = modes.mode_coverage(x[labels >= 3], grid.modes, grid.std)
    assert dropped.modes_covered == 22 and dropped.kl_uniform > full.kl_uniform

    blurred = x + np.random.default_rng(1).normal(0, 3 * grid.std, x.shape)
    worse = modes.mode_coverage(torch.as_tensor(blurred), grid.modes, grid.std)
    assert worse.high_quality < 0.6 * full.high_quality

    one = np.concatenate([x[labels != 0], grid.modes[:1] + 0.01])  # mode 0: one good sample
    assert modes.mode_coverage(one, grid.modes, grid.std).modes_covered == 25
    assert modes.mode_coverage(one, grid.modes, grid.std, min_count=2).modes_covered == 24
    assert math.isnan(modes.mode_coverage(x + 100, grid.modes, grid.std).kl_uniform)


# features


def test_feature_inputs_are_normalised_across_views():
    cat, cont = data.load("digits"), data.load("digits_continuous")
    noisy = cont.dequantize(cont.test, torch.Generator().manual_seed(0))
    unit = feat.to_unit(cat.test, "categorical")
    assert torch.equal(unit, feat.to_unit(cont.test, "dequantized"))
    assert (unit != feat.to_unit(noisy, "dequantized")).float().mean() < 1e-3
    assert unit.min() == 0 and unit.max() == 1
    with pytest.raises(ValueError, match="kind='binary'"):
        feat.to_unit(cat.test, "binary")
    toy_info = data.load("ring8", n_train=5, n_val=5, n_test=5).info
    x = torch.randn(7, 2)
    assert np.array_equal(feat.embed(x, toy_info), x.double().numpy())


@pytest.mark.slow
def test_digit_classifier_accuracy_and_feature_distances():
    """Trains the cached classifier once (about 1.5 s of CPU)."""
    cat, cont = data.load("digits"), data.load("digits_continuous")
    accuracy = (feat.predict(cat.test) == cat.test_labels).float().mean().item()
    assert accuracy >= 0.95
    assert torch.equal(feat.predict(cont.test, "dequantized"), feat.predict(cat.test))

    real = feat.embed(cat.train, cat.info)
    assert real.shape == (len(cat.train), 64)
    test = feat.embed(cat.test, cat.info)
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(0))
    scrambled = feat.embed(cat.test.reshape(-1, 64)[:, perm].reshape(-1, 1, 8, 8), cat.info)
    assert frechet.frechet_distance(real, test) * 10 < frechet.frechet_distance(real, scrambled)
