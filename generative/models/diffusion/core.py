"""A diffusion model on tensors of a fixed shape: denoiser + process + conditioning + sampling.

`DiffusionCore` works in the diffusion's own units (images in [-1, 1], toys and latent codes
as they are). `DDPM` puts it on the data, `LatentDiffusion` on an autoencoder's codes; both
own the mapping to and from their units, this class owns the rest.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from generative.models.diffusion.config import DDPMConfig
from generative.models.diffusion.guidance import drop_labels, guided
from generative.models.diffusion.mlp import MLPDenoiser
from generative.models.diffusion.process import Denoise, GaussianDiffusion, normal_noise
from generative.models.diffusion.samplers import SAMPLERS, sample_loop
from generative.models.diffusion.schedules import make_betas, timestep_sequence
from generative.models.diffusion.unet import UNet

__all__ = ["DiffusionCore"]


class DiffusionCore(nn.Module):
    """Denoiser and Gaussian diffusion over examples of `shape`.

    Args:
        shape: one example's shape in diffusion units, (C, H, W) or (D,).
        cfg: the diffusion settings.
        num_classes: the data's label classes (used when `cfg.class_conditional`).
    """

    def __init__(self, shape: tuple[int, ...], cfg: DDPMConfig, num_classes: int | None) -> None:
        super().__init__()
        self.shape, self.cfg = tuple(shape), cfg
        if cfg.class_conditional and not num_classes:
            raise ValueError("class_conditional=True needs labelled data; this data has none")
        self.num_classes = num_classes if cfg.class_conditional else None
        arch = cfg.denoiser
        if arch == "auto":
            arch = "unet" if len(self.shape) == 3 else "mlp"
        self.arch = arch
        if arch == "unet":
            self.net: nn.Module = UNet(
                self.shape,
                cfg.channels,
                cfg.blocks,
                cfg.attention,
                cfg.embed_dim,
                cfg.dropout,
                self.num_classes,
            )
        else:
            dim = math.prod(self.shape)
            self.net = MLPDenoiser(dim, cfg.hidden, cfg.embed_dim, cfg.dropout, self.num_classes)
        betas = make_betas(cfg.schedule, cfg.timesteps, cfg.beta_start, cfg.beta_end)
        self.process = GaussianDiffusion(betas, cfg.prediction, cfg.variance)

    @property
    def null(self) -> int:
        """The null-class label (= number of classes)."""
        return self.num_classes or 0

    def network(self, x_t: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        """The denoiser's output for x_t (B, *shape) at timesteps t (B,) and labels y."""
        if self.arch == "mlp":
            return self.net(x_t.flatten(1), t, y).view(x_t.shape)
        return self.net(x_t, t, y)

    def _bind(self, y: Tensor | None) -> Denoise:
        """(x_t, t) -> output with labels y; the bound passes the batch tiled k times."""

        def denoise(x_t: Tensor, t: Tensor) -> Tensor:
            labels = y if y is None or len(y) == len(x_t) else y.repeat(len(x_t) // len(y))
            return self.network(x_t, t, labels)

        return denoise

    def _labels(self, y: Tensor | None, what: str) -> Tensor | None:
        if self.num_classes is None:
            return None
        if y is None:
            raise ValueError(f"class_conditional=True: {what} needs labels y")
        return y.long()

    def loss(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """L_simple per example (B,), labels dropped to the null class with p_uncond."""
        labels = self._labels(y, "training")
        if labels is not None:
            labels = drop_labels(labels, self.cfg.p_uncond, self.null)
        return self.process.training_loss(self._bind(labels), x)

    def log_likelihood_bound(
        self,
        x: Tensor,
        y: Tensor | None,
        decoder: str,
        levels: int = 0,
        clip: bool = False,
        gen: torch.Generator | None = None,
    ) -> Tensor:
        """(B,) a lower bound on log p(x) in nats, in diffusion units.

        Unconditional models: -negative_bound. Class-conditional models with labels y: the
        model is the mixture p(x) = 1/C sum_c p(x|c) that `sample` draws from (labels
        uniform), and log p(x) >= log p(x|y) - log C for any y, so the true label gives a
        bound (tight when the classes barely overlap). Without labels: the null-class
        (unconditional) model's bound, which needs p_uncond > 0.
        """
        if self.num_classes is not None and y is None and self.cfg.p_uncond == 0:
            raise ValueError(
                "p_uncond=0: no unconditional model was trained; pass labels y for the bound"
            )
        labels = None if y is None or self.num_classes is None else y.long()
        if self.num_classes is not None and labels is None:
            labels = torch.full((len(x),), self.null, dtype=torch.long, device=x.device)
        nb = self.process.negative_bound(
            self._bind(labels), x, decoder, levels, clip, gen, self.cfg.bound_chunk
        )
        if self.num_classes is not None and y is not None:
            return -nb - math.log(self.num_classes)
        return -nb

    @torch.no_grad()
    def sample(
        self,
        n: int,
        cond: Tensor | None = None,
        gen: torch.Generator | None = None,
        steps: int | None = None,
        eta: float | None = None,
        sampler: str | None = None,
        guidance: float | None = None,
        clip: bool = False,
    ) -> Tensor:
        """(n, *shape) draws, in diffusion units; None options take the config's defaults.

        Class-conditional models draw labels uniformly from `gen` when `cond` is None.
        """
        cfg = self.cfg
        steps = cfg.sample_steps if steps is None else steps
        eta = cfg.eta if eta is None else eta
        sampler = cfg.sampler if sampler is None else sampler
        weight = cfg.guidance if guidance is None else guidance
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler={sampler!r}; allowed: {', '.join(SAMPLERS)}")
        if eta < 0 or weight < -1:
            raise ValueError(f"eta={eta}, guidance={weight}; need eta >= 0 and guidance >= -1")
        device = self.process.alpha_bar.device
        if self.num_classes is None:
            if cond is not None or weight != 0:
                raise ValueError("this model is unconditional: cond must be None, guidance 0")
            denoise = self._bind(None)
        else:
            if cond is None:
                if gen is None:
                    cond = torch.randint(self.num_classes, (n,), device=device)
                else:
                    cond = torch.randint(self.num_classes, (n,), generator=gen, device=gen.device)
            if cond.shape != (n,) or bool(((cond < 0) | (cond >= self.num_classes)).any()):
                raise ValueError(f"cond must be ({n},) labels in 0..{self.num_classes - 1}")
            if weight != 0 and self.cfg.p_uncond == 0:
                raise ValueError("guidance needs an unconditional model; train with p_uncond > 0")
            denoise = guided(self.network, cond.long().to(device), weight, self.null)
        x_T = normal_noise((n, *self.shape), gen, device)
        seq = timestep_sequence(cfg.timesteps, steps, cfg.spacing)
        return sample_loop(
            denoise,
            x_T,
            self.process.alpha_bar,
            seq,
            cfg.prediction,
            sampler,
            eta,
            cfg.variance,
            clip,
            gen,
        )
