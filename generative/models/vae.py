"""Variational autoencoder with a Gaussian encoder, a N(0, I) prior and a choice of decoders.

Generative model p(z) = N(0, I_L), p(x|z) from the decoder; amortised posterior
q(z|x) = N(mu(x), diag sigma^2(x)). Training maximises the evidence lower bound

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x),

with the reparameterisation z = mu + sigma * eps, eps ~ N(0, I) (Kingma & Welling 2014);
`beta` weights the KL term (beta-VAE, Higgins et al. 2017) and `warmup_steps` ramps it up
from 0 over the training steps the loop passes to `loss` (Bowman et al. 2016; Sonderby et al.
2016). `log_prob` is the importance-weighted bound (Burda et al. 2016)

    L_k(x) = E[log 1/k sum_i p(x, z_i) / q(z_i|x)],  z_i ~ q(z|x),
    ELBO = L_1 <= L_k <= L_{k+1} <= log p(x),

so `likelihood = "bound"`.

Decoders (`VAEConfig.decoder`, "auto" picks from the data kind):
    categorical: `num_categories` logits per dimension (the discrete digits, levels 0..16);
    bernoulli: one logit per dimension (binary data);
    gaussian: N(x; m(z), diag s^2) on real data, a proper density, so for dequantized data
        log p(levels) >= log p(x + u) - D log(num_categories) (Theis et al. 2016) compares
        with discrete likelihoods; s^2 is predicted per example and dimension ("output"),
        learned per dimension ("per_dim") or as one scalar ("isotropic"), or fixed.

References:
    Kingma & Welling 2014, "Auto-encoding variational Bayes", arXiv:1312.6114.
    Burda, Grosse & Salakhutdinov 2016, "Importance weighted autoencoders", arXiv:1509.00519.
    Higgins et al. 2017, "beta-VAE: learning basic visual concepts with a constrained
        variational framework", ICLR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.base import GenerativeModel
from generative.config_checks import (
    MAX_CHANNELS,
    MAX_CONV_LEVELS,
    MAX_LATENT,
    MAX_STEPS,
    check_float,
    check_int,
    check_widths,
)
from generative.data import DataInfo
from generative.family import Family
from generative.models.gaussian import normal_log_prob
from generative.models.layers import ConvDecoder, ConvEncoder, check_activation, mlp

__all__ = ["FAMILIES", "VAE", "VAEConfig", "gaussian_kl", "reparameterize"]

ARCHS = ("mlp", "conv", "linear")
DECODERS = ("auto", "categorical", "bernoulli", "gaussian")
VARIANCES = ("output", "per_dim", "isotropic", "fixed")
SAMPLE_MODES = ("sample", "mean", "mode")
LOG_VAR_RANGE = (-14.0, 8.0)
"""Clamp of every log-variance, so a collapsing variance cannot overflow the loss."""


@dataclass(frozen=True)
class VAEConfig:
    """Settings of `VAE`."""

    arch: str = "mlp"
    """'mlp', 'conv' (images (C, H, W) only) or 'linear' (affine encoder and decoder)."""
    latent_dim: int = 16
    """L, the dimension of z; 1 to 4,096 (`MAX_LATENT`: far above the 64 pixels of a
    digit)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of the MLPs; for 'conv', of the dense layers between convs and z. At most
    64 layers, each 1 to 16,384 wide, at most 2**30 weights between hidden layers in encoder
    and decoder together (`config_checks`: what trains in 24 GiB)."""
    channels: tuple[int, ...] = (32, 64)
    """Conv channels, one stride-2 layer each ('conv' only); at most 8 levels (256-pixel
    images reach 1 x 1), each 1 to 4,096 channels (0.6 GiB of weights per 3x3 conv)."""
    activation: str = "relu"
    """Hidden nonlinearity, a key of `layers.ACTIVATIONS`."""
    dropout: float = 0.0
    """Dropout on hidden units during training, in [0, 1)."""
    decoder: str = "auto"
    """'auto', 'categorical', 'bernoulli' or 'gaussian'; each fits one data kind, which
    'auto' picks: categorical data -> categorical, binary -> bernoulli, continuous and
    dequantized -> gaussian."""
    variance: str = "output"
    """Gaussian decoder variance: 'output', 'per_dim', 'isotropic' or 'fixed'."""
    fixed_sigma: float = 0.1
    """Decoder standard deviation when variance='fixed' (data units); finite and > 0."""
    beta: float = 1.0
    """Weight of the KL term in the loss (1 = the ELBO); finite and >= 0."""
    warmup_steps: int = 0
    """Training steps over which the KL weight rises linearly from 0 to `beta`; 0 (no
    warm-up) to 10**9 (`MAX_STEPS`, the most a run trains)."""
    eval_samples: int = 1000
    """k, importance samples of `log_prob` (k = 1000 on 269 digits: about 6 s for the default
    MLP, 35 s for 'conv', on one shared CPU core); 1 to 100,000, where the same digits take
    10 min to an hour."""
    eval_chunk: int = 16384
    """Most (example, sample) pairs decoded at once in `log_prob`, to bound memory; 1 to
    262,144 (2**18: on the 8x8 digits the default conv model then takes about 8 GiB)."""
    sample_mode: str = "sample"
    """Default of `sample`: 'sample' draws x ~ p(x|z); 'mean' returns E[x|z]; 'mode' the most
    likely x given z. Means of categorical decoders make smoother pictures."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "channels", tuple(self.channels))
        for name, allowed in (
            ("arch", ARCHS),
            ("decoder", DECODERS),
            ("variance", VARIANCES),
            ("sample_mode", SAMPLE_MODES),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r}; allowed: {', '.join(allowed)}")
        check_activation(self.activation)
        check_int("latent_dim", self.latent_dim, 1, MAX_LATENT)
        check_widths("hidden", self.hidden, min_len=0, copies=2)
        check_widths(
            "channels", self.channels, MAX_CHANNELS, min_len=0, max_len=MAX_CONV_LEVELS, copies=0
        )
        if self.arch == "conv" and not self.channels:
            raise ValueError("channels=(); arch='conv' needs at least one conv layer")
        check_float("dropout", self.dropout, 0.0, 1.0, open_high=True)
        check_float("fixed_sigma", self.fixed_sigma, 0.0, open_low=True)
        check_float("beta", self.beta, 0.0)
        check_int("warmup_steps", self.warmup_steps, 0, MAX_STEPS)
        check_int("eval_samples", self.eval_samples, 1, 100_000)
        check_int("eval_chunk", self.eval_chunk, 1, 2**18)


