"""Kernel two-sample distances: MMD^2 with a Gaussian kernel and KID.

Unbiased MMD^2 (Gretton et al. 2012, "A kernel two-sample test", eq. 3) between samples
x_1..x_m ~ P and y_1..y_n ~ Q:

    MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
              - 2/(mn) sum_{i, j} k(x_i, y_j).

It can be slightly negative when P = Q. `mmd2` uses k(a, b) = exp(-||a - b||^2 / (2 h^2))
with h the median pairwise distance of the pooled sample (Gretton et al. 2012, sec. 8) unless
given. KID (Bińkowski et al. 2018, "Demystifying MMD GANs", sec. 4) is the same unbiased MMD^2
with the cubic polynomial kernel k(a, b) = (a.b / F + 1)^3, averaged over random subsets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from torch import Tensor

from generative.metrics.features import as_array

Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, B) squared Euclidean distances."""
    d2 = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2 * a @ b.T
    return np.clip(d2, 0, None)


def _kernel_sum(
    k: Kernel, a: np.ndarray, b: np.ndarray, off_diagonal: bool, block: int = 1024
) -> float:
    """sum_{i, j} k(a_i, b_j) (i != j when `off_diagonal`, for a is b), in row blocks."""
    total = 0.0
    for start in range(0, len(a), block):
        gram = k(a[start : start + block], b)  # (block, len(b))
        total += np.sum(gram)
        if off_diagonal:
            total -= np.trace(gram, offset=start)
    return float(total)


def _unbiased_mmd2(k: Kernel, x: np.ndarray, y: np.ndarray) -> float:
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"sample sizes {m} and {n}; unbiased MMD needs at least 2 each")
    k_xx = _kernel_sum(k, x, x, off_diagonal=True)
    k_yy = _kernel_sum(k, y, y, off_diagonal=True)
    k_xy = _kernel_sum(k, x, y, off_diagonal=False)
    return k_xx / (m * (m - 1)) + k_yy / (n * (n - 1)) - 2 * k_xy / (m * n)


def median_bandwidth(
    x: np.ndarray | Tensor, y: np.ndarray | Tensor, max_points: int = 1000
) -> float:
    """Median pairwise distance of the pooled sample (first `max_points` of each set)."""
    z = np.concatenate([as_array(x)[:max_points], as_array(y)[:max_points]])
    d2 = _sq_dist(z, z)[np.triu_indices(len(z), 1)]
    return float(np.sqrt(np.median(d2)))


def gaussian_kernel(bandwidth: float) -> Kernel:
    """k(a, b) = exp(-||a - b||^2 / (2 h^2))."""
    if not bandwidth > 0:
        raise ValueError(f"bandwidth={bandwidth}; must be positive")
    return lambda a, b: np.exp(-_sq_dist(a, b) / (2 * bandwidth**2))


def mmd2(x: np.ndarray | Tensor, y: np.ndarray | Tensor, bandwidth: float | None = None) -> float:
    """Unbiased MMD^2 with a Gaussian kernel between (m, F) and (n, F) samples.

    Args:
        bandwidth: h; the median pairwise distance of the pooled sample when None.
    """
    x, y = as_array(x), as_array(y)
    h = median_bandwidth(x, y) if bandwidth is None else bandwidth
    return _unbiased_mmd2(gaussian_kernel(h), x, y)


class KID(NamedTuple):
    """Kernel inception distance over subsets: mean and standard deviation of MMD^2_u."""

    mean: float
    std: float


def polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """k(a, b) = (a.b / F + 1)^3, F the feature dimension (Bińkowski et al. 2018)."""
    gram = a @ b.T
    gram /= a.shape[1]
    gram += 1
    return gram * gram * gram  # not ** 3: np.power is several times slower


def kid(
    x: np.ndarray | Tensor,
    y: np.ndarray | Tensor,
    n_subsets: int = 100,
    subset_size: int = 1000,
    rng: np.random.Generator | None = None,
) -> KID:
    """KID: unbiased MMD^2 with the cubic polynomial kernel, over random subsets.

    Each of `n_subsets` rounds draws min(subset_size, m, n) points without replacement from
    each set and computes MMD^2_u on them, as `polynomial_mmd_averages` in the authors'
    reference code (subsets of 1000; KID is usually reported over 100 subsets).

    Args:
        x, y: (m, F) and (n, F) features.
        rng: draws the subsets; `default_rng(0)` when None, so the result is reproducible.
    """
    if n_subsets < 1:
        raise ValueError(f"n_subsets={n_subsets}; must be at least 1")
    x, y = as_array(x), as_array(y)
    rng = np.random.default_rng(0) if rng is None else rng
    size = min(subset_size, len(x), len(y))
    values = [
        _unbiased_mmd2(
            polynomial_kernel,
            x[rng.choice(len(x), size, replace=False)],
            y[rng.choice(len(y), size, replace=False)],
        )
        for _ in range(n_subsets)
    ]
    return KID(float(np.mean(values)), float(np.std(values)))
