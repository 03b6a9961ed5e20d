"""The Gaussian diffusion process: forward noising, parameterisations, posterior, the bound.

Notation of Ho et al. 2020 with 0-based timesteps t = 0..T-1 in code:

    q(x_t | x_0) = N(sqrt(ab_t) x_0, (1 - ab_t) I),        ab_t = alpha_bar_t,
    q(x_{t-1} | x_t, x_0) = N(c0 x_0 + ct x_t, beta_tilde_t I),                    (eq. 6-7)
        beta_t = 1 - ab_t / ab_{t-1},  c0 = sqrt(ab_{t-1}) beta_t / (1 - ab_t),
        ct = sqrt(1 - beta_t) (1 - ab_{t-1}) / (1 - ab_t),
        beta_tilde_t = (1 - ab_{t-1}) / (1 - ab_t) beta_t,  with ab_{-1} = 1.

The network predicts epsilon (Ho et al.), x_0, or v = sqrt(ab_t) eps - sqrt(1 - ab_t) x_0
(Salimans & Ho 2022); `to_x0_eps` turns any of them into (x_0, eps). The reverse step
p(x_{t-1} | x_t) = N(mu(x_t), sigma_t^2 I) takes the posterior mean at the predicted x_0 and
a fixed variance: beta_tilde_t ('fixed_small') or beta_t ('fixed_large').

The variational bound (Ho et al. eq. 5, in nats)

    -log p(x_0) <= KL(q(x_T|x_0) || N(0, I)) + sum_{t >= 1} KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t))
                   - log p(x_0 | x_1)

is computed term by term, one draw of x_t per term. At t = 0 the posterior variance
beta_tilde_0 is 0, so 'fixed_small' clips it to beta_tilde_1 there, as Ho et al.'s code does.
'fixed_large' keeps beta_t at every t, the t = 0 decoder included, as diffusers'
`DDPMScheduler` does; Ho et al.'s code clips its decoder to beta_tilde_1 (about beta_1 / 2)
too, which costs nothing on discretized images but loosens the bound on real-valued data by
about 0.12 nats per dimension: with the exact denoiser of a 2-D Gaussian of std 0.1 the gap
is 0.32 nats with the clipped decoder and 0.07 with beta_1 (tested).

Coefficients are gathered from float64 buffers and cast to the data's dtype, so none of this
runs in reduced precision under autocast; only the denoiser does.

References:
    Ho, Jain & Abbeel 2020, "Denoising diffusion probabilistic models", arXiv:2006.11239.
    Salimans & Ho 2022, "Progressive distillation for fast sampling of diffusion models",
        arXiv:2202.00512 (v-prediction).
    Nichol & Dhariwal 2021, "Improved denoising diffusion probabilistic models",
        arXiv:2102.09672 (the bound in bits/dim, discretized decoder).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from generative.models.gaussian import normal_log_prob

__all__ = [
    "DECODERS",
    "PREDICTIONS",
    "VARIANCES",
    "Denoise",
    "GaussianDiffusion",
    "discretized_gaussian_log_likelihood",
    "normal_kl",
    "posterior_mean",
    "prediction_target",
    "to_x0_eps",
]

PREDICTIONS = ("epsilon", "x0", "v")
VARIANCES = ("fixed_small", "fixed_large")
DECODERS = ("gaussian", "discrete")

Denoise = Callable[[Tensor, Tensor], Tensor]
"""(x_t (B, *shape), t (B,) int64) -> the network's output (B, *shape), labels bound in."""

Coef = Tensor | float


def per_example(c: Coef, x: Tensor) -> Coef:
    """A per-example coefficient (B,) as (B, 1, ..., 1) in x's dtype; floats pass through."""
    if isinstance(c, Tensor):
        return c.to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
    return c


def prediction_target(x0: Tensor, eps: Tensor, ab_t: Coef, prediction: str) -> Tensor:
    """What a network trained for `prediction` should output: eps, x_0 or v.

    v = sqrt(ab_t) eps - sqrt(1 - ab_t) x_0 (Salimans & Ho 2022, sec. 4).
    """
    if prediction == "epsilon":
        return eps
    if prediction == "x0":
        return x0
    if prediction == "v":
        return per_example(ab_t**0.5, x0) * eps - per_example((1 - ab_t) ** 0.5, x0) * x0
    raise ValueError(f"prediction={prediction!r}; allowed: {', '.join(PREDICTIONS)}")


