"""Diffusion models: DDPM on the data and latent diffusion on a VAE's codes.

Modules: `schedules` (beta schedules, sampling timesteps), `process` (forward process,
parameterisations, posterior, the variational bound), `samplers` (DDPM and DDIM steps),
`guidance` (classifier-free guidance), `embedding`, `unet` and `mlp` (denoisers), `config`,
`core` (a diffusion model on tensors), `ddpm`, `latent`.
"""

from __future__ import annotations

from generative.family import Family
from generative.models.diffusion.config import DDPMConfig
from generative.models.diffusion.ddpm import DDPM
from generative.models.diffusion.latent import LatentDiffusion, LatentDiffusionConfig

__all__ = ["DDPM", "FAMILIES", "DDPMConfig", "LatentDiffusion", "LatentDiffusionConfig"]

KINDS = ("continuous", "categorical", "dequantized", "binary")
FAMILIES = {
    "ddpm": Family(DDPMConfig, DDPM, KINDS, "gradient", "bound", "diffusion"),
    "latent_diffusion": Family(
        LatentDiffusionConfig, LatentDiffusion, KINDS, "gradient", "bound", "diffusion"
    ),
}
