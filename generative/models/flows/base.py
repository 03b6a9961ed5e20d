"""What every normalizing flow shares: exact log-likelihood by change of variables.

A flow is a stack of invertible layers f = f_K o ... o f_1 from data x to a standard normal
base z = f(x), so

    log p(x) = log N(f(x); 0, I) + sum_k log|det df_k/dh_{k-1}|

(Dinh et al. 2017, eq. 3; Papamakarios et al. 2021, "Normalizing Flows for Probabilistic
Modeling and Inference", arXiv:1912.02762), and sampling inverts: x = f^{-1}(z), z ~ N(0, I).
Images are flattened to (B, D) on the way in and reshaped back in `sample`.

Dequantized data y in [0, 1)^D first goes through the logit map of Dinh et al. 2017 (sec. 4.1),
    x = logit(alpha + (1 - 2 alpha) y),  log|dx/dy| = sum_d log(1 - 2 alpha) - log s_d(1 - s_d),
with s = alpha + (1 - 2 alpha) y, whose log-determinant is part of `log_prob`, so `log_prob`
stays the exact density of y.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.distributions import Normal

from generative.base import GenerativeModel
from generative.config_checks import check_float, check_int, check_widths
from generative.data import DataInfo

FLOW_KINDS = ("continuous", "dequantized")


MAX_FLOW_LAYERS = 256
"""Most layers of a flow: Glow (Kingma & Dhariwal 2018) stacks 32 steps on each of up to 6
levels, 192 in all; more only multiplies the weights."""

ACTNORM = ("every", "input", "none")
"""Where flows put ActNorm layers: before every layer, once at the input, or nowhere."""


def check_actnorm(actnorm: str) -> None:
    """Raise a one-line ValueError unless `actnorm` is one of `ACTNORM`."""
    if actnorm not in ACTNORM:
        raise ValueError(f"actnorm={actnorm!r}; allowed: {', '.join(ACTNORM)}")


def check_logit_alpha(alpha: float) -> None:
    """Raise a one-line ValueError unless 0 <= alpha < 0.5."""
    check_float("logit_alpha", alpha, 0.0, 0.5, open_high=True)


def check_positive(**values: float) -> None:
    """Raise a one-line ValueError naming the first value that is not finite and positive."""
    for name, value in values.items():
        check_float(name, value, 0.0, open_low=True)


def check_layers(num_layers: int, hidden: tuple[int, ...]) -> None:
    """Raise a one-line ValueError unless 1 <= num_layers <= `MAX_FLOW_LAYERS` and `hidden`
    is 1 to 64 widths, each 1 to 16,384, whose `num_layers` networks together hold at most
    2**30 weights between hidden layers (`generative.config_checks.check_widths`)."""
    check_int("num_layers", num_layers, 1, MAX_FLOW_LAYERS)
    check_widths("hidden", hidden, copies=num_layers)


def standard_normal(
    shape: tuple[int, ...], gen: torch.Generator | None, device: torch.device, dtype: torch.dtype
) -> Tensor:
    """N(0, I) draws on `device`, taken from `gen` (on its own device) when one is given."""
    if gen is None:
        return torch.randn(shape, device=device, dtype=dtype)
    return torch.randn(shape, generator=gen, device=gen.device, dtype=dtype).to(device)


class Flow(GenerativeModel):
    """A stack of invertible `layers` (data -> base) over a standard normal base.

    Subclasses build the layers; this class owns the base, the logit preprocessing of
    dequantized data, `log_prob`, `loss` and `sample`.
    """

    likelihood = "exact"

    def __init__(self, info: DataInfo, layers: list[nn.Module], logit_alpha: float) -> None:
        super().__init__(info)
        if info.kind not in FLOW_KINDS:
            raise ValueError(
                f"data kind {info.kind!r}; {type(self).__name__} models "
                f"{' or '.join(FLOW_KINDS)} data"
            )
        self.layers = nn.ModuleList(layers)
        self.logit_alpha = logit_alpha if info.kind == "dequantized" else 0.0

    def to_base(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = f(x) and log|det df/dx|.

        Args:
            x: (B, *info.shape) data.
        Returns:
            z: (B, D) base coordinates; log_det: (B,).
        """
        h = x.flatten(1)  # (B, D)
        log_det: Tensor | None = None
        alpha = self.logit_alpha
        if alpha > 0:
            s = alpha + (1 - 2 * alpha) * h
            log_s, log_1ms = torch.log(s), torch.log1p(-s)
            h = log_s - log_1ms
            log_det = (math.log(1 - 2 * alpha) - log_s - log_1ms).sum(-1)
        for layer in self.layers:
            h, layer_log_det = layer(h)
            log_det = layer_log_det if log_det is None else log_det + layer_log_det
        return h, log_det.expand(len(h))

    def from_base(self, z: Tensor) -> Tensor:
        """x = f^{-1}(z): (B, D) base coordinates -> (B, *info.shape) data."""
        h = z
        for layer in reversed(self.layers):
            h = layer.inverse(h)
        alpha = self.logit_alpha
        if alpha > 0:
            h = (torch.sigmoid(h) - alpha) / (1 - 2 * alpha)
        return h.reshape(len(z), *self.info.shape)

    def log_prob(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """(B,) exact log-density in nats: log N(f(x); 0, I) + log|det df/dx|."""
        z, log_det = self.to_base(x)
        base = Normal(z.new_zeros(()), z.new_ones(()), validate_args=False)  # N(0, I)
        log_base = base.log_prob(z).sum(-1)
        return log_base + log_det

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """Maximum likelihood: loss = -mean log p(x) in nats per example.

        Diagnostics: "bits_per_dim" for dequantized data with K levels,
        (-log p(y) + D ln K) / (D ln 2), the discrete-data bound of Theis et al. 2016.
        """
        nll = -self.log_prob(x).mean()
        out = {"loss": nll}
        if self.info.kind == "dequantized" and self.info.num_categories:
            D = self.info.dim
            bits = (nll + D * math.log(self.info.num_categories)) / (D * math.log(2))
            out["bits_per_dim"] = bits.detach()
        return out

    @torch.no_grad()
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, *info.shape) draws x = f^{-1}(z), z ~ N(0, I).

        Dequantized samples are clipped to [0, 1): the logit map lets a sliver of the model's
        mass fall just outside the unit cube.
        """
        if cond is not None:
            raise ValueError(f"{type(self).__name__} is unconditional; cond must be None")
        ref = next(self.parameters())
        z = standard_normal((n, self.info.dim), gen, ref.device, ref.dtype)
        x = self.from_base(z)
        if self.logit_alpha > 0:
            x = x.clamp(0.0, 1.0 - 1e-6)
        return x
