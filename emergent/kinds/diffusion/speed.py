"""Latent against pixel diffusion: seconds per training step and per sample, interleaved.

Timing the two models in their own cells would compare measurements taken minutes apart, under
whatever else the machine was doing then. Here both trained models are loaded side by side and
timed in alternation for a few rounds (medians kept): a training step of a copy of each
(AdamW, clipping, autocast as in `generative.train.fit`; no EMA or logging, which cost the same
for both) and DDIM sampling of the FD sample set. Latent diffusion's two stages are timed
separately: the autoencoder's step (a one-off: Rombach et al. train it once and reuse it) and
the diffusion model's step (encoder forward pass included).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from emergent.kinds.diffusion.bench import Bench, budget, load_trained
from emergent.kinds.diffusion.config import DiffusionExperiment
from emergent.modelfit import cell_dir, load_data
from generative.data import Dataset
from generative.train import Batches, FitConfig, autocast, resolve_amp

ROUNDS, STEPS = 3, 20


def speed_dir(run_dir: Path, seed: int) -> Path:
    return run_dir / "speed" / f"seed{seed}"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def step_seconds(model, data: Dataset, group: str, train: FitConfig, steps: int = STEPS) -> float:
    """Mean seconds of one training step of parameter group `group` on a copy of `model`."""
    model = copy.deepcopy(model).train()
    device = model.device
    params = model.param_groups()[group]
    opt = torch.optim.AdamW(params, lr=train.lr, weight_decay=train.weight_decay)
    batches = Batches(
        data.train, data.train_labels, train.batch_size, torch.Generator().manual_seed(0)
    )
    amp = resolve_amp(train.amp, device)

    def step() -> None:
        x, y = batches.next()
        with autocast(device, amp):
            loss = model.loss(x.to(device), y.to(device), group=group)["loss"].float()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if train.grad_clip > 0:
            nn.utils.clip_grad_norm_(params, train.grad_clip)
        opt.step()

    for _ in range(2):  # warm-up: allocator, kernels
        step()
    _sync(device)
    began = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return (time.perf_counter() - began) / steps


def measure(cfg: DiffusionExperiment, run_dir: Path, seed: int) -> dict[str, Any]:
    """Medians over interleaved rounds: seconds per training step (pixel; latent diffusion
    and autoencoder stages) and per sample at DDIM `eval.compare_steps`, w = 0."""

    data = load_data("digits", seed)
    models, benches, budgets = {}, {}, {}
    for part, label in (("pixel", "ddpm"), ("latent", "latent_diffusion")):
        spec = getattr(cfg, part)
        budgets[part] = budget(spec, seed)
        cell = cell_dir(run_dir, "digits", label, seed)
        models[part] = load_trained(cell, label, spec.model, data, budgets[part])
        amp = resolve_amp(budgets[part].amp, models[part].device)
        benches[part] = Bench(models[part], data, cfg.eval.samples, seed, amp)
    times: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for key, part, group in (
            ("pixel_step_s", "pixel", "model"),
            ("latent_step_s", "latent", "diffusion"),
            ("autoencoder_step_s", "latent", "autoencoder"),
        ):
            seconds = step_seconds(models[part], data, group, budgets[part])
            times.setdefault(key, []).append(seconds)
        for part in ("pixel", "latent"):
            _, seconds = benches[part].draw(sampler="ddim", steps=cfg.eval.compare_steps, eta=0.0)
            times.setdefault(f"{part}_sample_s", []).append(seconds / benches[part].m)
    return {
        "seed": seed,
        "rounds": ROUNDS,
        "steps": STEPS,
        "sample_steps": cfg.eval.compare_steps,
        **{key: float(np.median(values)) for key, values in times.items()},
    }