def gaussian_kl(mu: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(mu, diag exp(log_var)) || N(0, I)) summed over the last dim (Kingma & Welling, B).

    KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2).

    Args:
        mu, log_var: (..., L).
    Returns:
        (...,) nats.
    """
    return 0.5 * (mu**2 + log_var.exp() - 1.0 - log_var).sum(-1)


def reparameterize(mu: Tensor, log_var: Tensor, eps: Tensor | None = None) -> Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I): a sample of q differentiable in (mu, log_var).

    Args:
        mu, log_var: (..., L).
        eps: standard normal noise broadcastable to mu (drawn when None).
    """
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + (0.5 * log_var).exp() * eps


def _randn(shape: tuple[int, ...], gen: torch.Generator | None, device: torch.device) -> Tensor:
    if gen is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=gen, device=gen.device).to(device)


def _rand(shape: tuple[int, ...], gen: torch.Generator | None, device: torch.device) -> Tensor:
    if gen is None:
        return torch.rand(shape, device=device)
    return torch.rand(shape, generator=gen, device=gen.device).to(device)


def drop_step_counter(module: nn.Module, state_dict: dict, prefix: str, *args: object) -> None:
    """Load-state-dict pre-hook: skip the `num_updates` buffer of checkpoints written while the
    model still counted its own training steps (the loop passes the step in now)."""
    state_dict.pop(prefix + "num_updates", None)


