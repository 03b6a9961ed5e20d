"""Principal component analysis and probabilistic PCA in closed form: the linear baselines.

`PCA` projects onto the top-k principal directions found by an SVD of the centred data; its
reconstruction error at code size k is the smallest any linear autoencoder with a k-dim code
can reach (Baldi & Hornik 1989). `ppca_fit` / `ppca_log_likelihood` give the maximum-likelihood
probabilistic PCA model x = W z + mu + eps, z ~ N(0, I_q), eps ~ N(0, sigma^2 I_D) and its
exact marginal log-likelihood, the optimum a linear-Gaussian VAE should reach.

References:
    Tipping & Bishop 1999, "Probabilistic principal component analysis", JRSS B 61(3).
    Baldi & Hornik 1989, "Neural networks and principal component analysis", Neural Networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.distributions import MultivariateNormal

__all__ = ["PCA", "PPCAParams", "ppca_fit", "ppca_log_likelihood"]


class PCA:
    """PCA by SVD of the centred data matrix, in float64.

    After `fit(x)`: `mean` (D,), `components` (R, D) orthonormal rows sorted by variance,
    `variances` (R,) the eigenvalues of the (biased, 1/N) sample covariance, with
    R = min(N, D). Inputs may have any trailing shape; they are flattened to D features and
    `decode` restores the shape seen by `fit`.
    """

    def __init__(self) -> None:
        self.mean: Tensor | None = None
        self.components: Tensor | None = None
        self.variances: Tensor | None = None
        self.shape: tuple[int, ...] = ()

    def fit(self, x: Tensor) -> PCA:
        """Fit on x (N, *shape); returns self."""
        flat = x.reshape(len(x), -1).double()  # (N, D)
        self.shape = tuple(x.shape[1:])
        self.mean = flat.mean(0)
        _, s, vh = torch.linalg.svd(flat - self.mean, full_matrices=False)
        self.components = vh  # (R, D)
        self.variances = s**2 / len(flat)
        return self

    def _fitted(self) -> tuple[Tensor, Tensor]:
        if self.mean is None or self.components is None:
            raise RuntimeError("PCA is not fitted; call fit(x) first")
        return self.mean, self.components

    def _check_k(self, k: int) -> None:
        _, comps = self._fitted()
        if not 1 <= k <= len(comps):
            raise ValueError(f"k={k}; must lie in 1..{len(comps)}")

    def encode(self, x: Tensor, k: int) -> Tensor:
        """(N, *shape) -> (N, k) coordinates on the top-k principal directions."""
        self._check_k(k)
        mean, comps = self._fitted()
        flat = x.reshape(len(x), -1).to(mean)
        return ((flat - mean) @ comps[:k].T).to(x.dtype)

    def decode(self, z: Tensor) -> Tensor:
        """(N, k) -> (N, *shape): mean + z V_k."""
        mean, comps = self._fitted()
        self._check_k(z.shape[1])
        out = mean + z.to(mean) @ comps[: z.shape[1]]
        return out.reshape(len(z), *self.shape).to(z.dtype)

    def reconstruct(self, x: Tensor, k: int) -> Tensor:
        """(N, *shape) projection of x onto the k-dim principal subspace through the mean."""
        return self.decode(self.encode(x.double(), k)).to(x.dtype)

    def reconstruction_error(self, x: Tensor, k: int) -> float:
        """Mean over examples of the summed squared error sum_d (x_d - x_hat_d)^2.

        On the data PCA was fitted to this equals the sum of the discarded variances
        sum_{i > k} lambda_i.
        """
        err = (x.double() - self.reconstruct(x.double(), k)).reshape(len(x), -1)
        return float((err**2).sum(1).mean())


@dataclass(frozen=True)
class PPCAParams:
    """A probabilistic PCA model x ~ N(mu, W W^T + sigma2 I)."""

    mu: Tensor
    """(D,) the mean."""
    W: Tensor
    """(D, q) the factor loadings."""
    sigma2: float
    """The isotropic noise variance."""


def ppca_fit(x: Tensor, q: int) -> PPCAParams:
    """Maximum-likelihood probabilistic PCA (Tipping & Bishop 1999, eqs. 7-8).

    With S the (1/N) sample covariance and eigenpairs (lambda_i, u_i) sorted descending:

        sigma2_ML = 1/(D - q) sum_{i > q} lambda_i,
        W_ML = U_q (Lambda_q - sigma2_ML I)^{1/2}   (taking the rotation R = I).

    Args:
        x: (N, D) data.
        q: latent dimension, 1 <= q < D.
    """
    flat = x.reshape(len(x), -1).double()
    d = flat.shape[1]
    if not 1 <= q < d:
        raise ValueError(f"q={q}; must lie in 1..{d - 1}")
    mu = flat.mean(0)
    centred = flat - mu
    cov = centred.T @ centred / len(flat)  # (D, D)
    lam, vecs = torch.linalg.eigh(cov)  # ascending
    lam, vecs = lam.flip(0), vecs.flip(1)
    sigma2 = float(lam[q:].mean())
    W = vecs[:, :q] * (lam[:q] - sigma2).clamp_min(0).sqrt()
    return PPCAParams(mu=mu, W=W, sigma2=sigma2)


def ppca_log_likelihood(x: Tensor, params: PPCAParams) -> Tensor:
    """(N,) exact log p(x) = log N(x; mu, C), C = W W^T + sigma2 I (Tipping & Bishop eq. 4).

    Summed over the data at the ML solution this is
    -N/2 (D ln 2 pi + ln|C| + tr(C^-1 S)) (their eq. 5).
    """
    flat = x.reshape(len(x), -1).double()
    d = flat.shape[1]
    W = params.W.double()
    cov = W @ W.T + params.sigma2 * torch.eye(d, dtype=torch.float64, device=W.device)
    chol = torch.linalg.cholesky(cov)
    return MultivariateNormal(params.mu.double(), scale_tril=chol).log_prob(flat)
