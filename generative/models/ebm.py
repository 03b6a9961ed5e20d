"""Energy-based model trained by contrastive divergence with replay-buffer Langevin chains.

p(x) = exp(-E(x)) / Z with E an MLP. Training follows Du & Mordatch 2019, "Implicit
Generation and Generalization in Energy-Based Models", arXiv:1903.08689:

    loss = mean E(x+) - mean E(x-) + alpha * mean(E(x+)^2 + E(x-)^2),

x+ a data batch and x- negatives from stochastic gradient Langevin dynamics (Welling & Teh
2011) started from a replay buffer (95 %) or fresh uniform noise over the box (5 %):

    x <- clip_box(x - (epsilon / 2) grad_x E(x) + sigma * xi),  xi ~ N(0, I),

with sigma = sqrt(epsilon) (exact Langevin, the default) or a separate noise scale (their
variant). The chains' end points go back into the buffer, which is a module buffer, so
checkpoints keep it.

The model lives on a box [low, high]^D (the `box` option). In 2-D, `log_prob` is exact up to
quadrature: log Z = log integral_box exp(-E(x)) dx by the trapezoid rule on a `grid_size` x
`grid_size` grid spanning the box (`generative.metrics.likelihood.grid_log_partition`), and
points outside the box get -inf. In higher dimensions Z is intractable and `log_prob` raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from generative.base import GenerativeModel
from generative.config_checks import check_float, check_int, check_widths
from generative.data import DataInfo
from generative.family import Family
from generative.metrics.likelihood import grid_log_partition
from generative.models.layers import check_activation, mlp

EBM_KINDS = ("continuous", "dequantized")
DEFAULT_BOX = {"continuous": (-4.0, 4.0), "dequantized": (0.0, 1.0)}
"""Box per data kind when `box` is None: 2-D toys lie well inside [-4, 4]^2."""


@dataclass(frozen=True)
class EBMConfig:
    """Settings of `EBM`."""

    hidden: tuple[int, ...] = (128, 128, 128)
    """Hidden widths of the energy MLP E: R^D -> R: 1 to 64 layers, each 1 to 16,384 wide, at
    most 2**30 weights between hidden layers (`config_checks`: what trains in 24 GiB)."""
    activation: str = "silu"
    """Activation of E; smooth ones give smooth Langevin gradients."""
    alpha: float = 0.01
    """Weight of the energy-magnitude regulariser alpha * mean(E(x+)^2 + E(x-)^2); finite and
    >= 0."""
    sgld_steps: int = 30
    """Langevin steps per training negative batch; 1 to 10,000 (Du & Mordatch use 60; each
    step is a forward and backward pass of the batch, every training step)."""
    step_size: float = 0.005
    """epsilon: the drift is -(epsilon / 2) grad E; finite and > 0."""
    noise: float | None = None
    """sigma, the Langevin noise scale, finite and >= 0; None = sqrt(step_size) (exact
    Langevin)."""
    buffer_size: int = 1000
    """Replay buffer entries (with batch 512 each chain is advanced every other step); 1 to
    1,000,000 (Du & Mordatch keep 10,000; the buffer is a module buffer, copied into the EMA
    model and every checkpoint)."""
    reinit_prob: float = 0.05
    """Chance that a chain restarts from uniform noise over the box instead of the buffer, in
    [0, 1]."""
    sample_steps: int = 100
    """Langevin steps of `sample`, whose chains start from buffer entries; 1 to 100,000 (a
    thousand times the default)."""
    box: tuple[float, float] | None = None
    """(low, high) per dimension, finite with low < high: where chains live and where log Z
    is integrated; None = (-4, 4) for continuous data, (0, 1) for dequantized data."""
    grid_size: int = 256
    """Trapezoid-rule points per axis (edges included) for log Z (2-D data only); 2 to 4,096
    (16.8M energy evaluations; the rule has converged long before)."""
    betas: tuple[float, float] = (0.0, 0.999)
    """Adam betas for the energy, each in [0, 1); beta1 = 0 (no momentum) as in Du &
    Mordatch's code keeps the energy from overshooting the moving negatives."""

    def __post_init__(self) -> None:
        check_widths("hidden", self.hidden)
        check_activation(self.activation)
        check_float("alpha", self.alpha, 0.0)
        check_int("sgld_steps", self.sgld_steps, 1, 10_000)
        check_int("sample_steps", self.sample_steps, 1, 100_000)
        check_int("buffer_size", self.buffer_size, 1, 1_000_000)
        check_float("step_size", self.step_size, 0.0, open_low=True)
        if self.noise is not None:
            check_float("noise", self.noise, 0.0)
        check_float("reinit_prob", self.reinit_prob, 0.0, 1.0)
        if self.box is not None and not (
            len(self.box) == 2 and all(map(math.isfinite, self.box)) and self.box[0] < self.box[1]
        ):
            raise ValueError(f"box={self.box}; must be finite (low, high) with low < high, or None")
        check_int("grid_size", self.grid_size, 2, 4_096)
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas={self.betas}; must be two numbers in [0, 1)")

    @property
    def sigma(self) -> float:
        """The Langevin noise scale actually used."""
        return math.sqrt(self.step_size) if self.noise is None else self.noise


