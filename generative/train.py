"""The one training loop for every generative family.

`fit` owns devices, mixed precision, seeding, optimisers (AdamW per parameter group, without
weight decay on the parameters a model names in `no_weight_decay`), gradient clipping, the EMA
of the weights, checkpoints with resume, non-finite-loss detection and the progress bar.
Models own none of it: they give `loss`, and players (GANs) declare `param_groups`. The loop
owns the step too: it passes it to `group_steps(step)` and `loss(..., step=step)`, so
schedules (a KL warm-up, a training stage) follow the step a checkpoint restores instead of
counters inside the model. A dataset that is one token stream is batched as random windows
(`Windows`, nanoGPT's `get_batch`); the learning rate can warm up linearly and decay along a
cosine to a floor (`FitConfig.warmup_steps`, `lr_min`, as nanoGPT's `get_lr`).

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
from typing import Any

import torch
from torch import Tensor, nn
from tqdm import tqdm

from generative.base import GenerativeModel
from generative.checkpoint import CheckpointError, load_safe, save_atomic
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
    lr_min: float = 0.0
    """The learning rate 'cosine' decays to at the last step (nanoGPT's `min_lr`); from 0 to
    `lr`. A player whose `optimizer_options` set its own rate decays to the same fraction of
    it. Unused by 'constant'."""
    warmup_steps: int = 0
    """Linear warm-up: at step k < warmup_steps the rate is lr (k + 1) / (warmup_steps + 1),
    as nanoGPT's `get_lr`; then the schedule runs over the remaining steps. 0 (the default)
    = none; at most `steps`."""
    beta2: float = 0.999
    """AdamW's second-moment decay, in [0, 1); 0.999 is PyTorch's default, nanoGPT's
    character-level recipe uses 0.99 (its small batches give noisy gradients). A player's
    `optimizer_options` betas win."""
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
    """'constant' or 'cosine' (half a cosine from lr down to `lr_min`, over the steps after the
    warm-up; Loshchilov & Hutter 2017, SGDR)."""
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
        check_float("lr_min", self.lr_min, 0.0)
        if self.lr_min > self.lr:
            raise ValueError(f"lr_min={self.lr_min}; must be at most lr={self.lr}")
        check_int("warmup_steps", self.warmup_steps, 0, MAX_STEPS)
        if self.warmup_steps > self.steps:
            raise ValueError(
                f"warmup_steps={self.warmup_steps}; must be at most steps={self.steps}"
            )
        check_float("beta2", self.beta2, 0.0, 1.0, open_high=True)
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

    def state(self) -> dict[str, Any]:
        """Where in the epoch's order it is: a checkpoint keeps it so that a resumed fit draws
        the batches a never-stopped one would."""
        return {"order": self._order.clone(), "at": self._at}

    def load_state(self, state: dict[str, Any]) -> None:
        order, at = state["order"], state["at"]
        if not isinstance(order, Tensor) or not isinstance(at, int) or not 0 <= at <= len(order):
            raise CheckpointError("its batch order is damaged")
        self._order, self._at = order.long(), at


class Windows:
    """Endless minibatches of random windows of a token stream (nanoGPT's `get_batch`).

    Each batch holds `batch_size` windows of `length` consecutive tokens at offsets drawn
    uniformly from 0..N - length with `torch.randint` on the fit's generator; a language model
    reads the first length - 1 tokens of each and predicts the last length - 1. The generator
    is the only state, so a checkpoint of it resumes the same windows.
    """

    def __init__(self, stream: Tensor, length: int, batch_size: int, gen: torch.Generator) -> None:
        if stream.dim() != 1 or len(stream) < length:
            raise ValueError(
                f"token stream of shape {tuple(stream.shape)}; need one stream of at least "
                f"{length} tokens (the window length)"
            )
        self.windows = stream.unfold(0, length, 1)  # (N - length + 1, length), a view
        self.batch_size, self.gen = batch_size, gen

    def next(self) -> tuple[Tensor, None]:
        offsets = torch.randint(len(self.windows), (self.batch_size,), generator=self.gen)
        return self.windows[offsets], None  # (batch_size, length)

    def state(self) -> dict[str, Any]:
        return {"windows": self.windows.shape[1]}

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("windows") != self.windows.shape[1]:
            raise CheckpointError(
                f"it was written for windows of {state.get('windows')!r} tokens, not "
                f"{self.windows.shape[1]}"
            )


def batches_of(data: Dataset, batch_size: int, gen: torch.Generator) -> Batches | Windows:
    """Random windows of `info.shape[0]` tokens when `data` is one token stream (kind
    "tokens" with a 1-D `train`), else shuffled minibatches of its examples."""
    if data.info.kind == "tokens" and data.train.dim() == 1:
        return Windows(data.train, data.info.shape[0], batch_size, gen)
    return Batches(data.train, data.train_labels, batch_size, gen)


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

    Batches are shuffled minibatches of the examples, or, for one token stream (a "tokens"
    dataset whose `train` is 1-D), random windows of `data.info.shape[0]` tokens (`Windows`).

    With `checkpoint`, training state is saved there atomically every `checkpoint_every`
    steps and at the end, and an existing file is resumed from (its step is kept).

    Raises:
        NonFiniteLoss: a loss became NaN or infinite (the message names step and group).
    """
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    model.to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    batches = batches_of(data, cfg.batch_size, gen)
    groups = model.param_groups()
    optimizers = build_optimizers(model, cfg)
    base_lr = {name: opt.param_groups[0]["lr"] for name, opt in optimizers.items()}
    amp = resolve_amp(cfg.amp, device)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == torch.float16)
    ema = _ema_copy(model) if cfg.ema > 0 else None
    history: list[dict[str, float]] = []
    start = 0
    sums: dict[str, float] = {}  # the open log window: means of the steps since the last row
    count = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        start, sums, count, history = _restore(
            Path(checkpoint), model, optimizers, ema, gen, scaler, batches
        )

    model.train()
    bar = tqdm(
        total=cfg.steps,
        initial=start,
        disable=not progress,
        desc=description or type(model).__name__,
        unit="step",
        dynamic_ncols=True,
    )
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
            window = {"sums": sums, "count": count, "history": history}
            _save(Path(checkpoint), done, model, optimizers, ema, gen, scaler, batches, window)
    bar.close()
    seconds = time.perf_counter() - began
    if checkpoint is not None:
        window = {"sums": sums, "count": count, "history": history}
        _save(Path(checkpoint), cfg.steps, model, optimizers, ema, gen, scaler, batches, window)
    model.eval()
    if ema is not None:
        ema.eval()
    return FitResult(model, ema if ema is not None else model, history, seconds, cfg.steps - start)


def build_optimizers(model: GenerativeModel, cfg: FitConfig) -> dict[str, torch.optim.AdamW]:
    """One AdamW per player of `model.param_groups()`, with its `optimizer_options` overrides.

    Parameters named by `model.no_weight_decay()` go to a second param group with
    weight_decay=0, as nanoGPT's `configure_optimizers` does: decoupled weight decay
    (Loshchilov & Hutter 2019) pulls weights towards 0, a prior meant for matrices, not for
    biases and LayerNorm gains. A model that names none gets one param group per optimiser,
    exactly as before the split.

    Raises:
        ValueError: `no_weight_decay` names a parameter the model does not have.
    """
    named = dict(model.named_parameters())
    skip_names = model.no_weight_decay()
    if unknown := skip_names - named.keys():
        raise ValueError(
            f"{type(model).__name__}.no_weight_decay names no parameter: {sorted(unknown)}"
        )
    skip = {id(named[name]) for name in skip_names}
    overrides = model.optimizer_options()
    optimizers = {}
    for name, params in model.param_groups().items():
        options = {
            "lr": cfg.lr,
            "betas": (0.9, cfg.beta2),
            "weight_decay": cfg.weight_decay,
            **overrides.get(name, {}),
        }
        if any(id(p) in skip for p in params):
            split = [
                {"params": [p for p in params if id(p) not in skip]},
                {"params": [p for p in params if id(p) in skip], "weight_decay": 0.0},
            ]
            params = [group for group in split if group["params"]]
        optimizers[name] = torch.optim.AdamW(params, **options)
    return optimizers


def _lr_scale(cfg: FitConfig, step: int) -> float:
    """The learning rate at `step` (0-based) as a fraction of `lr`: the linear warm-up, then
    'constant' 1 or 'cosine' from 1 down to lr_min / lr (nanoGPT's `get_lr`)."""
    if step < cfg.warmup_steps:
        return (step + 1) / (cfg.warmup_steps + 1)
    if cfg.lr_schedule == "cosine":
        angle = math.pi * (step - cfg.warmup_steps) / (cfg.steps - cfg.warmup_steps)
        floor = cfg.lr_min / cfg.lr  # 0.0 by default: exactly the plain cosine, bit for bit
        return floor + 0.5 * (1 + math.cos(angle)) * (1 - floor)
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


def _save(
    path: Path,
    step: int,
    model,
    optimizers,
    ema,
    gen,
    scaler,
    batches: Batches | Windows,
    window: dict,
) -> None:
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
            "batches": batches.state(),
            "log_window": window,
        },
        path,
    )


def _restore(
    path: Path, model, optimizers, ema, gen, scaler, batches: Batches | Windows
) -> tuple[int, dict[str, float], int, list[dict[str, float]]]:
    """Load everything `_save` wrote; return (step, the open log window's sums, its step count,
    the rows logged so far).

    Checkpoints written before the batch order and the log window were kept resume too, from
    a fresh epoch order and an empty window."""
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
    if "batches" in data:
        batches.load_state(data["batches"])
    window = data.get("log_window", {"sums": {}, "count": 0, "history": []})
    sums, count, history = window.get("sums"), window.get("count"), window.get("history", [])
    if (
        not isinstance(sums, dict)
        or not isinstance(count, int)
        or count < 0
        or not isinstance(history, list)
        or not all(isinstance(row, dict) for row in history)
    ):
        raise CheckpointError("its log window is damaged")
    return int(data["step"]), {str(k): float(v) for k, v in sums.items()}, count, history
