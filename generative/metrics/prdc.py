"""Precision, recall, density and coverage from k-nearest-neighbour balls.

With real features X (N, F), generated features Y (M, F), and r_k(z) the distance from z to its
k-th nearest neighbour within its own set (excluding itself), B(z, r) the closed ball:

Precision and recall (Kynkäänniemi et al. 2019, "Improved precision and recall metric for
assessing generative models", eq. 1-2; k = 3):
    precision = 1/M sum_j 1[exists i: Y_j in B(X_i, r_k(X_i))]
    recall    = 1/N sum_i 1[exists j: X_i in B(Y_j, r_k(Y_j))]

Density and coverage (Naeem et al. 2020, "Reliable fidelity and diversity metrics for
generative models", eq. 3-4; k = 5):
    density  = 1/(k M) sum_j sum_i 1[Y_j in B(X_i, r_k(X_i))]
    coverage = 1/N sum_i 1[exists j: Y_j in B(X_i, r_k(X_i))]

Precision and density measure fidelity (samples land on the data), recall and coverage measure
diversity (the data is reached by samples). Density can exceed 1.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

from generative.metrics.features import as_array

BLOCK = 1024
"""Rows per block of the pairwise distance matrices (bounds memory at BLOCK x N floats)."""


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, B) Euclidean distances."""
    d2 = np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.clip(d2, 0, None))


def knn_radii(x: np.ndarray | Tensor, k: int) -> np.ndarray:
    """(N,) distance from each point to its k-th nearest neighbour in x, itself excluded."""
    x = as_array(x)
    if not 1 <= k < len(x):
        raise ValueError(f"k={k}; needs 1 <= k < N = {len(x)}")
    radii = np.empty(len(x))
    for start in range(0, len(x), BLOCK):
        d = _distances(x[start : start + BLOCK], x)
        # index 0 of the sorted row is the point itself (distance 0), so index k is the k-th NN
        radii[start : start + BLOCK] = np.partition(d, k, axis=1)[:, k]
    return radii


def _ball_counts(centres: np.ndarray, radii: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(Q,) for each query, the number of balls B(centres_i, radii_i) that contain it."""
    counts = np.zeros(len(queries), dtype=np.int64)
    for start in range(0, len(queries), BLOCK):
        d = _distances(queries[start : start + BLOCK], centres)  # (block, C)
        counts[start : start + BLOCK] = np.sum(d <= radii[None, :], axis=1)
    return counts


def _covered(centres: np.ndarray, radii: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(C,) whether each ball B(centres_i, radii_i) holds at least one query."""
    hit = np.zeros(len(centres), dtype=bool)
    for start in range(0, len(centres), BLOCK):
        d = _distances(centres[start : start + BLOCK], queries)  # (block, Q)
        hit[start : start + BLOCK] = d.min(axis=1) <= radii[start : start + BLOCK]
    return hit


def precision_recall(
    real: np.ndarray | Tensor, fake: np.ndarray | Tensor, k: int = 3
) -> tuple[float, float]:
    """Kynkäänniemi et al. 2019 precision and recall, both in [0, 1]."""
    real, fake = as_array(real), as_array(fake)
    precision = np.mean(_ball_counts(real, knn_radii(real, k), fake) > 0)
    recall = np.mean(_ball_counts(fake, knn_radii(fake, k), real) > 0)
    return float(precision), float(recall)


def density_coverage(
    real: np.ndarray | Tensor, fake: np.ndarray | Tensor, k: int = 5
) -> tuple[float, float]:
    """Naeem et al. 2020 density (>= 0, 1 for matching distributions) and coverage in [0, 1]."""
    real, fake = as_array(real), as_array(fake)
    radii = knn_radii(real, k)
    density = np.sum(_ball_counts(real, radii, fake)) / (k * len(fake))
    coverage = np.mean(_covered(real, radii, fake))
    return float(density), float(coverage)


def prdc(
    real: np.ndarray | Tensor, fake: np.ndarray | Tensor, k_pr: int = 3, k_dc: int = 5
) -> dict[str, float]:
    """{"precision", "recall", "density", "coverage"} with the papers' default k."""
    precision, recall = precision_recall(real, fake, k_pr)
    density, coverage = density_coverage(real, fake, k_dc)
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}
