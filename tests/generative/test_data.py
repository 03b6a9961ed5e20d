"""generative.data: registry, splits, and the toys' exact densities checked against samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from generative import data
from generative.data import digits, toys
from generative.metrics.likelihood import grid_log_partition

TOY_NAMES = ["moons", "ring8", "grid25", "swissroll", "checkerboard"]

# Boxes holding all but a negligible part of each toy's mass (>= 6 std beyond the support).
BOUNDS = {
    "moons": ((-1.7, 2.7), (-1.2, 1.7)),
    "ring8": ((-2.2, 2.2), (-2.2, 2.2)),
    "grid25": ((-4.4, 4.4), (-4.4, 4.4)),
    "swissroll": ((-4.2, 4.2), (-4.2, 4.2)),
    "checkerboard": ((-4.0, 4.0), (-4.0, 4.0)),
}


def test_unknown_name_lists_known_ones():
    with pytest.raises(KeyError, match="known: .*digits.*moons"):
        data.load("mnist")
    with pytest.raises(KeyError, match="known: .*ring8"):
        toys.density("spiral")


@pytest.mark.parametrize("name", sorted(data.LOADERS))
def test_loaders_are_fixed_by_seed(name):
    a, b, c = data.load(name, seed=0), data.load(name, seed=0), data.load(name, seed=1)
    assert a.info.name == name
    for split in ("train", "val", "test"):
        x = getattr(a, split)
        assert x.dtype == torch.float32 and x.shape[1:] == a.info.shape and len(x) > 0
        assert torch.equal(x, getattr(b, split))
        labels = getattr(a, f"{split}_labels")
        if a.info.num_classes is None:
            assert labels is None
        else:
            assert labels.dtype == torch.int64 and len(labels) == len(x)
            assert labels.min() >= 0 and labels.max() < a.info.num_classes
    assert not torch.equal(a.train, c.train)


def test_toy_split_sizes_are_options_and_do_not_change_other_splits():
    small = data.load("moons", seed=3, n_train=100, n_val=10, n_test=20)
    big = data.load("moons", seed=3, n_train=200, n_val=10, n_test=20)
    assert (len(small.train), len(small.val), len(small.test)) == (100, 10, 20)
    assert torch.equal(small.val, big.val) and torch.equal(small.test, big.test)
    with pytest.raises(ValueError, match="n_val=0"):
        data.load("moons", n_val=0)
    with pytest.raises(TypeError):
        data.load("moons", std=0.1)  # moons takes `noise`


def test_digits_splits_disjoint_stratified_and_shared_by_views():
    levels, labels = digits.digits_arrays()
    train, val, test = digits.digits_split(0)
    assert len(np.unique(np.concatenate([train, val, test]))) == len(labels) == 1797
    assert len(train) + len(val) + len(test) == 1797
    for idx, share in ((train, 0.70), (val, 0.15), (test, 0.15)):
        counts = np.bincount(labels[idx], minlength=10)
        assert np.all(np.abs(counts - share * np.bincount(labels)) <= 1)
    assert not np.array_equal(digits.digits_split(1)[2], test)

    cat, cont = data.load("digits", seed=0), data.load("digits_continuous", seed=0)
    assert cat.info.kind == "categorical" and cat.info.num_categories == 17
    assert cont.info.kind == "dequantized" and cat.info.num_classes == 10
    assert torch.equal(
        cat.test, torch.as_tensor(levels[test], dtype=torch.float32).view(-1, 1, 8, 8)
    )
    assert torch.equal(cat.test, torch.round(cont.test * 17))
    assert torch.equal(cat.train_labels, cont.train_labels)
    assert (
        cat.train.min() == 0 and cat.train.max() == 16 and torch.equal(cat.train, cat.train.round())
    )
    noisy = cont.dequantize(cont.train, torch.Generator().manual_seed(0))
    assert torch.equal(torch.floor(noisy * 17), cat.train) and noisy.max() < 1


def test_tabular_views():
    tab, binary = data.load("digits_tabular"), data.load("digits_binary")
    images = data.load("digits")
    assert torch.equal(tab.test, images.test.reshape(-1, 64))
    assert torch.equal(binary.test, (images.test.reshape(-1, 64) >= 8).float())
    assert binary.info.kind == "binary" and tab.info.kind == "categorical"
    cancer = data.load("breast_cancer")
    assert cancer.info.shape == (30,) and cancer.info.num_classes == 2
    n = len(cancer.train) + len(cancer.val) + len(cancer.test)
    assert n == 569 and len(cancer.train) >= 0.69 * n
    assert torch.allclose(cancer.train.mean(0), torch.zeros(30), atol=1e-5)
    assert torch.allclose(cancer.train.std(0, unbiased=False), torch.ones(30), atol=1e-4)
    raw = data.load("wine", standardize=False)
    assert raw.train.max() > 100  # proline in raw units


@pytest.mark.parametrize("name", TOY_NAMES)
def test_toy_density_integrates_to_one(name):
    toy = toys.density(name)
    n = 801 if name == "checkerboard" else 400
    assert abs(grid_log_partition(toy.log_density, BOUNDS[name], n)) < (5e-3 if n == 801 else 1e-4)


@pytest.mark.parametrize("name", TOY_NAMES)
def test_toy_entropy_matches_monte_carlo(name):
    toy = toys.density(name)
    log_p = toy.log_density(toy.sample(20000, np.random.default_rng(0)))
    assert np.all(np.isfinite(log_p))
    standard_error = max(log_p.std() / math.sqrt(len(log_p)), 1e-9)
    assert abs(toy.entropy() + log_p.mean()) < 4 * standard_error


@pytest.mark.parametrize("name", TOY_NAMES)
def test_toy_histogram_matches_density(name):
    """Chi-square of 20k samples against bin probabilities integrated from log_density."""
    toy, bins, sub = toys.density(name), 12, 10
    (x_lo, x_hi), (y_lo, y_hi) = BOUNDS[name]
    x = toy.sample(20000, np.random.default_rng(1))
    counts, ex, ey = np.histogram2d(x[:, 0], x[:, 1], bins, [[x_lo, x_hi], [y_lo, y_hi]])
    # midpoint rule with sub x sub points per bin
    fx = x_lo + (np.arange(bins * sub) + 0.5) * (x_hi - x_lo) / (bins * sub)
    fy = y_lo + (np.arange(bins * sub) + 0.5) * (y_hi - y_lo) / (bins * sub)
    gx, gy = np.meshgrid(fx, fy, indexing="ij")
    p = np.exp(toy.log_density(np.stack([gx.ravel(), gy.ravel()], 1))).reshape(gx.shape)
    cell = (ex[1] - ex[0]) * (ey[1] - ey[0]) / sub**2
    prob = p.reshape(bins, sub, bins, sub).sum((1, 3)) * cell
    expected = prob * len(x)
    used = expected > 20
    chi2 = np.sum((counts[used] - expected[used]) ** 2 / expected[used])
    dof = used.sum()
    assert counts.sum() == len(x)  # nothing fell outside the box
    assert chi2 < dof + 5 * math.sqrt(2 * dof)
    assert counts[~used].sum() < 0.01 * len(x)


def test_mixtures_have_closed_form_entropy_and_modes():
    ring = toys.ring8()
    assert ring.modes.shape == (8, 2) and ring.std == 0.02
    assert np.allclose(np.linalg.norm(ring.modes, axis=1), 2)
    grid = toys.grid25()
    assert grid.modes.shape == (25, 2) and sorted(set(grid.modes[:, 0])) == [-4, -2, 0, 2, 4]
    for toy in (ring, grid, toys.grid25(std=0.1)):
        k = len(toy.modes)
        exact = math.log(k) + math.log(2 * math.pi * math.e * toy.std**2)
        assert abs(toy.entropy() - exact) < 1e-9
    x, labels = ring.sample_labelled(8000, np.random.default_rng(0))
    assert np.abs(x.mean(0)).max() < 4 * 2 / math.sqrt(8000)
    assert np.all(np.linalg.norm(x - ring.modes[labels], axis=1) < 6 * ring.std)
    with pytest.raises(ValueError, match="std=0"):
        toys.ring8(std=0)


def test_curve_quadrature_matches_fine_reference():
    """The moons' density against a 20001-point trapezoid rule along each arc."""
    toy = toys.TwoMoons()
    x = np.array([[0.0, 1.0], [0.5, 0.2], [1.0, -0.5], [-1.1, 0.05], [2.3, 0.6], [0.5, 0.25]])
    t = np.linspace(0, math.pi, 20001)
    w = np.full(t.shape, t[1] - t[0])
    w[[0, -1]] /= 2
    dens = 0
    for arc in (toys._outer_moon(t), toys._inner_moon(t)):
        d2 = np.sum((x[:, None] - arc[None]) ** 2, -1)  # (6, T)
        dens += 0.5 / math.pi * np.exp(-d2 / (2 * 0.01)) @ w / (2 * math.pi * 0.01)
    assert np.abs(toy.log_density(x) - np.log(dens)).max() < 1e-6


def test_checkerboard_support_and_tensor_input():
    board = toys.Checkerboard()
    x = torch.tensor([[-3.0, -3.0], [-3.0, -1.0], [1.0, 1.0], [5.0, 0.5]])
    log_p = board.log_density(x)
    assert log_p[0] == log_p[2] == -math.log(32) and log_p[1] == log_p[3] == -np.inf
    assert board.entropy() == math.log(32)
