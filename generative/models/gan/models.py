"""Five GAN families under the `GenerativeModel` interface: two players, one training loop.

- "gan": the non-saturating GAN (Goodfellow et al. 2014).
- "wgan_gp": Wasserstein GAN with gradient penalty (Gulrajani et al. 2017): `critic_steps`
  critic updates per generator update, lambda = 10, Adam betas (0.5, 0.9).
- "gan_r1": the non-saturating GAN with the R1 penalty on data (Mescheder et al. 2018).
- "sngan_r1": the same with a spectrally normalised discriminator (Miyato et al. 2018).
- "pacgan": the non-saturating GAN whose discriminator judges m samples at once (Lin et al.
  2018).

The players are `param_groups()` {"discriminator", "generator"}, updated in that order;
`generative.train.fit` asks `loss(x, group=...)` for each in turn and owns the optimisers,
whose per-player learning rates and betas come from `optimizer_options()` (they override
`FitConfig.lr`). GANs have no likelihood (`likelihood = "none"`).

Defaults are tuned for short CPU runs. On the mode-collapse toys of VEEGAN and PacGAN
("ring8", "grid25"; 2500 samples, a sample is high-quality within 3 std of its nearest mode,
a mode is covered by at least one high-quality sample), `fit` with
FitConfig(steps=16000, batch_size=128, lr_schedule="cosine") covers 8/8 and 25/25 modes with
96 % and 92 % high-quality samples for "gan_r1" (5 seeds, ~70-90 s on one CPU thread); the
plain "gan" drops modes on some seeds and the 1-Lipschitz discriminators of "sngan_r1" and
"wgan_gp" cannot resolve modes this narrow in that budget.

Data in [0, 1] (digits' levels / K, kinds "dequantized", "categorical", "binary") get a
sigmoid generator head. Categorical levels l in 0..K-1 are shown to D as (l + u) / K with
u ~ U[0, 1), the same view as the dequantized data, and samples come back as levels
floor(K G(z)) clipped to 0..K-1; binary samples are thresholded at 1/2.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from generative.base import GenerativeModel
from generative.config_checks import (
    MAX_LATENT,
    MAX_LAYERS,
    MAX_WEIGHTS,
    MAX_WIDTH,
    check_float,
    check_int,
)
from generative.data import DataInfo
from generative.models.gan import losses
from generative.models.gan.networks import Discriminator, Generator, pack

GROUPS = ("discriminator", "generator")


@dataclass(frozen=True)
class GANConfig:
    """Settings of the non-saturating GAN; every variant's config extends these."""

    latent_dim: int = 2
    """d_z, dimensions of the noise z ~ N(0, I) (2 in VEEGAN's and PacGAN's 2-D toys); 1 to
    4,096 (`MAX_LATENT`, far above any data dimension here)."""
    hidden: int = 128
    """Width of every hidden layer of both players; 1 to 16,384 (`MAX_WIDTH`: a 16,384-wide
    layer is 1 GiB of weights)."""
    depth: int = 3
    """Hidden layers of each player; 1 to 64 (`MAX_LAYERS`), and both players together hold at
    most 2**30 weights between hidden layers (`MAX_WEIGHTS`, what trains in 24 GiB)."""
    batch_norm: bool = False
    """BatchNorm in the generator's hidden layers (PacGAN's generator has it; on the 2-D
    toys it spread samples between modes)."""
    lr_discriminator: float = 1e-3
    """Adam learning rate of D (overrides `FitConfig.lr` for this player); finite and > 0. The
    papers' 1e-4 needs ~10^5 steps; 1e-3 with a cosine schedule reaches the toys' modes in
    ~10^4."""
    lr_generator: float = 1e-3
    """Adam learning rate of G (overrides `FitConfig.lr` for this player); finite and > 0."""
    betas: tuple[float, float] = (0.5, 0.999)
    """Adam (beta1, beta2) of both players, each in [0, 1)."""
    critic_steps: int = 1
    """Discriminator updates per generator update; 1 to 100 (WGAN-GP uses 5; more leaves G
    almost no updates)."""
    standardize: bool = True
    """For real-valued data, let both players work in standardised units: the first batch
    seen fixes a per-feature shift and scale (ActNorm-style data-dependent initialisation,
    Kingma & Dhariwal 2018), D sees (x - shift) / scale and samples are shift + scale G(z)."""

    def __post_init__(self) -> None:
        check_int("latent_dim", self.latent_dim, 1, MAX_LATENT)
        check_int("hidden", self.hidden, 1, MAX_WIDTH)
        check_int("depth", self.depth, 1, MAX_LAYERS)
        weights = 2 * (self.depth - 1) * self.hidden**2  # hidden-to-hidden, both players
        if weights > MAX_WEIGHTS:
            raise ValueError(
                f"hidden={self.hidden}, depth={self.depth}; {weights:,} weights between hidden "
                f"layers of the two players, at most {MAX_WEIGHTS:,} (20 GiB to train)"
            )
        check_int("critic_steps", self.critic_steps, 1, 100)
        check_float("lr_discriminator", self.lr_discriminator, 0.0, open_low=True)
        check_float("lr_generator", self.lr_generator, 0.0, open_low=True)
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas={self.betas}; need two numbers in [0, 1)")


