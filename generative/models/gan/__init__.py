"""Generative adversarial networks: GAN, GAN + R1, SNGAN + R1, WGAN-GP, PacGAN (see `models`)."""

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
    "MODELS",
    "SNGANR1",
    "WGANGP",
    "GANConfig",
    "GANR1Config",
    "PacGAN",
    "PacGANConfig",
    "SNGANR1Config",
    "WGANGPConfig",
]

MODELS = {
    "gan": (GANConfig, GAN),
    "gan_r1": (GANR1Config, GANR1),
    "wgan_gp": (WGANGPConfig, WGANGP),
    "sngan_r1": (SNGANR1Config, SNGANR1),
    "pacgan": (PacGANConfig, PacGAN),
}
