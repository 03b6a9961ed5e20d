"""Deterministic autoencoders: linear, MLP and convolutional, trained on squared error.

An encoder f maps x (D values) to a code h = f(x) (k values) and a decoder g maps it back;
training minimises the mean squared reconstruction error

    loss = 1/(B D) sum_b ||x_b - g(f(x_b))||^2.

The linear autoencoder (one affine map each way, no nonlinearity) has no spurious local
minima and its optimum spans the top-k principal subspace, so its error converges to PCA's
(Baldi & Hornik 1989; see `generative.models.pca`).

Inputs are centred by a running mean of the training batches (a fixed shift, not a learned
one) and the decoder adds it back; the optimum is unchanged, but plain gradient descent on a
linear autoencoder converges several times faster on centred data.

An autoencoder defines no density (`likelihood = "none"`, `log_prob` raises). `sample` is a
heuristic: it decodes codes drawn from a Gaussian N(m, S) fitted to training codes (an
exponential moving average over the batches seen in training, or exactly with
`fit_codes(x)`); nothing makes decoded Gaussian codes look like data, which is the gap the
VAE closes.

References:
    Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data with neural
        networks", Science 313.
    Baldi & Hornik 1989, "Neural networks and principal component analysis", Neural Networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from generative.base import GenerativeModel
from generative.config_checks import (
    MAX_CHANNELS,
    MAX_CONV_LEVELS,
    MAX_LATENT,
    check_float,
    check_int,
    check_widths,
)
from generative.data import DataInfo
from generative.family import Family
from generative.models.layers import ConvDecoder, ConvEncoder, check_activation, mlp

__all__ = ["FAMILIES", "Autoencoder", "AutoencoderConfig"]

ARCHS = ("linear", "mlp", "conv")


@dataclass(frozen=True)
class AutoencoderConfig:
    """Settings of `Autoencoder`."""

    arch: str = "mlp"
    """'linear' (one affine or linear map each way), 'mlp' or 'conv' (images only)."""
    code_size: int = 8
    """k, the dimension of the code; 1 to 4,096 (`MAX_LATENT`: far above the 64 pixels of a
    digit, and the code covariance kept for `sample` is still only 64 MiB)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of the MLPs; for 'conv', of the dense layers between convs and code. At
    most 64 layers, each 1 to 16,384 wide, at most 2**30 weights between hidden layers in
    encoder and decoder together (`config_checks`: what trains in 24 GiB)."""
    channels: tuple[int, ...] = (32, 64)
    """Conv channels, one stride-2 layer each ('conv' only); at most 8 levels (256-pixel
    images reach 1 x 1), each 1 to 4,096 channels (0.6 GiB of weights per 3x3 conv)."""
    activation: str = "relu"
    """Hidden nonlinearity, a key of `layers.ACTIVATIONS`."""
    dropout: float = 0.0
    """Dropout on hidden units during training, in [0, 1)."""
    bias: bool = True
    """Biases in the 'linear' autoencoder; not needed to reach PCA, as inputs are centred."""
    code_momentum: float = 0.01
    """Least weight of a training batch in the running averages of the input mean and of
    the code mean and covariance (early batches get 1/t, a plain running mean); in (0, 1]."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "channels", tuple(self.channels))
        if self.arch not in ARCHS:
            raise ValueError(f"arch={self.arch!r}; allowed: {', '.join(ARCHS)}")
        check_activation(self.activation)
        check_int("code_size", self.code_size, 1, MAX_LATENT)
        check_widths("hidden", self.hidden, min_len=0, copies=2)
        check_widths(
            "channels", self.channels, MAX_CHANNELS, min_len=0, max_len=MAX_CONV_LEVELS, copies=0
        )
        if self.arch == "conv" and not self.channels:
            raise ValueError("channels=(); arch='conv' needs at least one conv layer")
        check_float("dropout", self.dropout, 0.0, 1.0, open_high=True)
        check_float("code_momentum", self.code_momentum, 0.0, 1.0, open_low=True)