def _draw(kind: str, shape: tuple[int, ...], gen: torch.Generator | None, like: Tensor) -> Tensor:
    """'normal' or 'uniform' [0, 1) draws on like's device and dtype, from `gen` if given."""
    draw = torch.randn if kind == "normal" else torch.rand
    if gen is None:
        return draw(shape, device=like.device, dtype=like.dtype)
    return draw(shape, generator=gen, device=gen.device, dtype=like.dtype).to(like.device)


def sgld(
    energy: Callable[[Tensor], Tensor],
    x: Tensor,
    steps: int,
    step_size: float,
    noise: float,
    box: tuple[float, float] | None = None,
    gen: torch.Generator | None = None,
) -> Tensor:
    """Stochastic gradient Langevin dynamics (Welling & Teh 2011) on an energy.

    x <- x - (step_size / 2) grad_x E(x) + noise * xi,  xi ~ N(0, I), then clipped to `box`.
    With noise = sqrt(step_size) the chain targets exp(-E) (up to discretisation error).

    Args:
        energy: maps (B, *S) to (B,) energies.
        x: (B, *S) starting points.
        steps: number of updates.
        step_size: epsilon.
        noise: sigma, the noise scale.
        box: (low, high) clip bounds per dimension, or None.
        gen: generator for the noise.
    Returns:
        (B, *S) end points, detached.
    """
    x = x.detach()
    for _ in range(steps):
        x.requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(energy(x).sum(), x)
        x = (x - 0.5 * step_size * grad + noise * _draw("normal", x.shape, gen, x)).detach()
        if box is not None:
            x = x.clamp(box[0], box[1])
    return x


