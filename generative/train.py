"""The one training loop for every generative family.

`fit` owns devices, mixed precision, seeding, optimisers (AdamW per parameter group), gradient
clipping, the EMA of the weights, checkpoints with resume, non-finite-loss detection and the
progress bar. Models own none of it: they give `loss`, and players (GANs) declare
`param_groups`. The loop owns the step too: it passes it to `group_steps(step)` and
`loss(..., step=step)`, so schedules (a KL warm-up, a training stage) follow the step a
checkpoint restores instead of counters inside the model.

The EMA starts with a warm-up, as diffusers' `EMAModel` and most diffusion code do: after
update k (k = 0, 1, ...) the decay is min(ema, (1 + k) / (10 + k)), so the average forgets
the untrained initial weights within the first few hundred steps instead of needing
~1 / (1 - ema) of them (5,000 steps at ema = 0.9998); a short run is then not dominated by its
random initialisation. Mixed precision (`amp`) runs the loss under `torch.autocast` in bf16 or
fp16 (fp16 with a dynamic loss scale); weights, optimiser state and the EMA stay float32.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm import tqdm

from generative.base import GenerativeModel
from generative.checkpoint import load_safe, save_atomic
from generative.config_checks import MAX_BATCH, MAX_SEED, MAX_STEPS, check_float, check_int
from generative.data import Dataset

FORMAT = "emergent.generative.fit.v1"
AMP_MODES = ("off", "auto", "bf16", "fp16")


class NonFiniteLoss(RuntimeError):
    """Training produced a NaN or infinite loss; the message names the step and the group."""


@dataclass(frozen=True)
class FitConfig:
    """Settings of `fit`."""

    steps: int = 5000
    """Optimisation steps (one step updates every parameter group its `group_steps` times);
    1 to 10**9 (`MAX_STEPS`: over 11 days even at 1,000 steps/s)."""
    batch_size: int = 128
    """Examples per step; 1 to 1,000,000 (`MAX_BATCH`: a million examples through a 256-wide
    MLP keep 1 GiB of activations per layer for the backward pass)."""
    lr: float = 1e-3
    """AdamW learning rate; finite and > 0."""
    weight_decay: float = 0.0
    """AdamW decoupled weight decay; finite and >= 0."""
    grad_clip: float = 1.0
    """Max global gradient norm per group; finite and >= 0, 0 turns clipping off."""
    ema: float = 0.0
    """Decay of the exponential moving average of the weights, in [0, 1); 0 = no EMA."""
    ema_warmup: bool = False
    """Use decay min(ema, (1 + k) / (10 + k)) at update k (diffusers' `EMAModel`), so a short
    run is not dominated by the untrained weights; False (the default, which keeps earlier
    configs' numbers) uses `ema` from the first update."""
    amp: str = "off"
    """Mixed precision of the loss: 'off', 'bf16', 'fp16' (with loss scaling) or 'auto'
    (bf16 on CUDA where supported, else fp16; off on CPU)."""
    lr_schedule: str = "constant"
    """'constant' or 'cosine' (to 0 over `steps`)."""
    seed: int = 0
    """Seed of torch's generators; 0 to 2**32 - 1 (`MAX_SEED`, the project's seed range)."""
    device: str = "auto"
    log_every: int = 100
    """Steps between log lines; 1 to 10**9 (as `steps`)."""
    checkpoint_every: int = 0
    """Steps between checkpoints when a checkpoint path is given; 0 = only at the end; at most
    10**9 (as `steps`)."""

    def __post_init__(self) -> None:
        check_int("steps", self.steps, 1, MAX_STEPS)
        check_int("batch_size", self.batch_size, 1, MAX_BATCH)
        check_float("lr", self.lr, 0.0, open_low=True)
        check_float("weight_decay", self.weight_decay, 0.0)
        check_float("grad_clip", self.grad_clip, 0.0)
        check_float("ema", self.ema, 0.0, 1.0, open_high=True)
        check_int("seed", self.seed, 0, MAX_SEED)
        check_int("log_every", self.log_every, 1, MAX_STEPS)
        check_int("checkpoint_every", self.checkpoint_every, 0, MAX_STEPS)
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule={self.lr_schedule!r}; allowed: 'constant', 'cosine'")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device={self.device!r}; allowed: 'auto', 'cpu', 'cuda'")
        if self.amp not in AMP_MODES:
            raise ValueError(f"amp={self.amp!r}; allowed: {', '.join(AMP_MODES)}")


@dataclass
class FitResult:
    """The trained model, its EMA copy (or the model itself), and the loss history."""

    model: GenerativeModel
    ema_model: GenerativeModel
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else float("nan")


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of `amp` on `device`, or None for full float32.

    'auto' is bf16 on CUDA devices that support it, fp16 on older ones, and off on the CPU
    (where autocast rarely pays); 'bf16' and 'fp16' apply on any device.
    """
    if amp not in AMP_MODES:
        raise ValueError(f"amp={amp!r}; allowed: {', '.join(AMP_MODES)}")
    if amp == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]


def autocast(device: torch.device, dtype: torch.dtype | None) -> torch.autocast:
    """`torch.autocast` on `device` in `dtype`; disabled when dtype is None."""
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def ema_decay(decay: float, update: int, warmup: bool = True) -> float:
    """The EMA decay at update `update` (0-based): min(decay, (1 + k) / (10 + k)) with warm-up.

    As diffusers' `EMAModel.get_decay` (`use_ema_warmup=False`), after Tarvainen & Valpola
    2017 ("Mean teachers", sec. 3), who ramp the decay up the same way.
    """
    return min(decay, (1 + update) / (10 + update)) if warmup else decay


class Batches:
    """Endless shuffled minibatches of (x, y) from a split, reshuffled every epoch."""

    def __init__(self, x: Tensor, y: Tensor | None, batch_size: int, gen: torch.Generator) -> None:
        self.x, self.y, self.gen = x, y, gen
        self.batch_size = min(batch_size, len(x))
        self._order = torch.empty(0, dtype=torch.long)
        self._at = 0

    def next(self) -> tuple[Tensor, Tensor | None]:
        if self._at + self.batch_size > len(self._order):
            self._order = torch.randperm(len(self.x), generator=self.gen)
            self._at = 0
        idx = self._order[self._at : self._at + self.batch_size]
        self._at += self.batch_size
        return self.x[idx], (self.y[idx] if self.y is not None else None)


def fit(
    model: GenerativeModel,
    data: Dataset,
    cfg: FitConfig,
    checkpoint: str | Path | None = None,
    progress: bool = False,
    on_log: Callable[[dict[str, float]], None] | None = None,
    description: str = "",
) -> FitResult:
    """Train `model` on `data.train` for `cfg.steps` steps.

    With `checkpoint`, training state is saved there atomically every `checkpoint_every`
    steps and at the end, and an existing file is resumed from (its step is kept).

    Raises:
        NonFiniteLoss: a loss became NaN or infinite (the message names step and group).
    """
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    model.to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    batches = Batches(data.train, data.train_labels, cfg.batch_size, gen)
    groups = model.param_groups()
    overrides = model.optimizer_options()
    optimizers = {
        name: torch.optim.AdamW(
            params, **{"lr": cfg.lr, "weight_decay": cfg.weight_decay, **overrides.get(name, {})}
        )
        for name, params in groups.items()
    }
    base_lr = {name: opt.param_groups[0]["lr"] for name, opt in optimizers.items()}
    amp = resolve_amp(cfg.amp, device)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == torch.float16)
    ema = _ema_copy(model) if cfg.ema > 0 else None
    history: list[dict[str, float]] = []
    start = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        start = _restore(Path(checkpoint), model, optimizers, ema, gen, scaler)
        history = []

    model.train()
    bar = tqdm(
        total=cfg.steps,
        initial=start,
        disable=not progress,
        desc=description or type(model).__name__,
        unit="step",
        dynamic_ncols=True,
    )
    sums: dict[str, float] = {}
    count = 0
    began = time.perf_counter()
    for step in range(start, cfg.steps):
        scale = _lr_scale(cfg, step)
        for name, opt in optimizers.items():
            for pg in opt.param_groups:
                pg["lr"] = base_lr[name] * scale
        for name, repeats in model.group_steps(step).items():
            for _ in range(repeats):
                x, y = batches.next()
                x = data.dequantize(x, gen).to(device)
                y = y.to(device) if y is not None else None
                with autocast(device, amp):
                    out = model.loss(x, y, group=name, step=step)
                loss = out["loss"].float()
                if not torch.isfinite(loss):
                    bar.close()
                    raise NonFiniteLoss(
                        f"{type(model).__name__}: loss of group {name!r} became "
                        f"{loss.item()} at step {step}; lower the learning rate or "
                        "keep gradient clipping on"
                    )
                opt = optimizers[name]
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if cfg.grad_clip > 0:
                    scaler.unscale_(opt)  # clip the true gradients
                    nn.utils.clip_grad_norm_(groups[name], cfg.grad_clip)
                scaler.step(opt)
                scaler.update()
                for key, value in out.items():
                    label = key if len(groups) == 1 else f"{name}/{key}"
                    sums[label] = sums.get(label, 0.0) + float(value.detach())
        count += 1
        if ema is not None:
            _ema_update(ema, model, ema_decay(cfg.ema, step, cfg.ema_warmup))
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            row = {"step": done, **{k: v / count for k, v in sums.items()}}
            history.append(row)
            if on_log is not None:
                on_log(row)
            main = row.get("loss", next((v for k, v in row.items() if k != "step"), math.nan))
            bar.set_postfix_str(f"loss {main:.4g}", refresh=False)
            sums, count = {}, 0
        bar.update(1)
        if checkpoint is not None and cfg.checkpoint_every and done % cfg.checkpoint_every == 0:
            _save(Path(checkpoint), done, model, optimizers, ema, gen, scaler)
    bar.close()
    seconds = time.perf_counter() - began
    if checkpoint is not None:
        _save(Path(checkpoint), cfg.steps, model, optimizers, ema, gen, scaler)
    model.eval()
    if ema is not None:
        ema.eval()
    return FitResult(model, ema if ema is not None else model, history, seconds, cfg.steps - start)


def _lr_scale(cfg: FitConfig, step: int) -> float:
    if cfg.lr_schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
    return 1.0


def _ema_copy(model: GenerativeModel) -> GenerativeModel:
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


@torch.no_grad()
def _ema_update(ema: nn.Module, model: nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters(), strict=True):
        e.lerp_(p, 1.0 - decay)
    for e, b in zip(ema.buffers(), model.buffers(), strict=True):
        e.copy_(b)


def _save(path: Path, step: int, model, optimizers, ema, gen: torch.Generator, scaler) -> None:
    save_atomic(
        {
            "format": FORMAT,
            "step": step,
            "model": model.state_dict(),
            "optimizers": {k: opt.state_dict() for k, opt in optimizers.items()},
            "ema": ema.state_dict() if ema is not None else {},
            "generator": gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "grad_scaler": scaler.state_dict(),
        },
        path,
    )


def _restore(path: Path, model, optimizers, ema, gen: torch.Generator, scaler) -> int:
    data = load_safe(path, FORMAT)
    model.load_state_dict(data["model"])
    for name, opt in optimizers.items():
        opt.load_state_dict(data["optimizers"][name])
    if ema is not None and data["ema"]:
        ema.load_state_dict(data["ema"])
    gen.set_state(data["generator"])
    torch.set_rng_state(data["torch_rng"])
    if data.get("grad_scaler"):
        scaler.load_state_dict(data["grad_scaler"])
    return int(data["step"])
