"""Latent diffusion: a VAE compresses the data, a diffusion model learns the distribution of
its codes, and samples are decoded back to the data (Rombach et al. 2022).

Stage 1 trains the autoencoder (`generative.models.vae.VAE`, a KL-regularised autoencoder as
in Rombach et al. sec. 3.1; `vae_beta` weights the KL); stage 2 freezes it and trains the
diffusion model on codes z ~ q(z|x), rescaled by 1 / std(z) measured on the first stage-2
batch (their sec. 4.3.2 and appendix G), so the codes have roughly unit variance like the
process's N(0, I) prior. Both stages live in one model trained by the one loop
`generative.train.fit`: the model declares two parameter groups ("autoencoder",
"diffusion"), and `group_steps(step)` gives the autoencoder every update for the first
`stage1_steps` training steps and the diffusion model every update after, so the codes
do not move under the diffusion model and a config (and a checkpoint, which holds the step)
reproduces and resumes the whole pipeline. `train.steps` must exceed `stage1_steps`;
prefer a constant learning rate (a cosine schedule would give stage 2 only its tail). The
code scale is a buffer, so the loop's EMA copy receives it; that copy's autoencoder keeps
averaging towards the frozen weights during stage 2 (at rate `ema` per step). The
alternative, a config naming a pretrained autoencoder checkpoint, would make a run depend
on a file outside its run directory; training both stages here keeps one config, one loop.

Likelihood: with the diffusion model as the VAE's prior, the VAE's evidence bound holds
with the diffusion bound in place of log p(z) (Vahdat, Kreis & Kautz 2021, LSGM, eq. 3):

    log p(x) >= E_q(z|x)[log p(x|z) + log p(z) - log q(z|x)],
    log p(z) >= ELBO_diffusion(z / s) - L log s     (s = std of the codes, L = latent_dim),

so `log_prob` is a bound in nats on the same footing as the VAE's (categorical decoder on
the discrete digits, a density on dequantized and continuous data).

References:
    Rombach, Blattmann, Lorenz, Esser & Ommer 2022, "High-resolution image synthesis with
        latent diffusion models", arXiv:2112.10752.
    Vahdat, Kreis & Kautz 2021, "Score-based generative modeling in latent space",
        arXiv:2106.05931.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
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
from generative.models.diffusion.config import DDPMConfig
from generative.models.diffusion.core import DiffusionCore
from generative.models.diffusion.process import normal_noise
from generative.models.gaussian import normal_log_prob
from generative.models.vae import VAE, VAEConfig, drop_step_counter, reparameterize

__all__ = ["LatentDiffusion", "LatentDiffusionConfig"]

STAGES = ("autoencoder", "diffusion")


@dataclass(frozen=True)
class LatentDiffusionConfig(DDPMConfig):
    """Settings of `LatentDiffusion`: `DDPMConfig`'s diffusion settings (the denoiser is
    an MLP on the flat codes; `clip_denoised` does not apply to unbounded codes) plus the
    autoencoder and the stage split."""

    denoiser: str = "mlp"
    """'mlp' ('auto' means the same): the codes are flat vectors."""
    latent_dim: int = 8
    """L, the dimension of the codes; 1 to 4,096 (`MAX_LATENT`, as `VAEConfig.latent_dim`)."""
    vae_arch: str = "mlp"
    """Autoencoder architecture: 'mlp', 'conv' (images) or 'linear' (see `VAEConfig.arch`)."""
    vae_hidden: tuple[int, ...] = (256, 256)
    """Autoencoder hidden widths; bounded as `VAEConfig.hidden`."""
    vae_channels: tuple[int, ...] = (32, 64)
    """Autoencoder conv channels ('conv' only); bounded as `VAEConfig.channels`."""
    vae_beta: float = 1.0
    """Weight of the autoencoder's KL term (1 = a VAE; small = a lightly regularised AE);
    finite and >= 0."""
    vae_sample_mode: str = "sample"
    """How codes are decoded in `sample`: 'sample', 'mean' or 'mode' (`VAEConfig.sample_mode`)."""
    stage1_steps: int = 2000
    """Training steps of the autoencoder before the diffusion model's; 0 to 10**9
    (`MAX_STEPS`, the most a run trains)."""
    bound_samples: int = 1
    """Draws z ~ q(z|x) averaged in `log_prob` (each a bound, so the mean is one too); 1 to
    1,000 (each costs a whole diffusion bound, `timesteps` denoiser passes per example)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "vae_hidden", tuple(self.vae_hidden))
        object.__setattr__(self, "vae_channels", tuple(self.vae_channels))
        if self.denoiser not in ("auto", "mlp"):
            raise ValueError(f"denoiser={self.denoiser!r}; allowed: 'mlp' (the codes are flat)")
        check_int("latent_dim", self.latent_dim, 1, MAX_LATENT)
        check_widths("vae_hidden", self.vae_hidden, min_len=0, copies=2)
        check_widths(
            "vae_channels",
            self.vae_channels,
            MAX_CHANNELS,
            min_len=0,
            max_len=MAX_CONV_LEVELS,
            copies=0,
        )
        check_float("vae_beta", self.vae_beta, 0.0)
        check_int("stage1_steps", self.stage1_steps, 0, MAX_STEPS)
        check_int("bound_samples", self.bound_samples, 1, 1_000)
        self.vae_config()  # the autoencoder's own checks, with its messages

    def vae_config(self) -> VAEConfig:
        """The stage-1 autoencoder's settings."""
        return VAEConfig(
            arch=self.vae_arch,
            latent_dim=self.latent_dim,
            hidden=self.vae_hidden,
            channels=self.vae_channels,
            beta=self.vae_beta,
            sample_mode=self.vae_sample_mode,
        )


