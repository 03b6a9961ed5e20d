"""The diffusion world model of DIAMOND: a U-Net denoiser imagines an agent's next view from its
last k views and its action, with EDM preconditioning and few-step Euler sampling.

The denoiser reads the k context views and the noisy next view stacked on the channels
((k + 1) C in, C out) and the action through the U-Net's class embedding (`num_classes` = the
world's actions); it is trained with the EDM loss (`generative.models.diffusion.edm`):

    D(x, sigma) = c_skip x + c_out F([context, c_in x], 1000 c_noise, a),
    L = || F - (x_0 - c_skip x) / c_out ||^2,   ln sigma ~ N(P_mean, P_std^2).

The noise level enters as t = 1000 c_noise = 250 ln sigma in the sinusoid of
`embedding.timestep_embedding`, whose frequencies (1 down to 1e-4) were chosen for DDPM's
timesteps 0..999. The levels that matter (sigma from 2e-3 to 5, c_noise from -1.55 to 0.40)
then span about 2,000 units, so, as for DDPM's timesteps, a band of frequencies turns through a
few periods across them (resolving nearby levels) while the slowest stay monotone; fed c_noise
itself, no frequency would turn through more than a third of a period. DIAMOND resolves c_noise
with random Fourier features cos/sin(2 pi w c_noise), w ~ N(0, 1); EDM's DDPM++ feeds c_noise
unscaled to a positional embedding. (On 800 steps of Wolfpack the held-out loss at every sigma
was the same, within noise, at scales 1 and 1000: the scale is a principled choice, not a
measured gain at that size.)

Views (H, W, C) in [0, 1] become [-1, 1] inside the model and are padded with zeros (mid-grey)
at the bottom and right to sizes the U-Net and the reward head accept (with the default widths a
Wolfpack 11 x 11 view becomes 12 x 12, a Commons 15 x 15 one 16 x 16); the denoising loss counts
only the real pixels, and imagined views are cropped back. Reward and episode end come from a
small head (DIAMOND trains a separate recurrent reward/termination model): a `ConvEncoder` over
the context and the next view plus an embedding of the action, trained with the denoiser in one
loss (reward MSE + end BCE). The denoiser conditions on the current action only; the earlier
actions the state keeps are implicit in the context views.

`examples(segments)` packs one row per (stream, t): the k context views and the next view as
uint8 levels 0..255 stored as floats, then the action, reward and end (see `unpack`); context
frames before a segment's first view are copies of it, so every transition of a segment is an
example and every context is a view the world could show (DIAMOND's `make_segment` instead
left-pads with zeros, mid-grey in [-1, 1], and masks padded targets only). A row holds
(k + 1) H W C + 3 floats (7 KiB for a Wolfpack view and k = 4).

`imagine` samples the next view from x_T = tau sigma_max z, z ~ N(0, I) from `gen` (tau the
temperature), with Euler steps on the Karras schedule ('edm') or DDPM ancestral steps ('ddpm')
on the same network; `imagine(..., sampler=, steps=)` overrides the config's choice.

DIAMOND's comparison with DDPM is between two trained models, so `objective: ddpm` trains the
same network as Ho et al. do instead: no preconditioning, t uniform in 0..T-1 of the linear
schedule, x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps, the network fed [context, x_t] and t
predicts eps (L = || F - eps ||^2); it imagines with DDPM's ancestral steps from x_T = tau z at
t = T - 1 over `steps` trailing timesteps, the predicted x_0 clipped to [-1, 1] as in Ho et al.'s
sampler (the 'edm' sampler needs the EDM-trained denoiser and is refused).

References:
    Alonso et al. 2024, "Diffusion for world modeling: visual details matter in Atari"
        (DIAMOND), arXiv:2405.12399.
    Karras, Aittala, Aila & Laine 2022, "Elucidating the design space of diffusion-based
        generative models", arXiv:2206.00364.
    Ho, Jain & Abbeel 2020, "Denoising diffusion probabilistic models", arXiv:2006.11239.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from agents.world_models.base import Imagined, Segments, Stage
from agents.world_models.views import from_images, padded_shape, to_images
from generative.base import GenerativeModel
from generative.config_checks import (
    MAX_CHANNELS,
    MAX_CONV_LEVELS,
    MAX_WIDTH,
    check_float,
    check_int,
    check_widths,
)
from generative.data import DataInfo, Dataset
from generative.models.diffusion.edm import (
    Preconditioning,
    euler_sample,
    karras_sigmas,
    network_target,
    preconditioning,
    training_sigmas,
)
from generative.models.diffusion.process import normal_noise
from generative.models.diffusion.samplers import sample_loop
from generative.models.diffusion.schedules import alpha_bars, make_betas, timestep_sequence
from generative.models.diffusion.unet import UNet
from generative.models.layers import ConvEncoder, mlp

__all__ = ["SAMPLERS", "DiffusionState", "DiffusionWorldConfig", "DiffusionWorldModel"]

SAMPLERS = ("edm", "ddpm")
OBJECTIVES = ("edm", "ddpm")
NOISE_EMBED_SCALE = 1000.0
"""t = 1000 c_noise = 250 ln sigma, the U-Net's timestep input (see the module docstring)."""
MAX_SAMPLE_STEPS = 10_000


