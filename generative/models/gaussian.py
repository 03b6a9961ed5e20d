"""The diagonal Gaussian log-density parameterised by a log-variance: one helper for every family.

Families that hold a log-variance (the VAE's encoder and Gaussian decoder, the diffusion
posterior and decoder, Gaussian Naive Bayes) use `normal_log_prob`; densities given by a scale
or a covariance use `torch.distributions` directly (`Normal` for PPO's actions and a flow's base,
`MultivariateNormal` for probabilistic PCA).

Why not `torch.distributions.Normal` here too: it takes a scale, so a log-variance would go
log_var -> scale = e^(log_var / 2) -> log(scale) and scale^2, two more roundings than this form,
which uses log_var as it is (and agrees with `Normal.log_prob` to float rounding; tested).
"""

from __future__ import annotations

import math

from torch import Tensor

LOG_2PI = math.log(2 * math.pi)


def normal_log_prob(x: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """Elementwise log N(x; mean, e^log_var) in nats (a density, for real-valued x):

        log N = -1/2 ((x - mean)^2 / e^log_var + log_var + log 2 pi),

    summed in this order (the one Gaussian Naive Bayes was recorded with: with tiny class
    variances, other orders round near-ties the other way).

    Args:
        x, mean, log_var: broadcastable tensors.
    Returns:
        The broadcast shape; sum over the last dims for a diagonal Gaussian's log-density.
    """
    return -0.5 * ((x - mean) ** 2 / log_var.exp() + log_var + LOG_2PI)