class EBM(GenerativeModel):
    """MLP energy model p(x) = exp(-E(x)) / Z on a box (Du & Mordatch 2019).

    `likelihood` is "exact" (up to quadrature) for 2-D data and "none" otherwise.
    """

    def __init__(self, info: DataInfo, cfg: EBMConfig) -> None:
        super().__init__(info)
        if info.kind not in EBM_KINDS:
            raise ValueError(f"data kind {info.kind!r}; EBM models {' or '.join(EBM_KINDS)} data")
        self.cfg = cfg
        self.box = cfg.box if cfg.box is not None else DEFAULT_BOX[info.kind]
        self.likelihood = "exact" if info.dim == 2 else "none"
        self.net = mlp(info.dim, cfg.hidden, 1, cfg.activation)
        low, high = self.box
        self.register_buffer("replay", low + (high - low) * torch.rand(cfg.buffer_size, info.dim))

    def optimizer_options(self) -> dict[str, dict]:
        return {"model": {"betas": tuple(self.cfg.betas)}}

    def energy(self, x: Tensor) -> Tensor:
        """E(x): (B, *info.shape) -> (B,)."""
        return self.net(x.flatten(1)).squeeze(-1)

    def _uniform(self, n: int, gen: torch.Generator | None = None) -> Tensor:
        low, high = self.box
        return low + (high - low) * _draw("uniform", (n, self.info.dim), gen, self.replay)

    def negatives(self, n: int) -> Tensor:
        """(n, *info.shape) training negatives: SGLD from the buffer (or noise), written back."""
        cfg = self.cfg
        idx = torch.randint(len(self.replay), (n,), device=self.replay.device)
        x0 = self.replay[idx]  # (n, D)
        fresh = torch.rand(n, device=x0.device) < cfg.reinit_prob
        x0 = torch.where(fresh[:, None], self._uniform(n), x0)
        x = sgld(self.energy, x0, cfg.sgld_steps, cfg.step_size, cfg.sigma, self.box)
        self.replay[idx] = x
        return x.reshape(n, *self.info.shape)

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """Contrastive divergence with an energy regulariser (Du & Mordatch 2019, sec. 3).

        loss = mean E(x+) - mean E(x-) + alpha * mean(E(x+)^2 + E(x-)^2).
        """
        x_neg = self.negatives(len(x))
        e_pos = self.energy(x)  # (B,)
        e_neg = self.energy(x_neg)  # (B,)
        cd = e_pos.mean() - e_neg.mean()
        reg = self.cfg.alpha * (e_pos**2 + e_neg**2).mean()
        return {
            "loss": cd + reg,
            "cd": cd.detach(),
            "reg": reg.detach(),
            "energy_data": e_pos.mean().detach(),
            "energy_sample": e_neg.mean().detach(),
        }

    def log_partition(self) -> Tensor:
        """log Z over the box by quadrature (2-D data only); a scalar tensor."""
        if self.info.dim != 2:
            raise NotImplementedError(
                f"EBM log Z is computed by quadrature for 2-D data only; this data has "
                f"D={self.info.dim}"
            )
        like = self.replay

        def log_f(points: np.ndarray) -> Tensor:
            return -self.energy(torch.as_tensor(points, device=like.device, dtype=like.dtype))

        with torch.no_grad():
            log_z = grid_log_partition(log_f, (self.box, self.box), self.cfg.grid_size)
        return torch.tensor(log_z, device=like.device, dtype=like.dtype)

    def log_prob(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """(B,) log p(x) = -E(x) - log Z in nats, exact up to quadrature; -inf outside the box.

        Raises:
            NotImplementedError: for data with D != 2 (log Z is intractable).
        """
        log_z = self.log_partition()
        flat = x.flatten(1)
        inside = ((flat >= self.box[0]) & (flat <= self.box[1])).all(-1)
        log_p = -self.energy(x) - log_z
        return torch.where(inside, log_p, torch.full_like(log_p, -math.inf))

    @torch.no_grad()
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, *info.shape) end points of `sample_steps` SGLD steps from buffer entries."""
        if cond is not None:
            raise ValueError("EBM is unconditional; cond must be None")
        if gen is None:
            idx = torch.randint(len(self.replay), (n,), device=self.replay.device)
        else:
            idx = torch.randint(len(self.replay), (n,), generator=gen, device=gen.device)
        x0 = self.replay[idx.to(self.replay.device)]
        cfg = self.cfg
        x = sgld(self.energy, x0, cfg.sample_steps, cfg.step_size, cfg.sigma, self.box, gen)
        return x.reshape(n, *self.info.shape)


FAMILIES = {
    # exact (up to quadrature) on 2-D data; an EBM on other data reports likelihood "none"
    "ebm": Family(EBMConfig, EBM, ("continuous", "dequantized"), "gradient", "exact", "ebm"),
}