def to_x0_eps(
    output: Tensor, x_t: Tensor, ab_t: Coef, prediction: str, clip: bool = False
) -> tuple[Tensor, Tensor]:
    """(x_0, eps) implied by the network's `output` at x_t.

    From x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps:
        epsilon: x_0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab);
        x0:      eps = (x_t - sqrt(ab) x_0) / sqrt(1 - ab);
        v:       x_0 = sqrt(ab) x_t - sqrt(1 - ab) v,  eps = sqrt(ab) v + sqrt(1 - ab) x_t.
    With `clip`, x_0 is clipped to [-1, 1] and eps re-derived from the clipped x_0 (as GLIDE
    and diffusers' `use_clipped_model_output` do), so a DDIM step stays consistent.

    Args:
        output: (B, *shape); x_t: (B, *shape); ab_t: alpha_bar at t, a float or (B,).
    """
    a, s = per_example(ab_t**0.5, x_t), per_example((1 - ab_t) ** 0.5, x_t)
    if prediction == "epsilon":
        eps = output
        x0 = (x_t - s * eps) / a
    elif prediction == "x0":
        x0 = output
        eps = (x_t - a * x0) / s
    elif prediction == "v":
        x0 = a * x_t - s * output
        eps = a * output + s * x_t
    else:
        raise ValueError(f"prediction={prediction!r}; allowed: {', '.join(PREDICTIONS)}")
    if clip:
        x0 = x0.clamp(-1.0, 1.0)
        eps = (x_t - a * x0) / s
    return x0, eps


def posterior_mean(x0: Tensor, x_t: Tensor, ab_t: Coef, ab_prev: Coef) -> Tensor:
    """Mean c0 x_0 + ct x_t of q(x_{t-1} | x_t, x_0) (Ho et al. eq. 7), any ab_prev >= ab_t."""
    beta = 1 - ab_t / ab_prev
    c0 = ab_prev**0.5 * beta / (1 - ab_t)
    ct = (1 - beta) ** 0.5 * (1 - ab_prev) / (1 - ab_t)
    return per_example(c0, x0) * x0 + per_example(ct, x_t) * x_t


def normal_kl(mean1: Tensor, log_var1: Tensor, mean2: Tensor, log_var2: Tensor) -> Tensor:
    """Elementwise KL(N(mean1, e^log_var1) || N(mean2, e^log_var2)) in nats.

    KL = 1/2 (log_var2 - log_var1 + e^(log_var1 - log_var2) + (mean1 - mean2)^2 e^-log_var2 - 1).
    """
    return 0.5 * (
        log_var2
        - log_var1
        + torch.exp(log_var1 - log_var2)
        + (mean1 - mean2) ** 2 * torch.exp(-log_var2)
        - 1.0
    )


def discretized_gaussian_log_likelihood(
    x: Tensor, mean: Tensor, log_var: Tensor, levels: int
) -> Tensor:
    """Elementwise log P(x) of a Gaussian integrated over the bin of each of `levels` levels.

    Data x in {-1, -1 + h, ..., 1} with h = 2 / (levels - 1) (Ho et al. eq. 13): the bin of x
    is [x - h/2, x + h/2], the outermost bins extend to -inf and +inf, so the probabilities of
    the `levels` values sum to 1. Upper-tail bins are computed through the mirrored CDF, so
    neither side loses precision.

    Returns:
        log P(x) <= 0, x's shape.
    """
    half = 1.0 / (levels - 1)
    inv_std = torch.exp(-0.5 * log_var)
    lo = torch.where(x < -1 + half, -math.inf, (x - half - mean) * inv_std)
    hi = torch.where(x > 1 - half, math.inf, (x + half - mean) * inv_std)
    upper = lo > 0  # the bin lies above the mean: P = Phi(-lo) - Phi(-hi)
    a = torch.where(upper, -hi, lo)
    b = torch.where(upper, -lo, hi)
    log_a, log_b = torch.special.log_ndtr(a), torch.special.log_ndtr(b)  # log_a <= log_b
    return log_b + torch.log(-torch.expm1(log_a - log_b))