class LatentDiffusion(GenerativeModel):
    """A VAE (stage 1) and a diffusion model on its codes (stage 2); see the module docstring.

    Buffer: `latent_scale` s^-1 (0 until stage 2 starts). The training step, which the loop
    passes in, picks the stage.
    """

    likelihood = "bound"

    def __init__(self, info: DataInfo, cfg: LatentDiffusionConfig | None = None) -> None:
        super().__init__(info)
        cfg = cfg or LatentDiffusionConfig()
        self.cfg = cfg
        self.vae = VAE(info, cfg.vae_config())
        self.core = DiffusionCore((cfg.latent_dim,), cfg, info.num_classes)
        self.register_buffer("latent_scale", torch.zeros(()))
        self.register_load_state_dict_pre_hook(drop_step_counter)

    def stage(self, step: int) -> str:
        """'autoencoder' for the first `stage1_steps` training steps, then 'diffusion'."""
        return STAGES[step >= self.cfg.stage1_steps]

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {
            "autoencoder": list(self.vae.parameters()),
            "diffusion": list(self.core.parameters()),
        }

    def group_steps(self, step: int) -> dict[str, int]:
        """One update of the current stage's group per training step, none of the other's."""
        current = self.stage(step)
        return {name: int(name == current) for name in STAGES}

    def scale(self) -> Tensor:
        """The code scale factor 1 / std(z) (1 before stage 2 has measured it)."""
        return torch.where(
            self.latent_scale > 0, self.latent_scale, torch.ones_like(self.latent_scale)
        )

    def encode(
        self, x: Tensor, gen: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """A code z ~ q(z|x) and the posterior's (mu, log_var), each (B, L)."""
        mu, log_var = self.vae.encode(x)
        return (
            reparameterize(mu, log_var, normal_noise(tuple(mu.shape), gen, mu.device)),
            mu,
            log_var,
        )

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """The loss of stage `group` ('model': the stage of training step `step`).

        autoencoder: the VAE's negative beta-ELBO and its diagnostics ("recon", "kl", ...).
        diffusion: L_simple on the rescaled codes s^-1 z, z ~ q(z|x) from the frozen encoder.
        """
        if group == "model" and step is not None:
            group = self.stage(step)
        if group not in STAGES:
            raise ValueError(
                f"group={group!r}; allowed: {', '.join(STAGES)} (or 'model' with the step)"
            )
        if group == "autoencoder":
            return self.vae.loss(x, y, step=step)
        with torch.no_grad():
            z, _, _ = self.encode(x)
            if self.training and self.latent_scale == 0:
                self.latent_scale.fill_(1.0 / float(z.float().std().clamp_min(1e-6)))
        return {"loss": self.core.loss(z * self.scale(), y).mean()}

    @torch.no_grad()
    def log_prob(
        self, x: Tensor, y: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(B,) lower bound on log p(x) in nats: the VAE bound with the diffusion prior.

        Averages `bound_samples` single-draw bounds
        log p(x|z) + [ELBO_diff(s^-1 z) + L log s^-1] - log q(z|x),  z ~ q(z|x).
        Labels y as in `DDPM.log_prob`.
        """
        scale = self.scale()
        log_det = self.cfg.latent_dim * torch.log(scale)  # density of z from that of z / s
        total = torch.zeros(len(x), device=x.device)
        for _ in range(self.cfg.bound_samples):
            z, mu, log_var = self.encode(x, gen)
            log_px = self.vae.log_px_given_z(x, self.vae.decoder_params(z))
            log_qz = normal_log_prob(z, mu, log_var).sum(1)
            log_pz = self.core.log_likelihood_bound(z * scale, y, "gaussian", gen=gen) + log_det
            total = total + log_px + log_pz - log_qz
        return total / self.cfg.bound_samples

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
        """(n, *shape): codes from the diffusion model, decoded by the VAE.

        Options as in `DDPM.sample`; decoding follows `vae_sample_mode`.
        """
        z = self.core.sample(n, cond, gen, steps, eta, sampler, guidance) / self.scale()
        return self.vae.decode(z, self.cfg.vae_sample_mode, gen)
