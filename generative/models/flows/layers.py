"""Invertible layers of the normalizing flows, each mapping data towards the base.

Every layer has `forward(x) -> (z, log_det)` (the direction used by `log_prob`, with
log_det = log|det dz/dx| per example, shape (B,)) and `inverse(z) -> x` (used by `sample`).
Inputs are flat: (B, D).

References:
    Dinh, Sohl-Dickstein & Bengio 2017, "Density estimation using Real NVP", arXiv:1605.08803.
    Germain et al. 2015, "MADE: Masked Autoencoder for Distribution Estimation",
    arXiv:1502.03509.
    Papamakarios, Pavlakou & Murray 2017, "Masked Autoregressive Flow for Density
    Estimation", arXiv:1705.07057.
    Kingma & Dhariwal 2018, "Glow: Generative Flow with Invertible 1x1 Convolutions",
    arXiv:1807.03039 (ActNorm).
    Durkan, Bekasov, Murray & Papamakarios 2019, "Neural Spline Flows", arXiv:1906.04032.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.models.flows import spline
from generative.models.layers import ACTIVATIONS, check_activation, mlp


def soft_clamp(s: Tensor, bound: float) -> Tensor:
    """Smoothly bound log-scales to (-|bound|, |bound|): s -> bound * tanh(s / bound).

    A negative `bound` returns the negated clamp, -|bound| tanh(s / |bound|), for free.
    """
    return torch.tanh(s / abs(bound)) * bound


class ActNorm(nn.Module):
    """Per-dimension affine normalisation with data-dependent initialisation (Glow).

    z = x * exp(log_scale) + shift,  log|det| = sum_d log_scale_d.

    log_scale and shift are set from the first training batch that passes through (so that
    batch leaves with zero mean and unit variance) and trained afterwards; the `initialized`
    flag is a buffer, so checkpoints keep it. (An EMA copy taken before that first batch starts
    from the identity and catches up at the EMA's own rate.)
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.shift = nn.Parameter(torch.zeros(dim))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def _initialize(self, x: Tensor) -> None:
        std = x.std(0) if len(x) > 1 else torch.ones_like(x[0])
        self.log_scale.copy_(-torch.log(std + 1e-6))
        self.shift.copy_(-x.mean(0) * torch.exp(self.log_scale))
        self.initialized.fill_(True)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.training and not self.initialized:
            self._initialize(x)
        z = torch.addcmul(self.shift, x, torch.exp(self.log_scale))
        return z, self.log_scale.sum().expand(len(x))

    def inverse(self, z: Tensor) -> Tensor:
        return (z - self.shift) * torch.exp(-self.log_scale)


class Permutation(nn.Module):
    """z = x[:, perm], a fixed reordering of the dimensions; log|det| = 0."""

    def __init__(self, perm: Tensor) -> None:
        super().__init__()
        self.register_buffer("perm", perm)
        self.register_buffer("inverse_perm", torch.argsort(perm))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x[:, self.perm], x.new_zeros(len(x))

    def inverse(self, z: Tensor) -> Tensor:
        return z[:, self.inverse_perm]


class Coupling(nn.Module, ABC):
    """A coupling layer (Dinh et al. 2017), data -> base direction; subclasses pick the map.

    The dimensions split at `split` into x[:, :split] and x[:, split:]; a is the half that
    passes through (the first if `keep_first`, else the second) and b the other:
        z_a = x_a,  z_b = tau(x_b; theta(x_a)),  log|det| = sum_b log|d tau / d x_b|,
    with theta an MLP on x_a giving `params_per_dim` numbers per dimension of b and tau an
    element-wise monotone map. Contiguous halves (a `Permutation` in front chooses which
    dimensions they hold) keep this to views and one concatenation.
    """

    params_per_dim: int

    def __init__(
        self, dim: int, split: int, keep_first: bool, hidden: tuple[int, ...], activation: str
    ) -> None:
        super().__init__()
        self.split, self.keep_first = split, keep_first
        kept = split if keep_first else dim - split
        self.net = mlp(kept, hidden, self.params_per_dim * (dim - kept), activation)

    @abstractmethod
    def transform(self, x_b: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        """tau (or its inverse) on x_b (B, D_b) given theta (B, P * D_b); (B, D_b), (B,)."""

    def _halves(self, x: Tensor) -> tuple[Tensor, Tensor]:
        first, second = x[:, : self.split], x[:, self.split :]
        return (first, second) if self.keep_first else (second, first)

    def _join(self, a: Tensor, b: Tensor) -> Tensor:
        return torch.cat((a, b) if self.keep_first else (b, a), dim=1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x_a, x_b = self._halves(x)
        z_b, log_det = self.transform(x_b, self.net(x_a), inverse=False)
        return self._join(x_a, z_b), log_det

    def inverse(self, z: Tensor) -> Tensor:
        z_a, z_b = self._halves(z)
        return self._join(z_a, self.transform(z_b, self.net(z_a), inverse=True)[0])


class AffineCoupling(Coupling):
    """RealNVP's affine map (Dinh et al. 2017, eqs. 4-6): z_b = x_b * exp(s) + t.

    log|det| = sum_b s_b, with s soft-clamped to (-clamp, clamp).
    """

    params_per_dim = 2

    def __init__(
        self,
        dim: int,
        split: int,
        keep_first: bool,
        hidden: tuple[int, ...],
        activation: str,
        clamp: float,
    ) -> None:
        super().__init__(dim, split, keep_first, hidden, activation)
        self.clamp = clamp

    def transform(self, x_b: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        s, t = theta.chunk(2, dim=-1)  # (B, D_b) each
        s = soft_clamp(s, self.clamp)
        if inverse:
            return (x_b - t) * torch.exp(-s), -s.sum(-1)
        return x_b * torch.exp(s) + t, s.sum(-1)


class SplineCoupling(Coupling):
    """Neural spline flow coupling (Durkan et al. 2019): z_b = RQS(x_b; theta(x_a)).

    A monotone rational-quadratic spline with `bins` bins on [-bound, bound] per dimension of
    b, identity outside (see `generative.models.flows.spline`).
    """

    def __init__(
        self,
        dim: int,
        split: int,
        keep_first: bool,
        hidden: tuple[int, ...],
        activation: str,
        bins: int,
        bound: float,
    ) -> None:
        self.params_per_dim = spline.num_params(bins)
        super().__init__(dim, split, keep_first, hidden, activation)
        self.bound = bound

    def transform(self, x_b: Tensor, theta: Tensor, inverse: bool) -> tuple[Tensor, Tensor]:
        theta = theta.view(*x_b.shape, self.params_per_dim)  # (B, D_b, 3K - 1)
        z_b, log_det = spline.rational_quadratic(x_b, theta, self.bound, inverse)
        return z_b, log_det.sum(-1)


class MaskedLinear(nn.Linear):
    """y = x (W * M)^T + b with a fixed 0/1 connectivity mask M (out, in)."""

    def __init__(self, mask: Tensor) -> None:
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Masked autoencoder (Germain et al. 2015): output k * D + i depends on x_<i only.

    "<" is taken in the autoregressive `order`: order[i] is the position of dimension i.
    Degrees: m(x_i) = order[i] + 1 in 1..D; hidden unit j of every layer gets
    m = j mod max(D - 1, 1) + 1 (the deterministic cycle, so every degree is present);
    hidden connects to inputs with m_h >= m_in, outputs to hidden with m_out > m_h.

    Maps (B, D) -> (B, outputs * D), grouped as `outputs` blocks of D.
    """

    def __init__(
        self, order: Tensor, hidden: tuple[int, ...], activation: str, outputs: int = 2
    ) -> None:
        super().__init__()
        check_activation(activation)
        D = len(order)
        degrees = [order + 1]  # (D,) input degrees in 1..D
        layers: list[nn.Module] = []
        for width in hidden:
            m_h = torch.arange(width) % max(D - 1, 1) + 1  # (H,)
            layers += [
                MaskedLinear(m_h[:, None] >= degrees[-1][None, :]),
                ACTIVATIONS[activation](),
            ]
            degrees.append(m_h)
        m_out = (order + 1).repeat(outputs)  # (outputs * D,)
        layers.append(MaskedLinear(m_out[:, None] > degrees[-1][None, :]))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class MaskedAffineAutoregressive(nn.Module):
    """One MAF layer (Papamakarios et al. 2017, eqs. 2-4), data -> base direction.

    x_i = u_i exp(alpha_i) + mu_i with (mu_i, alpha_i) = MADE(x_<i), so
        u = (x - mu(x)) * exp(-alpha(x)),  log|det du/dx| = -sum_i alpha_i,
    one MADE pass for `forward` (density) and D sequential passes for `inverse` (sampling).
    alpha is soft-clamped to (-clamp, clamp).
    """

    def __init__(
        self, order: Tensor, hidden: tuple[int, ...], activation: str, clamp: float
    ) -> None:
        super().__init__()
        self.made = MADE(order, hidden, activation, outputs=2)
        self.clamp = clamp

    def _shift_neg_log_scale(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, alpha = self.made(x).chunk(2, dim=-1)  # (B, D) each
        return mu, soft_clamp(alpha, -self.clamp)  # -alpha, soft-clamped

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, neg_alpha = self._shift_neg_log_scale(x)
        return (x - mu) * torch.exp(neg_alpha), neg_alpha.sum(-1)

    def inverse(self, u: Tensor) -> Tensor:
        x = torch.zeros_like(u)
        for _ in range(u.shape[1]):  # pass k fixes the k-th dimension in the order
            mu, neg_alpha = self._shift_neg_log_scale(x)
            x = u / torch.exp(neg_alpha) + mu
        return x
