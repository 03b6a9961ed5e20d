"""Settings of the diffusion families (`DDPMConfig`; `LatentDiffusionConfig` extends it)."""

from __future__ import annotations

from dataclasses import dataclass

from generative.config_checks import (
    MAX_CHANNELS,
    MAX_CONV_LEVELS,
    check_float,
    check_int,
    check_widths,
)
from generative.models.diffusion.process import PREDICTIONS, VARIANCES
from generative.models.diffusion.samplers import SAMPLERS
from generative.models.diffusion.schedules import SCHEDULES, SPACINGS

__all__ = ["DENOISERS", "DDPMConfig"]

DENOISERS = ("auto", "unet", "mlp")
MAX_TIMESTEPS = 10_000
"""Most diffusion steps T: ten times Ho et al.'s 1,000; the bound and the full chain take T
denoiser passes per example."""


@dataclass(frozen=True)
class DDPMConfig:
    """Settings of `DDPM`: the process, the denoiser, conditioning, sampling and the bound."""

    timesteps: int = 1000
    """T, the steps of the forward process (Ho et al. 2020 use 1000); 2 to 10,000 (the bound
    and the full chain take T denoiser passes per example)."""
    schedule: str = "linear"
    """'linear' (Ho et al. 2020) or 'cosine' (Nichol & Dhariwal 2021, s = 0.008)."""
    beta_start: float = 1e-4
    """beta_1 of the linear schedule at T = 1000 (scaled by 1000 / T for other T); in (0, 1)
    and below `beta_end`."""
    beta_end: float = 0.02
    """beta_T of the linear schedule at T = 1000 (scaled by 1000 / T, capped at 0.999); in
    (0, 1)."""
    prediction: str = "epsilon"
    """What the network predicts: 'epsilon' (Ho et al.), 'x0' or 'v' (Salimans & Ho 2022)."""
    variance: str = "fixed_large"
    """Reverse-step variance: 'fixed_large' (beta_t; Ho et al.'s CIFAR-10 setting) or
    'fixed_small' (beta_tilde_t). It enters the bound and the 'ddpm' sampler, not training;
    'fixed_large' gives the tighter bound (with the exact denoiser of a narrow 2-D Gaussian:
    0.07 against 1.06 nats above the true NLL)."""
    denoiser: str = "auto"
    """'unet' (images (C, H, W)), 'mlp' (flattened input) or 'auto' (unet for images)."""
    channels: tuple[int, ...] = (32, 64)
    """U-Net width per resolution level, highest resolution first; 1 to 8 levels (each halves
    H and W), each 1 to 4,096 channels (0.6 GiB of weights per 3x3 conv)."""
    blocks: int = 1
    """U-Net residual blocks per level; 1 to 16 (Ho et al. use 2, Dhariwal & Nichol 3)."""
    attention: bool = True
    """Self-attention in the U-Net's middle block."""
    hidden: tuple[int, ...] = (256, 256, 256)
    """MLP denoiser hidden widths: 1 to 64 layers, each 1 to 16,384 wide, at most 2**30
    weights between hidden layers (`config_checks`: what trains in 24 GiB)."""
    embed_dim: int = 128
    """Width of the timestep (and class) embedding; even, 2 to 4,096 (its MLP holds two
    embed_dim x embed_dim layers, and every residual block projects it)."""
    dropout: float = 0.0
    """Dropout inside the denoiser, in [0, 1)."""
    class_conditional: bool = False
    """Condition on the data's labels (classifier-free guidance; needs labelled data)."""
    p_uncond: float = 0.1
    """Probability of replacing a training label by the null class (Ho & Salimans: 0.1-0.2);
    0 trains no unconditional model, so guidance and the null-class bound are unavailable;
    in [0, 1)."""
    guidance: float = 0.0
    """Default guidance weight w: eps = (1 + w) eps(x, y) - w eps(x, null); 0 = conditional,
    -1 = unconditional (Ho & Salimans 2022 convention); finite and >= -1."""
    sampler: str = "ddim"
    """Default sampler of `sample`: 'ddim' (Song et al. 2021) or 'ddpm' (ancestral)."""
    sample_steps: int = 100
    """Default number of sampling steps S (1..timesteps; S = T is the full chain)."""
    eta: float = 0.0
    """Default DDIM stochasticity: 0 deterministic, 1 the DDPM posterior variance; finite and
    >= 0."""
    spacing: str = "trailing"
    """Timestep sub-sequence for S < T: 'trailing' (Lin et al. 2024) or 'leading' (DDIM)."""
    clip_denoised: bool = True
    """Clip the predicted x_0 to the data range on bounded data (images), in sampling and in
    the bound; never on real-valued data."""
    bound_chunk: int = 4096
    """Most (example, timestep) pairs per forward pass when computing the bound; 1 to 65,536
    (that many 8x8 digits through the default U-Net take about 5.5 GiB)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "hidden", tuple(self.hidden))
        for name, allowed in (
            ("schedule", SCHEDULES),
            ("prediction", PREDICTIONS),
            ("variance", VARIANCES),
            ("denoiser", DENOISERS),
            ("sampler", SAMPLERS),
            ("spacing", SPACINGS),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r}; allowed: {', '.join(allowed)}")
        check_int("timesteps", self.timesteps, 2, MAX_TIMESTEPS)
        check_float("beta_start", self.beta_start, 0.0, 1.0, open_low=True, open_high=True)
        check_float("beta_end", self.beta_end, 0.0, 1.0, open_low=True, open_high=True)
        if not self.beta_start < self.beta_end:
            raise ValueError(
                f"beta_start={self.beta_start}, beta_end={self.beta_end}; "
                "need 0 < beta_start < beta_end < 1"
            )
        check_int("sample_steps", self.sample_steps, 1, MAX_TIMESTEPS)
        if self.sample_steps > self.timesteps:
            raise ValueError(
                f"sample_steps={self.sample_steps}; must lie in 1..timesteps={self.timesteps}"
            )
        check_int("blocks", self.blocks, 1, 16)
        check_int("bound_chunk", self.bound_chunk, 1, 65_536)
        check_widths("channels", self.channels, MAX_CHANNELS, max_len=MAX_CONV_LEVELS, copies=0)
        check_widths("hidden", self.hidden)
        check_int("embed_dim", self.embed_dim, 2, 4_096)
        if self.embed_dim % 2:
            raise ValueError(f"embed_dim={self.embed_dim}; must be even")
        check_float("dropout", self.dropout, 0.0, 1.0, open_high=True)
        check_float("p_uncond", self.p_uncond, 0.0, 1.0, open_high=True)
        check_float("guidance", self.guidance, -1.0)
        check_float("eta", self.eta, 0.0)
