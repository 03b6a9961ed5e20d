"""World Models' vision and memory (Ha & Schmidhuber 2018): a convolutional VAE of an agent's
view and an MDN-RNN over its codes, trained one after the other, imagining together.

V (the VAE) is `generative.models.vae.VAE` with the conv architecture on views as (C, H', W')
images (`views`), with World Models' Gaussian decoder of fixed sigma (their L2
reconstruction, as a proper density), whose mean blurs whatever V is unsure of, a lone apple,
the detail a reward hangs on (DIAMOND's argument for diffusion); or a categorical decoder over
the palette of colours the recorded views use, whose mode is a crisp view. M (the MDN-RNN,
`mdn_rnn.MDNRNN`) is trained afterwards on the posterior parameters of V's codes of every
recorded step. Both are `stages` that `generative.train.fit`
trains, each with its own checkpoint, so an interrupted fit resumes where it stopped.

Imagination (`start`, `imagine`): the real context view is encoded to its posterior mean (and
earlier context steps, if any, warm up the LSTM); each step then feeds (z, a) to the LSTM,
draws the next code from the mixture at temperature tau, and decodes it to the view the agent
sees (V's decoder mode, or mean); the reward and end heads read the same hidden state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from agents.world_models.base import Imagined, Segments, Stage, to_unit
from agents.world_models.mdn_rnn import MDNRNN, MDNRNNConfig, RecurrentState, sample_mixture
from agents.world_models.views import from_images, padded_shape, to_images
from generative.config_checks import check_float, check_int, check_widths
from generative.data import DataInfo, Dataset
from generative.models.vae import VAE, VAEConfig

__all__ = ["VAERNNConfig", "VAERNNWorldModel", "sequences"]

DECODERS = ("palette", "gaussian")


@dataclass(frozen=True)
class VAERNNConfig:
    """Settings of `VAERNNWorldModel` (V's and M's sizes)."""

    latent_dim: int = 32
    """L, the size of V's code (World Models: 32 for CarRacing, 64 for VizDoom); 1 to 4,096."""
    channels: tuple[int, ...] = (32, 64)
    """V's conv channels, one stride-2 level each; views are padded to a multiple of 2^levels."""
    hidden: tuple[int, ...] = (256,)
    """V's dense widths between the convolutions and the code."""
    decoder: str = "gaussian"
    """V's decoder: 'gaussian' (fixed sigma on RGB in [0, 1], World Models' L2
    reconstruction: its mean blurs what V is unsure of, the mean-squared-error optimum) or
    'palette' (each cell one of the colours the recorded views use, a categorical over
    `palette_size` entries, drawn as its mode: crisp views of the worlds' flat colours, whose
    confident mistakes cost more squared error than a blur)."""
    palette_size: int = 32
    """Most distinct colours the views may use with the palette decoder; 2 to 256."""
    fixed_sigma: float = 0.1
    """Std of the Gaussian decoder, in pixel units of [0, 1]; finite and > 0."""
    beta: float = 1.0
    """Weight of V's KL term (1 = the ELBO); finite and >= 0."""
    kl_warmup: int = 1_000
    """V's training steps over which the KL weight rises from 0 to beta (Bowman et al. 2016),
    so V learns to use its code before the KL term can collapse it to the prior: the flat,
    mostly empty views make the collapse cheap (World Models limited the KL instead, with a
    tolerance of 0.5 nats per dimension); 0 to 10**9."""
    rnn_hidden: int = 256
    """M's LSTM units."""
    mixtures: int = 5
    """M's Gaussians per latent dimension."""
    reward_weight: float = 1.0
    """Weight of M's reward error in its loss."""
    end_weight: float = 1.0
    """Weight of M's episode-end cross-entropy in its loss."""
    context: int = 1
    """Real views imagination starts from (more warm up the LSTM); 1 to 64."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "hidden", tuple(self.hidden))
        check_int("latent_dim", self.latent_dim, 1, 4096)
        check_widths("channels", self.channels, 4096, min_len=1, max_len=4, copies=0)
        check_widths("hidden", self.hidden, min_len=0, copies=2)
        check_int("palette_size", self.palette_size, 2, 256)
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder={self.decoder!r}; allowed: {', '.join(DECODERS)}")
        check_float("fixed_sigma", self.fixed_sigma, 0.0, open_low=True)
        check_float("beta", self.beta, 0.0)
        check_int("context", self.context, 1, 64)
        self.rnn_config()  # validates M's settings

    def rnn_config(self) -> MDNRNNConfig:
        return MDNRNNConfig(self.rnn_hidden, self.mixtures, self.reward_weight, self.end_weight)

    def vae_config(self) -> VAEConfig:
        return VAEConfig(
            arch="conv",
            latent_dim=self.latent_dim,
            hidden=self.hidden,
            channels=self.channels,
            decoder="auto",
            variance="fixed",
            fixed_sigma=self.fixed_sigma,
            beta=self.beta,
            warmup_steps=self.kl_warmup,
            eval_samples=1,
        )


class VAERNNWorldModel(nn.Module):
    """V + M for one agent's view; satisfies `base.WorldModel`.

    Args:
        view_shape: (H, W, C) of one view.
        num_actions: n of the Discrete(n) actions.
        length: T, transitions per training sequence of M.
    """

    def __init__(
        self,
        view_shape: tuple[int, int, int],
        num_actions: int,
        length: int,
        cfg: VAERNNConfig | None = None,
    ) -> None:
        super().__init__()
        self.cfg = cfg = cfg or VAERNNConfig()
        self.view_shape = tuple(view_shape)
        self.num_actions, self.length, self.context = num_actions, length, cfg.context
        self.multiple = 2 ** len(cfg.channels)
        c, h, w = padded_shape(self.view_shape, self.multiple)
        self.paletted = cfg.decoder == "palette"
        if self.paletted:  # V sees and draws palette indices, one channel
            k = cfg.palette_size
            info = DataInfo("view_colours", (1, h, w), "categorical", num_categories=k)
            self.register_buffer("palette", torch.zeros(k, c))
            self.register_buffer("colours", torch.zeros((), dtype=torch.long))
        else:
            info = DataInfo("views", (c, h, w), "continuous")
        self.vae = VAE(info, cfg.vae_config())
        self.rnn = MDNRNN(cfg.latent_dim, num_actions, length, cfg.rnn_config())

    @property
    def device(self) -> torch.device:
        return self.rnn.mixture.weight.device

    # -- V ---------------------------------------------------------------------------------
    def images(self, views: Tensor) -> Tensor:
        """V's data of views (n, H, W, C) in [0, 1]: (n, 1, H', W') palette indices (each cell
        its nearest palette colour) or (n, C, H', W') RGB."""
        images = to_images(views.to(self.device), self.multiple)
        if not self.paletted:
            return images
        used = self.palette[: max(int(self.colours), 1)]  # (K', C)
        distance = ((images.unsqueeze(1) - used[None, :, :, None, None]) ** 2).sum(2)
        return distance.argmin(1, keepdim=True).float()  # (n, 1, H', W')

    def encode(self, views: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior (mu, log sigma^2), each (n, L), of views (n, H, W, C) in [0, 1]."""
        return self.vae.encode(self.images(views))

    def decode(self, z: Tensor) -> Tensor:
        """Views (n, H, W, C) in [0, 1] of codes (n, L): each cell's most likely palette colour,
        or the Gaussian decoder's mean (clamped)."""
        if not self.paletted:
            return from_images(self.vae.decode(z, "mean"), self.view_shape).clamp(0, 1)
        index = self.vae.decode(z, "mode").long()[:, 0]  # (n, H', W')
        images = self.palette[index].permute(0, 3, 1, 2)  # (n, C, H', W')
        return from_images(images, self.view_shape)

    def fit_palette(self, segments: Segments) -> None:
        """The palette: the distinct colours of the recorded views (padding black among them).

        Raises:
            ValueError: more colours than `palette_size` (use a larger one, or 'gaussian')."""
        if not self.paletted:
            return
        pixels = segments.views.reshape(-1, segments.view_shape[-1])
        found = np.unique(
            np.concatenate([np.zeros((1, pixels.shape[1]), np.uint8), pixels]), axis=0
        )
        k = self.cfg.palette_size
        if len(found) > k:
            raise ValueError(
                f"the views use {len(found)} colours, more than palette_size={k}; raise it "
                "(at most 256) or use decoder 'gaussian'"
            )
        self.palette.zero_()
        self.palette[: len(found)] = torch.from_numpy(found).float().to(self.device) / 255.0
        self.colours.fill_(len(found))

    @torch.no_grad()
    def frames(self, segments: Segments, chunk: int = 4096) -> Tensor:
        """V's training data: every recorded view as V sees it (`images`), on the CPU; fits the
        palette first."""
        self.fit_palette(segments)
        views = segments.views.reshape(-1, *segments.view_shape)
        return torch.cat([self.images(to_unit(views[i : i + chunk])).cpu()
                          for i in range(0, len(views), chunk)])  # fmt: skip

    def stages(self, segments: Segments) -> list[Stage]:
        """V on every recorded view, then M on V's codes of the segments (`sequences`)."""
        return [
            Stage(
                "vae",
                self.vae,
                lambda: _dataset(self.vae.info, self.frames(segments)),
            ),
            Stage("rnn", self.rnn, lambda: _dataset(self.rnn.info, sequences(self, segments))),
        ]

    # -- imagination -------------------------------------------------------------------------
    @torch.no_grad()
    def start(self, views: Tensor, actions: Tensor) -> tuple[RecurrentState, Tensor]:
        """(LSTM state, code) after the real context views (n, k, H, W, C) and actions
        (n, k - 1): codes are posterior means; the first k - 1 steps warm the LSTM up."""
        n, k = views.shape[:2]
        mu, _ = self.encode(views.reshape(n * k, *views.shape[2:]))
        z = mu.view(n, k, -1)
        state = self.rnn.initial_state(n)
        for i in range(k - 1):
            state, _ = self.rnn.advance(z[:, i], actions[:, i].to(self.device), state)
        return state, z[:, -1]

    @torch.no_grad()
    def imagine(
        self,
        state: tuple[RecurrentState, Tensor],
        actions: Tensor,
        gen: torch.Generator,
        temperature: float = 1.0,
    ) -> tuple[tuple[RecurrentState, Tensor], Imagined]:
        """One dreamed step of n streams: M's next code at temperature tau, decoded by V."""
        if not temperature > 0:
            raise ValueError(f"temperature={temperature}; must be > 0")
        rnn_state, z = state
        rnn_state, (logits, mu, log_s, reward, end) = self.rnn.advance(
            z, actions.to(self.device), rnn_state
        )
        z_next = sample_mixture(logits, mu, log_s, temperature, gen)
        return (rnn_state, z_next), Imagined(self.decode(z_next), reward, end.sigmoid())


# -- training ------------------------------------------------------------------------------
@torch.no_grad()
def sequences(model: VAERNNWorldModel, segments: Segments, chunk: int = 4096) -> Tensor:
    """M's training data (N, T + 1, 2 L + 3): V's posterior parameters of every view, then
    action, reward and end (zeros after the last step)."""
    model.eval()
    views = segments.views.reshape(-1, *segments.view_shape)
    parts = [
        torch.cat(model.encode(to_unit(views[i : i + chunk])), -1).cpu()
        for i in range(0, len(views), chunk)
    ]
    codes = torch.cat(parts).view(len(segments), segments.length + 1, -1)
    rest = np.zeros((len(segments), segments.length + 1, 3), np.float32)
    rest[:, :-1, 0] = segments.actions
    rest[:, :-1, 1] = segments.rewards
    rest[:, :-1, 2] = segments.ends
    return torch.cat([codes, torch.from_numpy(rest)], -1)


def _dataset(info: DataInfo, train: Tensor) -> Dataset:
    empty = train[:0]
    return Dataset(info, train, empty, empty)
