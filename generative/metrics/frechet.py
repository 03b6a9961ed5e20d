"""Fréchet distance between Gaussians fitted to two feature sets (FID without Inception).

Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to a local Nash
equilibrium" (FID):

    FD = ||mu_r - mu_g||^2 + Tr(Sigma_r + Sigma_g - 2 (Sigma_r Sigma_g)^{1/2}),

with means and covariances (ddof = 1, as in the reference code) of the two feature sets. The
estimate is biased upwards for finite samples (Chong & Forsyth 2020), so compare models at
equal sample sizes and against `real_floor`, the FD between two halves of the real data.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from torch import Tensor

from generative.metrics.features import as_array


def gaussian_stats(features: np.ndarray | Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean (F,) and covariance (F, F) (ddof = 1) of (N, F) features, N >= 2."""
    x = as_array(features)
    if len(x) < 2:
        raise ValueError(f"{len(x)} feature vectors; a covariance needs at least 2")
    return x.mean(0), np.atleast_2d(np.cov(x, rowvar=False))


def _psd_sqrt(a: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    eigval, eigvec = linalg.eigh(a)
    return (eigvec * np.sqrt(np.clip(eigval, 0, None))) @ eigvec.T


def frechet_from_stats(
    mu_1: np.ndarray, sigma_1: np.ndarray, mu_2: np.ndarray, sigma_2: np.ndarray
) -> float:
    """FD between N(mu_1, Sigma_1) and N(mu_2, Sigma_2).

    Tr (Sigma_1 Sigma_2)^{1/2} is computed as sum_i sqrt(lambda_i) with lambda_i the
    eigenvalues of the symmetric PSD matrix Sigma_1^{1/2} Sigma_2 Sigma_1^{1/2}, which has the
    same spectrum as Sigma_1 Sigma_2; this avoids the complex round-off of `sqrtm`.
    """
    root_1 = _psd_sqrt(sigma_1)
    cross = linalg.eigvalsh(root_1 @ sigma_2 @ root_1)
    trace_sqrt = np.sum(np.sqrt(np.clip(cross, 0, None)))
    diff = mu_1 - mu_2
    return float(diff @ diff + np.trace(sigma_1) + np.trace(sigma_2) - 2 * trace_sqrt)


def frechet_distance(features_a: np.ndarray | Tensor, features_b: np.ndarray | Tensor) -> float:
    """FD between Gaussians fitted to (N, F) and (M, F) feature sets (in squared units)."""
    return frechet_from_stats(*gaussian_stats(features_a), *gaussian_stats(features_b))


def real_floor(features_real: np.ndarray | Tensor, rng: np.random.Generator) -> float:
    """FD between two disjoint random halves of the real features: the score of a perfect
    model evaluated with N/2 samples, i.e. the floor set by finite-sample bias and noise.

    Args:
        features_real: (N, F), N >= 4.
        rng: draws the random split.
    """
    x = as_array(features_real)
    perm = rng.permutation(len(x))
    half = len(x) // 2
    return frechet_distance(x[perm[:half]], x[perm[half : 2 * half]])