class GaussianDiffusion(nn.Module):
    """Schedule buffers and the process's losses, for a denoiser passed in as a callable.

    Buffers (float64, (T,)): betas, alpha_bar, alpha_bar_prev (ab_{t-1}, 1 at t = 0),
    posterior_log_var (log beta_tilde, clipped at t = 0) and model_log_var (the reverse
    step's fixed log-variance: beta_tilde clipped the same way, or beta). They move with the
    model and into the EMA copy of `generative.train.fit`, but are not saved in state dicts: they
    follow from the config, so weights trained with one reverse variance can be evaluated
    with the other.
    """

    def __init__(self, betas: Tensor, prediction: str = "epsilon", variance: str = "fixed_small"):
        super().__init__()
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction={prediction!r}; allowed: {', '.join(PREDICTIONS)}")
        if variance not in VARIANCES:
            raise ValueError(f"variance={variance!r}; allowed: {', '.join(VARIANCES)}")
        betas = betas.double()
        if betas.dim() != 1 or len(betas) < 2:
            raise ValueError(f"betas of shape {tuple(betas.shape)}; need (T,) with T >= 2")
        self.prediction, self.variance = prediction, variance
        ab = torch.cumprod(1.0 - betas, 0)
        ab_prev = torch.cat([torch.ones(1, dtype=torch.float64), ab[:-1]])
        beta_tilde = (1 - ab_prev) / (1 - ab) * betas  # (T,), 0 at t = 0
        clipped = torch.cat([beta_tilde[1:2], beta_tilde[1:]])
        # derived from the config, so not saved: a checkpoint holds only what was learned
        buffers = {
            "betas": betas,
            "alpha_bar": ab,
            "alpha_bar_prev": ab_prev,
            "posterior_log_var": clipped.log(),
            "model_log_var": (clipped if variance == "fixed_small" else betas).log(),
        }
        for name, value in buffers.items():
            self.register_buffer(name, value, persistent=False)

    @property
    def timesteps(self) -> int:
        """T."""
        return len(self.betas)

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) noise, a draw of q(x_t | x_0) (Ho et al. eq. 4).

        Args:
            x0, noise: (B, *shape); t: (B,) int64 in 0..T-1.
        """
        ab = self.alpha_bar[t]
        return per_example(ab.sqrt(), x0) * x0 + per_example((1 - ab).sqrt(), x0) * noise

    def training_loss(
        self, denoise: Denoise, x0: Tensor, gen: torch.Generator | None = None
    ) -> Tensor:
        """L_simple (Ho et al. eq. 14) per example: ||target - output||^2 averaged over dims.

        t ~ U{0..T-1}, eps ~ N(0, I), x_t = q_sample(x_0, t, eps); the target is eps, x_0 or
        v by `prediction`. The network's output is cast to float32 before the loss, so the
        loss is safe under autocast.

        Returns:
            (B,) float32.
        """
        t = uniform_timesteps(self.timesteps, (len(x0),), gen, x0.device)
        eps = normal_noise(tuple(x0.shape), gen, x0.device).to(x0.dtype)
        x_t = self.q_sample(x0, t, eps)
        target = prediction_target(x0, eps, self.alpha_bar[t], self.prediction)
        out = denoise(x_t, t).float()
        return ((out - target.float()) ** 2).flatten(1).mean(1)

    def p_mean(self, denoise: Denoise, x_t: Tensor, t: Tensor, clip: bool) -> Tensor:
        """Mean of p(x_{t-1} | x_t): the posterior mean at the predicted x_0 (Ho et al. eq. 11)."""
        ab, ab_prev = self.alpha_bar[t], self.alpha_bar_prev[t]
        x0, _ = to_x0_eps(denoise(x_t, t).float(), x_t, ab, self.prediction, clip)
        return posterior_mean(x0, x_t, ab, ab_prev)

    def prior_kl(self, x0: Tensor) -> Tensor:
        """KL(q(x_T | x_0) || N(0, I)) summed over dims: (B, *shape) -> (B,) nats."""
        ab = self.alpha_bar[-1]
        mean = ab.sqrt().to(x0.dtype) * x0
        log_var = torch.full_like(x0, float(torch.log1p(-ab)))
        return (
            normal_kl(mean, log_var, torch.zeros_like(x0), torch.zeros_like(x0)).flatten(1).sum(1)
        )

    def bound_terms(
        self,
        denoise: Denoise,
        x0: Tensor,
        t: Tensor,
        decoder: str,
        levels: int = 0,
        clip: bool = False,
        gen: torch.Generator | None = None,
    ) -> Tensor:
        """The bound's term at each t, summed over dims: KL_t for t >= 1, -log p(x_0|x_1) at 0.

        Args:
            x0: (B, *shape) data in the diffusion's units; t: (B,) int64.
            decoder: 'gaussian' (a density on real-valued data) or 'discrete' (`levels`
                equally spaced values in [-1, 1]; Ho et al. eq. 13).
        Returns:
            (B,) nats.
        """
        if decoder not in DECODERS:
            raise ValueError(f"decoder={decoder!r}; allowed: {', '.join(DECODERS)}")
        eps = normal_noise(tuple(x0.shape), gen, x0.device).to(x0.dtype)
        x_t = self.q_sample(x0, t, eps)
        ab, ab_prev = self.alpha_bar[t], self.alpha_bar_prev[t]
        mean_q = posterior_mean(x0, x_t, ab, ab_prev)
        mean_p = self.p_mean(denoise, x_t, t, clip)
        log_var_q = per_example(self.posterior_log_var[t], x0).expand_as(x0)
        log_var_p = per_example(self.model_log_var[t], x0).expand_as(x0)
        kl = normal_kl(mean_q, log_var_q, mean_p, log_var_p).flatten(1).sum(1)
        if decoder == "discrete":
            log_px = discretized_gaussian_log_likelihood(x0, mean_p, log_var_p, levels)
        else:
            log_px = normal_log_prob(x0, mean_p, log_var_p)
        return torch.where(t == 0, -log_px.flatten(1).sum(1), kl)

    def negative_bound(
        self,
        denoise: Denoise,
        x0: Tensor,
        decoder: str,
        levels: int = 0,
        clip: bool = False,
        gen: torch.Generator | None = None,
        chunk: int = 4096,
    ) -> Tensor:
        """-ELBO >= -log p(x_0): the prior KL plus all T terms, one x_t draw each (nats).

        Evaluates T forward passes per example, in batches of at most `chunk` (example,
        timestep) pairs: `denoise` sees the batch tiled k times (`x0.repeat(k, ...)`), so a
        denoiser with bound labels must tile them the same way.

        Returns:
            (B,) nats.
        """
        total = self.prior_kl(x0)
        per = max(1, chunk // len(x0))  # timesteps per forward pass
        for start in range(0, self.timesteps, per):
            ts = torch.arange(start, min(start + per, self.timesteps), device=x0.device)
            t = ts.repeat_interleave(len(x0))  # (S B,), timestep-major
            xs = x0.repeat(len(ts), *([1] * (x0.dim() - 1)))  # (S B, *shape), batch tiled
            terms = self.bound_terms(denoise, xs, t, decoder, levels, clip, gen)
            total = total + terms.view(len(ts), len(x0)).sum(0)
        return total


def normal_noise(
    shape: tuple[int, ...], gen: torch.Generator | None, device: torch.device
) -> Tensor:
    """N(0, I) on `device`, from `gen` (on its own device) when given."""
    if gen is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=gen, device=gen.device).to(device)


def uniform_timesteps(
    high: int, shape: tuple[int, ...], gen: torch.Generator | None, device: torch.device
) -> Tensor:
    if gen is None:
        return torch.randint(high, shape, device=device)
    return torch.randint(high, shape, generator=gen, device=gen.device).to(device)
