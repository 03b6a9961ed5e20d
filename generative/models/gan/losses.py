"""The players' objectives and the gradient penalties, as pure functions of D's outputs.

Sign convention: every function returns a quantity to *minimise*. D outputs logits (or, for
WGAN-GP, unbounded critic values); higher means "more real".
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def discriminator_bce(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """The discriminator's cross-entropy (Goodfellow et al. 2014, eq. 1).

    L_D = -E_x[log sigmoid(D(x))] - E_z[log(1 - sigmoid(D(G(z))))]
        = E_x[softplus(-D(x))] + E_z[softplus(D(G(z)))]

    Args:
        d_real: (B,) logits on data.
        d_fake: (B,) logits on generated samples.
    Returns:
        Scalar, >= 0; 2 log 2 when D cannot tell the two apart (all logits 0).
    """
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def generator_nonsaturating(d_fake: Tensor) -> Tensor:
    """The non-saturating generator loss (Goodfellow et al. 2014, section 3).

    L_G = -E_z[log sigmoid(D(G(z)))] = E_z[softplus(-D(G(z)))]

    Args:
        d_fake: (B,) logits on generated samples.
    Returns:
        Scalar, >= 0; falls as D rates the samples more real.
    """
    return F.softplus(-d_fake).mean()


def critic_wasserstein(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """The WGAN critic loss (Arjovsky et al. 2017; Gulrajani et al. 2017, eq. 3 without GP).

    L_D = E_z[D(G(z))] - E_x[D(x)], minus the critic's estimate of W_1(p_data, p_G).

    Args:
        d_real: (B,) critic values on data.
        d_fake: (B,) critic values on generated samples.
    """
    return d_fake.mean() - d_real.mean()


def generator_wasserstein(d_fake: Tensor) -> Tensor:
    """The WGAN generator loss L_G = -E_z[D(G(z))] (Arjovsky et al. 2017).

    Args:
        d_fake: (B,) critic values on generated samples.
    """
    return -d_fake.mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, eps: Tensor
) -> Tensor:
    """WGAN-GP's two-sided penalty (Gulrajani et al. 2017, eq. 3), without its weight lambda.

    GP = E[(||grad_x D(x_hat)||_2 - 1)^2],  x_hat = eps x + (1 - eps) x_tilde, eps ~ U[0, 1].

    Args:
        critic: D, mapping (B, D) to (B,).
        real: (B, D) data.
        fake: (B, D) generated samples (detached).
        eps: (B, 1) interpolation weights.
    Returns:
        Scalar >= 0, differentiable in D's parameters; 0 for a critic whose gradient has unit
        norm at every interpolate.
    """
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)  # (B, D)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def r1_penalty(d_real: Tensor, real: Tensor) -> Tensor:
    """R1's squared gradient norm on data (Mescheder et al. 2018, eq. 9), without gamma / 2.

    R1 = E_x[||grad_x D(x)||_2^2]; the penalty added to L_D is (gamma / 2) R1.

    Args:
        d_real: D's outputs on `real`, computed after `real.requires_grad_(True)`.
        real: (B, D) data.
    Returns:
        Scalar >= 0, differentiable in D's parameters.
    """
    (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)  # (B, D)
    return grad.pow(2).sum(dim=1).mean()