class VAE(GenerativeModel):
    """Variational autoencoder; see the module docstring for the model and the bounds.

    Inputs reach the encoder scaled to [0, 1] (categorical levels are divided by
    num_categories - 1); decoders model the data in its own units.
    """

    likelihood = "bound"

    def __init__(self, info: DataInfo, cfg: VAEConfig | None = None) -> None:
        super().__init__(info)
        cfg = cfg or VAEConfig()
        self.cfg = cfg
        natural = {"categorical": "categorical", "binary": "bernoulli"}.get(info.kind, "gaussian")
        decoder = natural if cfg.decoder == "auto" else cfg.decoder
        if decoder != natural:
            raise ValueError(
                f"decoder={decoder!r} does not fit {info.kind!r} data; use {natural!r} or 'auto'"
            )
        if decoder == "categorical" and (info.num_categories or 0) < 2:
            raise ValueError(f"num_categories={info.num_categories}; categorical needs >= 2")
        self.decoder_kind = decoder
        self.num_categories = info.num_categories if decoder == "categorical" else 1
        # decoder outputs per data dimension: K logits, 1 logit, a mean (+ a log-variance)
        self.params_per_dim = {
            "categorical": self.num_categories,
            "bernoulli": 1,
            "gaussian": 2 if cfg.variance == "output" else 1,
        }[decoder]
        scale = (info.num_categories - 1) if info.kind == "categorical" else 1.0
        self.register_buffer("input_scale", torch.tensor(float(scale)))
        self.register_load_state_dict_pre_hook(drop_step_counter)

        d, latent, m = info.dim, cfg.latent_dim, self.params_per_dim
        if cfg.arch == "conv":
            self.encoder = ConvEncoder(
                info.shape, cfg.channels, 2 * latent, cfg.hidden, cfg.activation, cfg.dropout
            )
            self.decoder = ConvDecoder(
                latent,
                info.shape,
                cfg.channels,
                info.shape[0] * m,
                tuple(reversed(cfg.hidden)),
                cfg.activation,
                cfg.dropout,
            )
        else:
            hidden = cfg.hidden if cfg.arch == "mlp" else ()
            self.encoder = mlp(d, hidden, 2 * latent, cfg.activation, cfg.dropout)
            self.decoder = mlp(latent, tuple(reversed(hidden)), d * m, cfg.activation, cfg.dropout)
        if decoder == "gaussian" and cfg.variance in ("per_dim", "isotropic"):
            self.log_var = nn.Parameter(torch.zeros(d if cfg.variance == "per_dim" else 1))
        else:
            self.register_buffer("log_var", torch.full((1,), 2 * math.log(cfg.fixed_sigma)))

    # ----------------------------------------------------------------------------- networks
    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior parameters (mu, log sigma^2), each (B, L), for x (B, *shape)."""
        inp = x / self.input_scale
        if self.cfg.arch != "conv":
            inp = inp.reshape(len(x), -1)
        mu, log_var = self.encoder(inp).chunk(2, dim=-1)
        return mu, log_var.clamp(*LOG_VAR_RANGE)

    def decoder_params(self, z: Tensor) -> Tensor:
        """Decoder outputs (B, D, m) for codes z (B, L): logits, or mean (and log-variance)."""
        out = self.decoder(z)
        if self.cfg.arch == "conv":  # (B, C*m, H, W) -> (B, C, H, W, m) -> (B, D, m)
            c, h, w = self.info.shape
            out = out.view(len(z), c, self.params_per_dim, h, w).permute(0, 1, 3, 4, 2)
        return out.reshape(len(z), self.info.dim, self.params_per_dim)

    def _gaussian(self, params: Tensor) -> tuple[Tensor, Tensor]:
        mean = params[..., 0]
        log_var = params[..., 1] if self.params_per_dim == 2 else self.log_var.expand_as(mean)
        return mean, log_var.clamp(*LOG_VAR_RANGE)

    def log_px_given_z(self, x: Tensor, params: Tensor) -> Tensor:
        """log p(x|z) summed over dimensions: x (B, *shape), params (B, D, m) -> (B,)."""
        flat = x.reshape(len(x), -1)  # (B, D)
        if self.decoder_kind == "categorical":
            levels = flat.round().long().clamp(0, self.num_categories - 1)
            logp = F.log_softmax(params, dim=-1).gather(-1, levels.unsqueeze(-1)).squeeze(-1)
        elif self.decoder_kind == "bernoulli":
            logp = -F.binary_cross_entropy_with_logits(params[..., 0], flat, reduction="none")
        else:
            mean, log_var = self._gaussian(params)
            logp = normal_log_prob(flat, mean, log_var)
        return logp.sum(-1)

    def decode(self, z: Tensor, mode: str = "mean", gen: torch.Generator | None = None) -> Tensor:
        """Images (B, *shape) from codes z (B, L): a draw, the mean or the mode of p(x|z)."""
        if mode not in SAMPLE_MODES:
            raise ValueError(f"mode={mode!r}; allowed: {', '.join(SAMPLE_MODES)}")
        params = self.decoder_params(z)
        if self.decoder_kind == "categorical":
            probs = params.softmax(-1)  # (B, D, K)
            if mode == "sample":
                u = _rand((*probs.shape[:-1], 1), gen, probs.device)
                x = (probs.cumsum(-1) < u).sum(-1).clamp(max=probs.shape[-1] - 1)
            elif mode == "mean":
                x = probs @ torch.arange(probs.shape[-1], dtype=probs.dtype, device=probs.device)
            else:
                x = probs.argmax(-1)
        elif self.decoder_kind == "bernoulli":
            p = params[..., 0].sigmoid()
            if mode == "sample":
                x = _rand(tuple(p.shape), gen, p.device) < p
            else:
                x = p if mode == "mean" else p > 0.5
        else:
            mean, log_var = self._gaussian(params)
            x = mean
            if mode == "sample":
                x = mean + (0.5 * log_var).exp() * _randn(tuple(mean.shape), gen, mean.device)
        return x.float().reshape(len(z), *self.info.shape)

    # ------------------------------------------------------------------------ objectives
    def kl_weight(self, step: int | None = None) -> float:
        """beta_t = beta * min(1, t / warmup_steps) at training step t; beta when `step` is
        None (outside training) or without warm-up."""
        if self.cfg.warmup_steps == 0 or step is None:
            return self.cfg.beta
        return self.cfg.beta * min(1.0, float(step) / self.cfg.warmup_steps)

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """Negative beta-ELBO per example, averaged over the batch.

        loss = mean_b [-log p(x_b|z_b) + beta_t KL(q(z|x_b) || p(z))], z_b = mu + sigma * eps,
        with beta_t = `kl_weight(step)`.

        Returns:
            {"loss", "recon": mean -log p(x|z), "kl": mean KL, "elbo": mean ELBO (nats, a
            one-sample estimate), "beta": the KL weight used}.
        """
        mu, log_var = self.encode(x)
        z = reparameterize(mu, log_var)
        log_px = self.log_px_given_z(x, self.decoder_params(z))  # (B,)
        kl = gaussian_kl(mu, log_var)  # (B,)
        beta = self.kl_weight(step)
        recon, kl_mean = -log_px.mean(), kl.mean()
        return {
            "loss": recon + beta * kl_mean,
            "recon": recon.detach(),
            "kl": kl_mean.detach(),
            "elbo": (-recon - kl_mean).detach(),
            "beta": torch.tensor(beta),
        }

    @torch.no_grad()
    def log_prob(
        self,
        x: Tensor,
        y: Tensor | None = None,
        k: int | None = None,
        gen: torch.Generator | None = None,
    ) -> Tensor:
        """(B,) importance-weighted lower bound L_k on log p(x) in nats (Burda et al. 2016).

        L_k = logsumexp_i [log p(x|z_i) + log p(z_i) - log q(z_i|x)] - log k, z_i ~ q(z|x).
        Decodes at most `eval_chunk` (example, sample) pairs at once. Call in eval mode.

        Args:
            x: (B, *shape) data.
            k: importance samples (default `cfg.eval_samples`); k=1 is a one-sample ELBO.
            gen: generator of the posterior draws, for reproducible estimates.
        """
        k = k or self.cfg.eval_samples
        per_group = max(1, self.cfg.eval_chunk // k)
        out = []
        for xb in x.split(per_group):
            mu, log_var = self.encode(xb)  # (G, L)
            sample_chunk = max(1, self.cfg.eval_chunk // len(xb))
            log_w = []
            for start in range(0, k, sample_chunk):
                s = min(sample_chunk, k - start)
                eps = _randn((s, *mu.shape), gen, mu.device)  # (S, G, L)
                z = reparameterize(mu, log_var, eps)
                xs = xb.expand(s, *xb.shape).reshape(s * len(xb), *xb.shape[1:])
                log_px = self.log_px_given_z(xs, self.decoder_params(z.reshape(-1, z.shape[-1])))
                log_pz = normal_log_prob(z, torch.zeros_like(z), torch.zeros_like(z)).sum(-1)
                log_qz = normal_log_prob(z, mu, log_var).sum(-1)
                log_w.append(log_px.view(s, len(xb)) + log_pz - log_qz)  # (S, G)
            out.append(torch.cat(log_w).logsumexp(0) - math.log(k))
        return torch.cat(out)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        cond: Tensor | None = None,
        gen: torch.Generator | None = None,
        mode: str | None = None,
    ) -> Tensor:
        """(n, *shape) decodings of prior draws z ~ N(0, I).

        Args:
            mode: 'sample' (x ~ p(x|z); categorical levels drawn per dimension), 'mean'
                (E[x|z], for categorical decoders the expected level, not an integer) or
                'mode'; default `cfg.sample_mode`.
        """
        z = _randn((n, self.cfg.latent_dim), gen, self.device)
        return self.decode(z, mode or self.cfg.sample_mode, gen)


FAMILIES = {
    "vae": Family(
        VAEConfig, VAE, ("categorical", "binary", "continuous", "dequantized"), "gradient",
        "bound", "vae",
    ),
}  # fmt: skip