class Autoencoder(GenerativeModel):
    """Autoencoder x -> h = f(x) (B, k) -> x_hat = g(h) (B, *shape).

    Inputs reach the encoder scaled to [0, 1] (categorical levels divided by
    num_categories - 1) and centred by `input_mean`; the decoder's output is shifted and
    scaled back, so `reconstruct` and the loss are in data units.
    """

    likelihood = "none"

    def __init__(self, info: DataInfo, cfg: AutoencoderConfig | None = None) -> None:
        super().__init__(info)
        cfg = cfg or AutoencoderConfig()
        self.cfg = cfg
        if info.kind == "categorical" and (info.num_categories or 0) < 2:
            raise ValueError(f"num_categories={info.num_categories}; categorical needs >= 2")
        scale = (info.num_categories - 1) if info.kind == "categorical" else 1.0
        self.register_buffer("input_scale", torch.tensor(float(scale)))
        k, d = cfg.code_size, info.dim
        if cfg.arch == "conv":
            self.encoder = ConvEncoder(
                info.shape, cfg.channels, k, cfg.hidden, cfg.activation, cfg.dropout
            )
            self.decoder = ConvDecoder(
                k,
                info.shape,
                cfg.channels,
                info.shape[0],
                tuple(reversed(cfg.hidden)),
                cfg.activation,
                cfg.dropout,
            )
        elif cfg.arch == "mlp":
            self.encoder = mlp(d, cfg.hidden, k, cfg.activation, cfg.dropout)
            self.decoder = mlp(k, tuple(reversed(cfg.hidden)), d, cfg.activation, cfg.dropout)
        else:
            self.encoder = mlp(d, (), k, bias=cfg.bias)
            self.decoder = mlp(k, (), d, bias=cfg.bias)
        self.register_buffer("input_mean", torch.zeros(d))
        self.register_buffer("code_mean", torch.zeros(k))
        self.register_buffer("code_second_moment", torch.eye(k))
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))

    def encode(self, x: Tensor) -> Tensor:
        """Codes h (B, k) of x (B, *shape)."""
        inp = x.reshape(len(x), -1) / self.input_scale - self.input_mean  # (B, D)
        if self.cfg.arch == "conv":
            inp = inp.view(len(x), *self.info.shape)
        return self.encoder(inp)

    def decode(self, h: Tensor) -> Tensor:
        """Reconstructions (B, *shape), real-valued, from codes h (B, k)."""
        out = self.decoder(h).reshape(len(h), -1) + self.input_mean  # (B, D)
        return (out * self.input_scale).reshape(len(h), *self.info.shape)

    def reconstruct(self, x: Tensor) -> Tensor:
        """g(f(x)), (B, *shape)."""
        return self.decode(self.encode(x))

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """Mean squared reconstruction error per dimension.

        Returns:
            {"loss": 1/(B D) sum ||x - x_hat||^2, "sse": 1/B sum_b ||x_b - x_hat_b||^2, the
            per-example summed squared error}.
        """
        if self.training and torch.is_grad_enabled():
            self._track_inputs(x)
        h = self.encode(x)
        sq = ((self.decode(h) - x) ** 2).reshape(len(x), -1)  # (B, D)
        if self.training and torch.is_grad_enabled():
            self._track_codes(h.detach())
        return {"loss": sq.mean(), "sse": sq.sum(1).mean().detach()}

    def _average_weight(self) -> float:
        return max(1.0 / float(self.num_updates), self.cfg.code_momentum)

    @torch.no_grad()
    def _track_inputs(self, x: Tensor) -> None:
        self.num_updates += 1
        mean = x.reshape(len(x), -1).mean(0) / self.input_scale
        self.input_mean.lerp_(mean, self._average_weight())

    @torch.no_grad()
    def _track_codes(self, h: Tensor) -> None:
        w = self._average_weight()
        self.code_mean.lerp_(h.mean(0), w)
        self.code_second_moment.lerp_(h.T @ h / len(h), w)

    @torch.no_grad()
    def fit_codes(self, x: Tensor) -> None:
        """Set the code Gaussian of `sample` to the exact mean and covariance of f(x)."""
        h = self.encode(x.to(self.device))
        self.code_mean.copy_(h.mean(0))
        self.code_second_moment.copy_(h.T @ h / len(h))

    def code_covariance(self) -> Tensor:
        """(k, k) covariance S = E[h h^T] - m m^T of the code Gaussian."""
        return self.code_second_moment - torch.outer(self.code_mean, self.code_mean)

    @torch.no_grad()
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, *shape) decodings g(h) of h ~ N(m, S), the Gaussian fitted to training codes.

        A heuristic, not a draw from a model: see the module docstring. Categorical and
        binary outputs are rounded and clipped to valid levels.
        """
        k = self.cfg.code_size
        cov = self.code_covariance()
        jitter = 1e-6 * cov.diagonal().mean().clamp_min(1e-12)
        chol = torch.linalg.cholesky(cov + jitter * torch.eye(k, device=cov.device))
        if gen is None:
            eps = torch.randn(n, k, device=self.device)
        else:
            eps = torch.randn(n, k, generator=gen, device=gen.device).to(self.device)
        x = self.decode(self.code_mean + eps @ chol.T)
        if self.info.kind == "categorical":
            return x.round().clamp(0, self.info.num_categories - 1)
        if self.info.kind == "binary":
            return x.round().clamp(0, 1)
        return x


FAMILIES = {
    "autoencoder": Family(
        AutoencoderConfig, Autoencoder, ("dequantized", "continuous"), "gradient", "none",
        "autoencoder",
    ),
}  # fmt: skip