@dataclass(frozen=True)
class DiffusionWorldConfig:
    """Settings of `DiffusionWorldModel` (DIAMOND's values where it has them)."""

    context: int = 4
    """k, the past views the denoiser conditions on (DIAMOND: 4); 1 to 64."""
    channels: tuple[int, ...] = (32, 64)
    """U-Net width per level, highest resolution first; 1 to 8 levels of 1 to 4,096."""
    blocks: int = 1
    """U-Net residual blocks per level; 1 to 16."""
    attention: bool = False
    """Self-attention in the U-Net's middle block (small views do without)."""
    embed_dim: int = 128
    """Width of the noise-level and action embedding; even, 2 to 4,096."""
    head_channels: tuple[int, ...] = (16, 32)
    """Reward/end head: stride-2 conv widths; 1 to 8 levels of 1 to 4,096."""
    head_dim: int = 64
    """Reward/end head: feature width; 1 to 16,384."""
    sigma_data: float = 0.5
    """sd, the data's standard deviation in [-1, 1] units (EDM and DIAMOND: 0.5); > 0."""
    p_mean: float = -0.4
    """Mean of ln sigma in training (DIAMOND: -0.4; EDM: -1.2); finite."""
    p_std: float = 1.2
    """Standard deviation of ln sigma in training (EDM and DIAMOND: 1.2); > 0."""
    sigma_min: float = 2e-3
    """Lowest noise level of the Karras schedule (DIAMOND: 2e-3); > 0."""
    sigma_max: float = 5.0
    """Noise level imagination starts from (DIAMOND: 5); above sigma_min."""
    rho: float = 7.0
    """Karras schedule curvature (EDM and DIAMOND: 7); > 0."""
    objective: str = "edm"
    """What the network learns: 'edm' (the preconditioned denoiser) or 'ddpm' (Ho et al.'s
    epsilon prediction on the linear schedule of `ddpm_timesteps`), see the module docstring."""
    sampler: str = "edm"
    """'edm' (Euler on the Karras schedule) or 'ddpm' (ancestral steps of the linear VP
    schedule: on the EDM-trained denoiser from the timestep whose sigma is sigma_max, on the
    DDPM-trained network from T - 1)."""
    steps: int = 3
    """Denoiser calls per imagined view (DIAMOND: 3); 1 to 10,000."""
    ddpm_timesteps: int = 1000
    """T of the linear schedule the 'ddpm' sampler walks (Ho et al.: 1000); 2 to 10,000."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "head_channels", tuple(self.head_channels))
        check_int("context", self.context, 1, 64)
        check_widths("channels", self.channels, MAX_CHANNELS, max_len=MAX_CONV_LEVELS, copies=0)
        check_int("blocks", self.blocks, 1, 16)
        check_int("embed_dim", self.embed_dim, 2, 4_096)
        if self.embed_dim % 2:
            raise ValueError(f"embed_dim={self.embed_dim}; must be even")
        check_widths(
            "head_channels", self.head_channels, MAX_CHANNELS, max_len=MAX_CONV_LEVELS, copies=0
        )
        check_int("head_dim", self.head_dim, 1, MAX_WIDTH)
        check_float("sigma_data", self.sigma_data, 0.0, open_low=True)
        check_float("p_mean", self.p_mean)
        check_float("p_std", self.p_std, 0.0, open_low=True)
        check_float("sigma_min", self.sigma_min, 0.0, open_low=True)
        check_float("sigma_max", self.sigma_max, self.sigma_min, open_low=True)
        check_float("rho", self.rho, 0.0, open_low=True)
        check_int("ddpm_timesteps", self.ddpm_timesteps, 2, MAX_SAMPLE_STEPS)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective={self.objective!r}; allowed: {', '.join(OBJECTIVES)}")
        check_sampling(self.sampler, self.steps, self.objective)


def check_sampling(sampler: str, steps: int, objective: str = "edm") -> None:
    """Raise a one-line ValueError unless `sampler` is 'edm' or 'ddpm' (only 'ddpm' for the
    DDPM-trained network) and steps is 1..10,000."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r}; allowed: {', '.join(SAMPLERS)}")
    if objective == "ddpm" and sampler != "ddpm":
        raise ValueError(
            f"sampler={sampler!r} needs the EDM-trained denoiser; objective 'ddpm' samples with "
            "sampler 'ddpm'"
        )
    check_int("steps", steps, 1, MAX_SAMPLE_STEPS)