@dataclass(frozen=True)
class WGANGPConfig(GANConfig):
    """Settings of WGAN-GP (Gulrajani et al. 2017, Algorithm 1 defaults)."""

    betas: tuple[float, float] = (0.5, 0.9)
    """Adam (beta1, beta2); the paper's toy experiments use (0.5, 0.9)."""
    critic_steps: int = 5
    """n_critic, critic updates per generator update."""
    gp_weight: float = 10.0
    """lambda, weight of the gradient penalty; finite and >= 0."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_float("gp_weight", self.gp_weight, 0.0)


@dataclass(frozen=True)
class GANR1Config(GANConfig):
    """Settings of the non-saturating GAN with the R1 penalty."""

    r1_weight: float = 0.1
    """gamma; the discriminator's loss gains (gamma / 2) E||grad_x D(x)||^2 on data; finite
    and >= 0."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_float("r1_weight", self.r1_weight, 0.0)


@dataclass(frozen=True)
class SNGANR1Config(GANR1Config):
    """Settings of the spectrally normalised GAN with the R1 penalty (as `GANR1Config`)."""


@dataclass(frozen=True)
class PacGANConfig(GANConfig):
    """Settings of PacGAN (Lin et al. 2018)."""

    pac: int = 2
    """m, samples packed into one discriminator input (the paper uses 2 to 4); 1 to 64, as a
    batch needs at least m samples and D's input is m times as wide."""
    critic_steps: int = 2
    """D updates per G update: a packed D learns the modes more slowly than a plain one, and
    one step under-trains it in short runs (the paper, with ~10^5 steps, uses 1)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("pac", self.pac, 1, 64)


class GAN(GenerativeModel):
    """The non-saturating GAN (Goodfellow et al. 2014).

    L_D = E_x[softplus(-D(x))] + E_z[softplus(D(G(z)))],  L_G = E_z[softplus(-D(G(z)))].

    Ref: Goodfellow et al. 2014, "Generative Adversarial Nets", arXiv:1406.2661.
    """

    likelihood = "none"

    def __init__(self, info: DataInfo, cfg: GANConfig | None = None) -> None:
        super().__init__(info)
        self.cfg = cfg if cfg is not None else GANConfig()
        self.generator = Generator(
            self.cfg.latent_dim,
            self.cfg.hidden,
            self.cfg.depth,
            info.dim,
            batch_norm=self.cfg.batch_norm,
            unit_interval=info.kind != "continuous",
        )
        self.discriminator = Discriminator(
            info.dim * self.pac, self.cfg.hidden, self.cfg.depth, spectral=self.spectral
        )
        self.register_buffer("shift", torch.zeros(info.dim))
        self.register_buffer("scale", torch.ones(info.dim))
        self.register_buffer("standardized", torch.tensor(False))

    @property
    def pac(self) -> int:
        """m, samples per discriminator input (1 except for PacGAN)."""
        return 1

    @property
    def spectral(self) -> bool:
        """Whether D's layers are spectrally normalised (only in SNGAN + R1)."""
        return False

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {
            "discriminator": list(self.discriminator.parameters()),
            "generator": list(self.generator.parameters()),
        }

    def group_steps(self, step: int) -> dict[str, int]:
        return {"discriminator": self.cfg.critic_steps, "generator": 1}

    def optimizer_options(self) -> dict[str, dict]:
        betas = (float(self.cfg.betas[0]), float(self.cfg.betas[1]))
        return {
            "discriminator": {"lr": self.cfg.lr_discriminator, "betas": betas},
            "generator": {"lr": self.cfg.lr_generator, "betas": betas},
        }

    def loss(
        self,
        x: Tensor,
        y: Tensor | None = None,
        group: str = "generator",
        *,
        step: int | None = None,
    ) -> dict[str, Tensor]:
        """The loss of player `group` on a batch, plus diagnostics.

        Args:
            x: (B, *info.shape) data; B must be at least `pac`.
            y: ignored (unconditional).
            group: "discriminator" or "generator".
        Returns:
            {"loss", "d_real", "d_fake", ...}: d_real and d_fake are D's mean output on data
            and on samples (logits, or critic values for WGAN-GP).
        """
        if group not in GROUPS:
            raise ValueError(f"group={group!r}; allowed: {', '.join(GROUPS)}")
        if len(x) < self.pac:
            raise ValueError(f"batch of {len(x)}; pac={self.pac} needs at least {self.pac}")
        real = self.to_unit(x)  # (B, D)
        z = torch.randn(len(real), self.cfg.latent_dim, device=real.device)  # (B, d_z)
        if group == "discriminator":
            with torch.no_grad():
                fake = self.generator(z)  # (B, D)
            return self.discriminator_loss(real, fake)
        fake = self.generator(z)
        with _frozen(self.discriminator):
            return self.generator_loss(fake)

    def critic(self, x: Tensor) -> Tensor:
        """D on packs: (B, D) flat samples -> (B // pac,) outputs."""
        return self.discriminator(pack(x, self.pac))

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """L_D on flat (B, D) data and (detached) samples."""
        d_real, d_fake = self.critic(real), self.critic(fake)
        loss = losses.discriminator_bce(d_real, d_fake)
        return {"loss": loss, "d_real": d_real.mean().detach(), "d_fake": d_fake.mean().detach()}

    def generator_loss(self, fake: Tensor) -> dict[str, Tensor]:
        """L_G on flat (B, D) samples, differentiable in G."""
        d_fake = self.critic(fake)
        return {"loss": losses.generator_nonsaturating(d_fake), "d_fake": d_fake.mean().detach()}

    def to_unit(self, x: Tensor) -> Tensor:
        """(B, *shape) data -> (B, D) as D sees it.

        Categorical levels l become (l + u) / K, u ~ U[0, 1); real values are standardised
        (see `GANConfig.standardize`; the first call fixes the shift and scale).
        """
        x = x.flatten(1)
        if self.info.kind == "categorical":
            return (x + torch.rand_like(x)) / self.info.num_categories
        if self.info.kind != "continuous" or not self.cfg.standardize:
            return x
        if not self.standardized:
            with torch.no_grad():
                std = x.std(0) if len(x) > 1 else torch.ones_like(self.scale)
                self.shift.copy_(x.mean(0))
                self.scale.copy_(std.clamp_min(1e-6))
                self.standardized.fill_(True)
        return (x - self.shift) / self.scale

    @torch.no_grad()
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, *info.shape) draws G(z), z ~ N(0, I), in the data's own kind.

        The generator runs in its current mode: after `fit` (eval mode) BatchNorm uses its
        running statistics.
        """
        if cond is not None:
            raise ValueError(f"{type(self).__name__} is unconditional; cond must be None")
        device = gen.device if gen is not None else self.device
        z = torch.randn(n, self.cfg.latent_dim, generator=gen, device=device)
        out = self.generator(z.to(self.device))  # (n, D)
        if self.info.kind == "continuous":
            out = self.shift + self.scale * out
        elif self.info.kind == "categorical":
            k = self.info.num_categories
            out = torch.clamp(torch.floor(out * k), 0, k - 1)
        elif self.info.kind == "binary":
            out = (out > 0.5).to(out.dtype)
        return out.reshape(n, *self.info.shape)


class WGANGP(GAN):
    """Wasserstein GAN with gradient penalty.

    L_D = E_z[D(G(z))] - E_x[D(x)] + lambda E[(||grad D(x_hat)||_2 - 1)^2],  L_G = -E_z[D(G(z))],
    x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1]; `critic_steps` D updates per G update.

    Ref: Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", arXiv:1704.00028.
    """

    cfg: WGANGPConfig

    def __init__(self, info: DataInfo, cfg: WGANGPConfig | None = None) -> None:
        super().__init__(info, cfg if cfg is not None else WGANGPConfig())

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        d_real, d_fake = self.critic(real), self.critic(fake)
        eps = torch.rand(len(real), 1, device=real.device)  # (B, 1)
        gp = losses.gradient_penalty(self.critic, real, fake, eps)
        loss = losses.critic_wasserstein(d_real, d_fake) + self.cfg.gp_weight * gp
        return {
            "loss": loss,
            "d_real": d_real.mean().detach(),
            "d_fake": d_fake.mean().detach(),
            "gp": gp.detach(),
            "wasserstein": (d_real.mean() - d_fake.mean()).detach(),
        }

    def generator_loss(self, fake: Tensor) -> dict[str, Tensor]:
        d_fake = self.critic(fake)
        return {"loss": losses.generator_wasserstein(d_fake), "d_fake": d_fake.mean().detach()}


class GANR1(GAN):
    """Non-saturating GAN with the R1 penalty on data.

    L_D = E_x[softplus(-D(x))] + E_z[softplus(D(G(z)))] + (gamma / 2) E_x[||grad_x D(x)||^2];
    L_G is the non-saturating loss. The penalty makes the GAN's equilibrium locally
    convergent (Mescheder et al. 2018, Theorem 4.1), instead of circling it.

    Ref: Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?",
    arXiv:1801.04406.
    """

    cfg: GANR1Config

    def __init__(self, info: DataInfo, cfg: GANR1Config | None = None) -> None:
        super().__init__(info, cfg if cfg is not None else GANR1Config())

    def discriminator_loss(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        real = real.detach().requires_grad_(True)
        d_real, d_fake = self.critic(real), self.critic(fake)
        r1 = losses.r1_penalty(d_real, real)
        loss = losses.discriminator_bce(d_real, d_fake) + 0.5 * self.cfg.r1_weight * r1
        return {
            "loss": loss,
            "d_real": d_real.mean().detach(),
            "d_fake": d_fake.mean().detach(),
            "r1": r1.detach(),
        }


class SNGANR1(GANR1):
    """Non-saturating GAN with a spectrally normalised D and the R1 penalty on data.

    As `GANR1`, with every weight W of D divided by its largest singular value sigma(W)
    (one power iteration per training-mode forward pass), so D is at most 1-Lipschitz.

    Refs: Miyato et al. 2018, "Spectral Normalization for GANs", arXiv:1802.05957;
    Mescheder et al. 2018, arXiv:1801.04406.
    """

    cfg: SNGANR1Config

    def __init__(self, info: DataInfo, cfg: SNGANR1Config | None = None) -> None:
        super().__init__(info, cfg if cfg is not None else SNGANR1Config())

    @property
    def spectral(self) -> bool:
        return True


class PacGAN(GAN):
    """Non-saturating GAN whose discriminator sees m samples packed together.

    D: (B / m, m D) -> (B / m,); both players' losses are the non-saturating ones on packs
    of m data points or m independent samples G(z_1), ..., G(z_m).

    Ref: Lin et al. 2018, "PacGAN: The power of two samples in GANs", arXiv:1712.04086.
    """

    cfg: PacGANConfig

    def __init__(self, info: DataInfo, cfg: PacGANConfig | None = None) -> None:
        super().__init__(info, cfg if cfg is not None else PacGANConfig())

    @property
    def pac(self) -> int:
        return self.cfg.pac


@contextmanager
def _frozen(module: nn.Module) -> Iterator[None]:
    """Build the generator's graph without D's weight gradients (D is not updated then)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)
