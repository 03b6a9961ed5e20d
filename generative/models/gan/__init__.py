"""Generative adversarial networks: GAN, WGAN-GP, SNGAN + R1 and PacGAN (see `models`)."""

from generative.models.gan.models import (
    GAN,
    SNGANR1,
    WGANGP,
    GANConfig,
    PacGAN,
    PacGANConfig,
    SNGANR1Config,
    WGANGPConfig,
)

__all__ = [
    "GAN",
    "MODELS",
    "SNGANR1",
    "WGANGP",
    "GANConfig",
    "PacGAN",
    "PacGANConfig",
    "SNGANR1Config",
    "WGANGPConfig",
]

MODELS = {
    "gan": (GANConfig, GAN),
    "wgan_gp": (WGANGPConfig, WGANGP),
    "sngan_r1": (SNGANR1Config, SNGANR1),
    "pacgan": (PacGANConfig, PacGAN),
}
