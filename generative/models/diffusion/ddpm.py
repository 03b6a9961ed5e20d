"""Denoising diffusion probabilistic model (DDPM) on the data itself.

A forward process gradually adds Gaussian noise to the data; a network learns to undo one
step; sampling runs the learned reverse process from N(0, I) (Ho et al. 2020). Training
minimises L_simple, the error of the network's prediction of the noise (or of x_0, or of
v), at a uniformly drawn timestep (`process.GaussianDiffusion.training_loss`). Sampling uses
DDPM ancestral steps or DDIM steps on any sub-sequence of timesteps (`samplers`), with
classifier-free guidance for class-conditional models (`guidance`).

Data enter the diffusion scaled to [-1, 1] where they are bounded:

    categorical levels k in 0..K-1 (and binary, K = 2):  x = 2 k / (K - 1) - 1,
    dequantized y in [0, 1):                              x = 2 y - 1,
    continuous (2-D toys):                                x as it is.

`log_prob` is the variational bound (`likelihood = "bound"`) in nats, comparable with the
other families' numbers: for categorical and binary data the t = 0 decoder is the Gaussian
integrated over each level's bin (Ho et al. eq. 13), so the bound is on the discrete
log-probability of the levels; for dequantized and continuous data the decoder is a
Gaussian density, and the bound is on the density of the data in its own units
(log p(y) = log p(x) + D log 2 for dequantized y), to which `generative.evaluate` adds
D log K as for every density on dequantized data (Theis et al. 2016).

References:
    Ho, Jain & Abbeel 2020, "Denoising diffusion probabilistic models", arXiv:2006.11239.
    Song, Meng & Ermon 2021, "Denoising diffusion implicit models", arXiv:2010.02502.
    Ho & Salimans 2022, "Classifier-free diffusion guidance", arXiv:2207.12598.
    Theis, van den Oord & Bethge 2016, "A note on the evaluation of generative models",
        arXiv:1511.01844.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from generative.base import GenerativeModel
from generative.data import DataInfo
from generative.models.diffusion.config import DDPMConfig
from generative.models.diffusion.core import DiffusionCore

__all__ = ["DDPM", "DDPM_KINDS"]

DDPM_KINDS = ("continuous", "categorical", "dequantized", "binary")


class DDPM(GenerativeModel):
    """DDPM on data of any kind in `DDPM_KINDS`; see the module docstring.

    `sample(n, cond=None, gen=None, steps=..., eta=..., sampler=..., guidance=...)`: the
    keyword options override the config's sampling defaults for one call.
    """

    likelihood = "bound"

    def __init__(self, info: DataInfo, cfg: DDPMConfig | None = None) -> None:
        super().__init__(info)
        cfg = cfg or DDPMConfig()
        self.cfg = cfg
        if info.kind not in DDPM_KINDS:
            raise ValueError(f"data kind {info.kind!r}; DDPM models {', '.join(DDPM_KINDS)} data")
        self.levels = {"categorical": info.num_categories or 0, "binary": 2}.get(info.kind, 0)
        if info.kind == "categorical" and self.levels < 2:
            raise ValueError(f"num_categories={info.num_categories}; categorical needs >= 2")
        self.decoder = "discrete" if self.levels else "gaussian"
        self.clip = cfg.clip_denoised and info.kind != "continuous"
        self.core = DiffusionCore(info.shape, cfg, info.num_classes)

    # ------------------------------------------------------------------------------- units
    def to_diffusion(self, x: Tensor) -> Tensor:
        """Data (B, *shape) -> diffusion units ([-1, 1] for bounded kinds), float32."""
        x = x.float()
        if self.levels:
            return x * (2.0 / (self.levels - 1)) - 1.0
        if self.info.kind == "dequantized":
            return 2.0 * x - 1.0
        return x

    def from_diffusion(self, x: Tensor) -> Tensor:
        """Diffusion units -> data: nearest level for discrete kinds, [0, 1) for dequantized."""
        if self.levels:
            return ((x + 1.0) * ((self.levels - 1) / 2.0)).round().clamp(0, self.levels - 1)
        if self.info.kind == "dequantized":
            return ((x + 1.0) / 2.0).clamp(0.0, 1.0 - 1e-6)
        return x

    # ------------------------------------------------------------------------ objectives
    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """L_simple: mean squared error of the network's prediction (Ho et al. eq. 14).

        Returns:
            {"loss": mean over batch and dimensions of ||target - output||^2}.
        """
        return {"loss": self.core.loss(self.to_diffusion(x), y).mean()}

    @torch.no_grad()
    def log_prob(
        self, x: Tensor, y: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(B,) variational lower bound on log p(x) in nats (Ho et al. eq. 5).

        T forward passes per example. For class-conditional models, with labels y the bound
        is on the label mixture that `sample` draws from (see
        `DiffusionCore.log_likelihood_bound`), without them on the null-class model.

        Args:
            x: (B, *shape) data.
            y: (B,) labels, for class-conditional models.
            gen: generator of the x_t draws, for reproducible estimates.
        """
        log_p = self.core.log_likelihood_bound(
            self.to_diffusion(x), y, self.decoder, self.levels, self.clip, gen
        )
        if self.info.kind == "dequantized":
            log_p = log_p + self.info.dim * math.log(2.0)  # |dx/dy| = 2 per dimension
        return log_p

    @torch.no_grad()
    def sample(
        self,
        n: int,
        cond: Tensor | None = None,
        gen: torch.Generator | None = None,
        *,
        steps: int | None = None,
        eta: float | None = None,
        sampler: str | None = None,
        guidance: float | None = None,
    ) -> Tensor:
        """(n, *shape) samples of the reverse process, mapped back to the data.

        Args:
            cond: (n,) labels for class-conditional models (default: uniform from `gen`).
            steps: S sampling steps, 1..T (default `cfg.sample_steps`).
            eta: DDIM stochasticity (default `cfg.eta`).
            sampler: 'ddim' or 'ddpm' (default `cfg.sampler`).
            guidance: classifier-free guidance weight w (default `cfg.guidance`).
        """
        x = self.core.sample(n, cond, gen, steps, eta, sampler, guidance, self.clip)
        return self.from_diffusion(x)
