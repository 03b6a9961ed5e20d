"""Settings of the diffusion families (`DDPMConfig`; `LatentDiffusionConfig` extends it)."""

from __future__ import annotations

from dataclasses import dataclass

from generative.models.diffusion.process import PREDICTIONS, VARIANCES
from generative.models.diffusion.samplers import SAMPLERS
from generative.models.diffusion.schedules import SCHEDULES, SPACINGS

__all__ = ["DENOISERS", "DDPMConfig"]

DENOISERS = ("auto", "unet", "mlp")


@dataclass(frozen=True)
class DDPMConfig:
    """Settings of `DDPM`: the process, the denoiser, conditioning, sampling and the bound."""

    timesteps: int = 1000
    """T, the steps of the forward process (Ho et al. 2020 use 1000)."""
    schedule: str = "linear"
    """'linear' (Ho et al. 2020) or 'cosine' (Nichol & Dhariwal 2021, s = 0.008)."""
    beta_start: float = 1e-4
    """beta_1 of the linear schedule at T = 1000 (scaled by 1000 / T for other T)."""
    beta_end: float = 0.02
    """beta_T of the linear schedule at T = 1000 (scaled by 1000 / T, capped at 0.999)."""
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
    """U-Net width per resolution level, highest resolution first."""
    blocks: int = 1
    """U-Net residual blocks per level."""
    attention: bool = True
    """Self-attention in the U-Net's middle block."""
    hidden: tuple[int, ...] = (256, 256, 256)
    """MLP denoiser hidden widths."""
    embed_dim: int = 128
    """Width of the timestep (and class) embedding; even."""
    dropout: float = 0.0
    """Dropout inside the denoiser."""
    class_conditional: bool = False
    """Condition on the data's labels (classifier-free guidance; needs labelled data)."""
    p_uncond: float = 0.1
    """Probability of replacing a training label by the null class (Ho & Salimans: 0.1-0.2);
    0 trains no unconditional model, so guidance and the null-class bound are unavailable."""
    guidance: float = 0.0
    """Default guidance weight w: eps = (1 + w) eps(x, y) - w eps(x, null); 0 = conditional,
    -1 = unconditional (Ho & Salimans 2022 convention)."""
    sampler: str = "ddim"
    """Default sampler of `sample`: 'ddim' (Song et al. 2021) or 'ddpm' (ancestral)."""
    sample_steps: int = 100
    """Default number of sampling steps S (1..timesteps; S = T is the full chain)."""
    eta: float = 0.0
    """Default DDIM stochasticity: 0 deterministic, 1 the DDPM posterior variance."""
    spacing: str = "trailing"
    """Timestep sub-sequence for S < T: 'trailing' (Lin et al. 2024) or 'leading' (DDIM)."""
    clip_denoised: bool = True
    """Clip the predicted x_0 to the data range on bounded data (images), in sampling and in
    the bound; never on real-valued data."""
    bound_chunk: int = 4096
    """Most (example, timestep) pairs per forward pass when computing the bound."""

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
        if self.timesteps < 2:
            raise ValueError(f"timesteps={self.timesteps}; must be at least 2")
        if not 0 < self.beta_start < self.beta_end < 1:
            raise ValueError(
                f"beta_start={self.beta_start}, beta_end={self.beta_end}; "
                "need 0 < beta_start < beta_end < 1"
            )
        if not 1 <= self.sample_steps <= self.timesteps:
            raise ValueError(
                f"sample_steps={self.sample_steps}; must lie in 1..timesteps={self.timesteps}"
            )
        for name in ("blocks", "bound_chunk"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)}; must be at least 1")
        if not self.channels or any(c < 1 for c in self.channels):
            raise ValueError(f"channels={self.channels}; need at least one width, each >= 1")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden={self.hidden}; need at least one width, each >= 1")
        if self.embed_dim < 2 or self.embed_dim % 2:
            raise ValueError(f"embed_dim={self.embed_dim}; must be a positive even number")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout}; must lie in [0, 1)")
        if not 0.0 <= self.p_uncond < 1.0:
            raise ValueError(f"p_uncond={self.p_uncond}; must lie in [0, 1)")
        if self.guidance < -1:
            raise ValueError(f"guidance={self.guidance}; must be >= -1 (-1 = unconditional)")
        if self.eta < 0:
            raise ValueError(f"eta={self.eta}; must be >= 0")