class DiffusionState(NamedTuple):
    """The imagination state of n streams: the last k views and the actions between them."""

    views: Tensor
    """(n, k, H, W, C) float in [0, 1]."""
    actions: Tensor
    """(n, k - 1) int64, the action after each view but the last."""


class DiffusionWorldModel(GenerativeModel):
    """DIAMOND's next-view denoiser with a reward/end head; a `WorldModel` trained in one
    stage.

    Args:
        view_shape: (H, W, C) of one view, as the world observes it.
        num_actions: n of the world's Discrete(n) action space.
        length: T of the segments it trains on (any T works: every transition is an example).
        cfg: the settings.
    """

    def __init__(
        self,
        view_shape: tuple[int, int, int],
        num_actions: int,
        length: int,
        cfg: DiffusionWorldConfig | None = None,
    ) -> None:
        cfg = cfg or DiffusionWorldConfig()
        if len(view_shape) != 3 or not all(isinstance(s, int) and s > 0 for s in view_shape):
            raise ValueError(f"view_shape={view_shape}; need (H, W, C) positive integers")
        check_int("num_actions", num_actions, 1, 1_000_000)
        check_int("length", length, 1, 1_000_000)
        k = cfg.context
        H, W, C = view_shape
        super().__init__(DataInfo("world_diffusion", ((k + 1) * H * W * C + 3,), "continuous"))
        self.cfg, self.context, self.num_actions, self.length = cfg, k, num_actions, length
        self.view_shape = (H, W, C)
        self.multiple = max(2 ** (len(cfg.channels) - 1), 2 ** len(cfg.head_channels))
        _, *padded = padded_shape(self.view_shape, self.multiple)
        self.padded = tuple(padded)  # (Hp, Wp)
        stacked = ((k + 1) * C, *self.padded)
        self.net = UNet(
            stacked,
            cfg.channels,
            cfg.blocks,
            cfg.attention,
            cfg.embed_dim,
            num_classes=num_actions,
            out_channels=C,
        )
        self.head_encoder = ConvEncoder(stacked, cfg.head_channels, cfg.head_dim, activation="silu")
        self.head_action = nn.Embedding(num_actions, cfg.head_dim)
        self.head_out = mlp(cfg.head_dim, (cfg.head_dim,), 2, activation="silu")
        # DDPM's linear schedule (float64, not a buffer: the weights file stays the same)
        self.alpha_bar = alpha_bars(make_betas("linear", cfg.ddpm_timesteps))

    # -- data -------------------------------------------------------------------------------

    def examples(self, segments: Segments) -> Tensor:
        """One packed row per (stream, t): (N T, (k + 1) H W C + 3) float32, see `unpack`.

        Context views before the segment's first are copies of it (see the module docstring).
        """
        if segments.view_shape != self.view_shape:
            raise ValueError(f"views {segments.view_shape}; this model imagines {self.view_shape}")
        N, T, k = len(segments), segments.length, self.context
        offsets = np.arange(-k + 1, 2)  # k context views, then the next one
        idx = np.clip(np.arange(T)[:, None] + offsets[None, :], 0, None)  # (T, k + 1)
        frames = segments.views[:, idx].reshape(N * T, -1)  # (N T, (k + 1) H W C) uint8
        tail = np.stack([segments.actions, segments.rewards, segments.ends], axis=-1).reshape(
            N * T, 3
        )
        return torch.from_numpy(np.concatenate([frames, tail], axis=1).astype(np.float32))

    def stages(self, segments: Segments) -> list[Stage]:
        """One stage, "diffusion": the denoiser and the reward/end head on `examples`."""

        def data() -> Dataset:
            train = self.examples(segments)
            return Dataset(self.info, train, train[:0], train[:0])  # no held-out split

        return [Stage("diffusion", self, data)]

    def unpack(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Packed rows (B, D) -> views (B, k + 1, H, W, C) float in [0, 1] (k context views, then
        the next), actions (B,) int64, rewards (B,) float, ends (B,) float 0/1."""
        views = x[:, :-3].reshape(len(x), self.context + 1, *self.view_shape) / 255.0
        return views, x[:, -3].round().long(), x[:, -2], x[:, -1]

    def _to_model(self, views: Tensor) -> Tensor:
        """(n, [k,] H, W, C) in [0, 1] -> (n, [k,] C, Hp, Wp) in [-1, 1], zero-padded
        bottom/right (0 is mid-grey here, the middle of the data's range)."""
        flat = views.reshape(-1, *self.view_shape).float() * 2 - 1  # (n k, H, W, C)
        images = to_images(flat, self.multiple)  # (n k, C, Hp, Wp)
        return images.reshape(*views.shape[:-3], *images.shape[1:])

    def _from_model(self, x: Tensor) -> Tensor:
        """(n, C, Hp, Wp) in [-1, 1] -> (n, H, W, C) in [0, 1], cropped and clamped."""
        return ((from_images(x, self.view_shape) + 1) / 2).clamp(0, 1)

    # -- networks ---------------------------------------------------------------------------

    def _network(self, x: Tensor, pre: Preconditioning, context: Tensor, actions: Tensor) -> Tensor:
        """F([context, c_in x], 1000 c_noise, a): x (B, C, Hp, Wp), context (B, k C, Hp, Wp)."""
        inputs = torch.cat([context, pre.c_in.view(-1, 1, 1, 1) * x], dim=1)
        return self.net(inputs, NOISE_EMBED_SCALE * pre.c_noise, actions).float()

    def denoise(self, x: Tensor, sigma: Tensor, context: Tensor, actions: Tensor) -> Tensor:
        """The EDM denoiser D(x, sigma) = c_skip x + c_out F(...) of the next frame.

        Args:
            x: (B, C, Hp, Wp) the noisy next frame in model units.
            sigma: (B,) its noise levels.
            context: (B, k C, Hp, Wp) the context frames in model units.
            actions: (B,) int64.
        """
        pre = preconditioning(sigma.float(), self.cfg.sigma_data)
        out = self._network(x, pre, context, actions)
        return pre.c_skip.view(-1, 1, 1, 1) * x + pre.c_out.view(-1, 1, 1, 1) * out

    def _head(self, context: Tensor, frame: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """(reward (B,), end logit (B,)) from the context, the next frame and the action."""
        h = self.head_encoder(torch.cat([context, frame], dim=1)) + self.head_action(actions)
        out = self.head_out(F.silu(h)).float()  # (B, 2)
        return out[:, 0], out[:, 1]

    # -- GenerativeModel --------------------------------------------------------------------

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """EDM denoising loss of the next view + reward MSE + end BCE, on packed rows (B, D).

        Returns:
            {"loss": the sum, "denoise", "reward", "end"}.
        """
        views, actions, rewards, ends = self.unpack(x)
        frames = self._to_model(views)  # (B, k + 1, C, Hp, Wp)
        context, x0 = frames[:, :-1].flatten(1, 2), frames[:, -1]
        if self.cfg.objective == "ddpm":
            error = self._ddpm_error(x0, context, actions)
        else:
            sigma = training_sigmas(len(x), self.cfg.p_mean, self.cfg.p_std, device=x.device)
            x_noisy = x0 + sigma.view(-1, 1, 1, 1) * torch.randn_like(x0)
            pre = preconditioning(sigma, self.cfg.sigma_data)
            out = self._network(x_noisy, pre, context, actions)
            error = (out - network_target(x0, x_noisy, pre)) ** 2
        H, W, _ = self.view_shape
        denoise = error[:, :, :H, :W].mean()  # the padding is not the world's
        reward, end_logit = self._head(context, x0, actions)
        reward_loss = F.mse_loss(reward, rewards.float())
        end_loss = F.binary_cross_entropy_with_logits(end_logit, ends.float())
        return {
            "loss": denoise + reward_loss + end_loss,
            "denoise": denoise.detach(),
            "reward": reward_loss.detach(),
            "end": end_loss.detach(),
        }

    def _ddpm_error(self, x0: Tensor, context: Tensor, actions: Tensor) -> Tensor:
        """Ho et al.'s squared error of the predicted noise, per pixel (B, C, Hp, Wp)."""
        t = torch.randint(self.cfg.ddpm_timesteps, (len(x0),), device=x0.device)
        ab = self.alpha_bar.to(x0.device)[t].float().view(-1, 1, 1, 1)
        eps = torch.randn_like(x0)
        x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        out = self.net(torch.cat([context, x_t], dim=1), t, actions).float()
        return (out - eps) ** 2

    @torch.no_grad()
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, D) packed rows of one step imagined from an all-black context.

        Actions are `cond` (n,) int64, or uniform from `gen`; the next view is imagined with the
        configured sampler; reward and end hold the predicted reward and end probability.
        """
        device = self.device
        if cond is None:
            g = gen if gen is not None else torch.default_generator
            cond = torch.randint(self.num_actions, (n,), generator=g, device=g.device)
        actions = cond.to(device).long()
        views = torch.zeros(n, self.context, *self.view_shape, device=device)
        past = actions.new_zeros(n, self.context - 1)
        _, out = self.imagine(self.start(views, past), actions, gen)
        frames = torch.cat([views, out.views[:, None]], dim=1).flatten(1) * 255.0
        tail = torch.stack([actions.float(), out.rewards, out.ends], dim=1)
        return torch.cat([frames.round(), tail], dim=1)

    # -- WorldModel ---------------------------------------------------------------------------

    def start(self, views: Tensor, actions: Tensor) -> DiffusionState:
        """The state after the real context: views (n, k, H, W, C) float in [0, 1], actions
        (n, k - 1) int64 (kept for the contract; the denoiser reads the current one only)."""
        n, k = len(views), self.context
        if tuple(views.shape) != (n, k, *self.view_shape):
            raise ValueError(f"views {tuple(views.shape)}; expected (n, {k}, *{self.view_shape})")
        if tuple(actions.shape) != (n, k - 1):
            raise ValueError(f"actions {tuple(actions.shape)}; expected ({n}, {k - 1})")
        device = self.device
        return DiffusionState(views.to(device).float(), actions.to(device).long())

    @torch.no_grad()
    def imagine(
        self,
        state: DiffusionState,
        actions: Tensor,
        gen: torch.Generator | None,
        temperature: float = 1.0,
        *,
        sampler: str | None = None,
        steps: int | None = None,
    ) -> tuple[DiffusionState, Imagined]:
        """Imagine the next view, reward and end of n streams taking `actions` (n,) int64.

        Args:
            state: from `start` or a previous `imagine`.
            actions: (n,) int64.
            gen: the generator of x_T (and the 'ddpm' step noise); the global one when None.
            temperature: tau, multiplies the initial noise x_T = tau sigma_max z (tau z for the
                DDPM-trained network; not the 'ddpm' step noise); 1 samples the model, 0
                starts Euler from the mean.
            sampler, steps: override the config's 'edm' / 'ddpm' and step count.
        """
        sampler = self.cfg.sampler if sampler is None else sampler
        steps = self.cfg.steps if steps is None else steps
        check_sampling(sampler, steps, self.cfg.objective)
        check_float("temperature", temperature, 0.0)
        n = len(state.views)
        actions = actions.to(self.device).long()
        if tuple(actions.shape) != (n,):
            raise ValueError(f"actions {tuple(actions.shape)}; expected ({n},)")
        context = self._to_model(state.views).flatten(1, 2)  # (n, k C, Hp, Wp)
        C = self.view_shape[2]
        z = normal_noise((n, C, *self.padded), gen, self.device)
        x_T = temperature * self.cfg.sigma_max * z
        if self.cfg.objective == "ddpm":
            x0 = self._ddpm_trained(temperature * z, context, actions, steps, gen)
        elif sampler == "edm":
            sigmas = karras_sigmas(steps, self.cfg.sigma_min, self.cfg.sigma_max, self.cfg.rho)
            x0 = euler_sample(lambda x, s: self.denoise(x, s, context, actions), x_T, sigmas)
        else:
            x0 = self._ddpm(x_T, context, actions, steps, gen)
        view = self._from_model(x0)  # (n, H, W, C)
        reward, end_logit = self._head(context, self._to_model(view), actions)
        new = DiffusionState(
            torch.cat([state.views[:, 1:], view[:, None]], dim=1),
            torch.cat([state.actions, actions[:, None]], dim=1)[:, 1:],
        )
        return new, Imagined(view, reward, torch.sigmoid(end_logit))

    def _ddpm_trained(
        self, x_T: Tensor, context: Tensor, actions: Tensor, steps: int, gen: torch.Generator | None
    ) -> Tensor:
        """DDPM ancestral sampling with the DDPM-trained network: from x_T at t = T - 1 over
        `steps` trailing timesteps, epsilon prediction, x_0 clipped to [-1, 1]."""
        T = self.cfg.ddpm_timesteps
        if steps > T:
            raise ValueError(f"steps={steps}; the 'ddpm' objective has {T} timesteps")

        def eps_of(x_t: Tensor, t: Tensor) -> Tensor:
            return self.net(torch.cat([context, x_t], dim=1), t, actions)

        timesteps = timestep_sequence(T, steps)
        return sample_loop(
            eps_of, x_T, self.alpha_bar, timesteps, "epsilon", sampler="ddpm", clip=True, gen=gen
        )

    def _ddpm(
        self,
        x_T: Tensor,
        context: Tensor,
        actions: Tensor,
        steps: int,
        gen: torch.Generator | None,
    ) -> Tensor:
        """DDPM ancestral sampling (x_0-prediction, step variance beta_tilde) with the EDM
        denoiser.

        The linear schedule of `ddpm_timesteps` steps gives ab_t = alpha_bar_t and the VP sample
        x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps, i.e. x_t / sqrt(ab_t) = x_0 + sigma_t eps with
        sigma_t = sqrt((1 - ab_t) / ab_t); so D(x_t / sqrt(ab_t), sigma_t) is the x_0
        prediction. The chain starts at the last timestep t* with sigma_t <= sigma_max (the
        noise EDM starts from), from sqrt(ab_t*) x_T, and visits `steps` trailing timesteps of
        t*..0 (`schedules.timestep_sequence`).
        """
        alpha_bar = alpha_bars(make_betas("linear", self.cfg.ddpm_timesteps))  # (T,) float64
        sigma_t = ((1 - alpha_bar) / alpha_bar).sqrt()
        top = int((sigma_t <= self.cfg.sigma_max).sum()) - 1  # sigma_t rises with t
        if not 1 <= steps <= top + 1:
            raise ValueError(
                f"steps={steps}; the 'ddpm' sampler has {top + 1} timesteps up to sigma_max"
            )
        ab = alpha_bar.tolist()

        def x0_of(x_t: Tensor, t: Tensor) -> Tensor:
            a = ab[int(t[0])]
            sigma = torch.full((len(x_t),), ((1 - a) / a) ** 0.5, device=x_t.device)
            return self.denoise(x_t / a**0.5, sigma, context, actions)

        timesteps = timestep_sequence(top + 1, steps)
        start = ab[top] ** 0.5 * x_T
        return sample_loop(x0_of, start, alpha_bar, timesteps, "x0", sampler="ddpm", gen=gen)
