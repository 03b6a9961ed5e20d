"""Generative adversarial networks: GAN, GAN + R1, SNGAN + R1, WGAN-GP, PacGAN (see `models`)."""

from generative.family import Family
from generative.models.gan.models import (
    GAN,
    GANR1,
    SNGANR1,
    WGANGP,
    GANConfig,
    GANR1Config,
    PacGAN,
    PacGANConfig,
    SNGANR1Config,
    WGANGPConfig,
)

__all__ = [
    "GAN",
    "GANR1",
    "FAMILIES",
    "SNGANR1",
    "WGANGP",
    "GANConfig",
    "GANR1Config",
    "PacGAN",
    "PacGANConfig",
    "SNGANR1Config",
    "WGANGPConfig",
]

KINDS = ("continuous", "dequantized")
FAMILIES = {
    "gan": Family(GANConfig, GAN, KINDS, "gradient", "none", "gan"),
    "gan_r1": Family(GANR1Config, GANR1, KINDS, "gradient", "none", "gan"),
    "wgan_gp": Family(WGANGPConfig, WGANGP, KINDS, "gradient", "none", "gan"),
    "sngan_r1": Family(SNGANR1Config, SNGANR1, KINDS, "gradient", "none", "gan"),
    "pacgan": Family(PacGANConfig, PacGAN, KINDS, "gradient", "none", "gan"),
}
