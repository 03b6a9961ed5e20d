"""A trained diffusion model measured: load its weights, draw balanced samples, time them, and
score them (Fréchet distance against a real half, the classifier's accuracy on the labels)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from emergent.kinds.diffusion.config import Part
from emergent.modelfit import FIT_CHECKPOINT
from generative import registry
from generative.base import GenerativeModel
from generative.checkpoint import load_safe
from generative.data import Dataset
from generative.evaluate import real_pool
from generative.metrics import features, frechet
from generative.train import FORMAT, FitConfig, autocast, resolve_device


def budget(part: Part, seed: int) -> FitConfig:
    return FitConfig(**{**part.train.__dict__, "seed": seed})


def load_trained(
    cell: Path, name: str, options: Any, data: Dataset, train: FitConfig
) -> GenerativeModel:
    """The trained model (its EMA weights where the budget kept an EMA), in eval mode."""
    model = registry.make(name, data.info, options)
    state = load_safe(cell / FIT_CHECKPOINT, FORMAT)
    model.load_state_dict(state["ema"] or state["model"])
    return model.to(resolve_device(train.device)).eval()


class Bench:
    """Samples a trained digits model with balanced labels and measures FD, accuracy, time.

    Args:
        model: a class-conditional DDPM or latent diffusion model on the digits.
        samples: requested sample-set size (capped at half the real data).
        seed: the real-data split (as `generative.evaluate`) and the noise of every draw.
        amp: the autocast dtype of sampling, None for float32.
    """

    def __init__(
        self,
        model: GenerativeModel,
        data: Dataset,
        samples: int,
        seed: int,
        amp: torch.dtype | None,
    ) -> None:
        self.model, self.info, self.seed, self.amp = model, data.info, seed, amp
        real = real_pool(data)
        order = np.random.default_rng(seed).permutation(len(real))
        half = len(real) // 2
        self.m = min(samples, half)
        self.real_a = features.embed(real[order[: self.m]], data.info)
        real_b = features.embed(real[order[half : half + self.m]], data.info)
        self.floor = frechet.frechet_distance(real_b, self.real_a)
        self.labels = torch.arange(self.m) % (data.info.num_classes or 1)

    @torch.no_grad()
    def draw(self, **options: Any) -> tuple[Tensor, float]:
        """(m, 1, 8, 8) samples for the balanced labels, and the seconds they took."""
        device = self.model.device
        gen = torch.Generator(device=device).manual_seed(self.seed)
        if device.type == "cuda":
            torch.cuda.synchronize()
        began = time.perf_counter()
        with autocast(device, self.amp):
            x = self.model.sample(self.m, self.labels.to(device), gen=gen, **options)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return x.float().cpu(), time.perf_counter() - began

    def run(self, name: str, **options: Any) -> tuple[dict[str, Any], Tensor]:
        """FD against the real half, the classifier's accuracy on the requested labels and
        the time, and the samples themselves."""
        x, seconds = self.draw(**options)
        fd = frechet.frechet_distance(features.embed(x, self.info), self.real_a)
        accuracy = (features.predict(x, self.info.kind) == self.labels).float().mean()
        row = {
            "name": name,
            **options,
            "fd": fd,
            "fd_floor": self.floor,
            "accuracy": float(accuracy),
            "seconds": seconds,
            "per_sample_s": seconds / self.m,
            "samples": self.m,
        }
        return row, x
