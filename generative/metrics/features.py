"""Feature spaces for sample-based metrics: a small digits classifier, or the coordinates.

Fréchet distance, KID and precision/recall compare sets of feature vectors. For 8 x 8 digits
the features are the penultimate layer (64 units) of a small CNN trained here on the digits
train split (the role Inception-v3 plays for FID on ImageNet; Heusel et al. 2017). For 2-D toys
the features are the coordinates themselves (`embed`).

Inputs in either digits view are first mapped to integer levels 0..16: categorical values are
rounded and clipped; dequantized values y (levels / 17 plus U[0, 1/17) noise) become
floor(17 y), clipped, so the stored view (levels / 17) and dequantized samples land on the same
levels. The network then sees levels / 16, in [0, 1].

The classifier is trained deterministically from the seed on CPU (about 1.5 s) and cached
per process: `digit_classifier(seed)`. Training: 500 AdamW steps, batches of 128, lr 1e-2 on a
cosine schedule, weight decay 1e-3, dropout 0.2, random shifts of up to one pixel; test
accuracy 97-99.6 % over seeds 0..9.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.data import DataInfo

LEVELS = 17
"""Grey levels of the digits (0..16)."""


def as_array(x: np.ndarray | Tensor) -> np.ndarray:
    """(N, F) float64 NumPy array from an array or a tensor on any device (flattens (N, ...))."""
    if isinstance(x, Tensor):
        x = x.detach().cpu().double().numpy()
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), -1)


def to_unit(x: np.ndarray | Tensor, kind: str) -> Tensor:
    """Digits in either view -> (N, 1, 8, 8) float32 CPU tensor of levels / 16.

    Args:
        x: (N, 1, 8, 8) or (N, 64): levels 0..16 (kind "categorical") or values in [0, 1)
            (kind "dequantized", levels / 17 with or without dequantization noise).
        kind: "categorical" or "dequantized".
    """
    x = torch.as_tensor(x).detach().to("cpu", torch.float64).reshape(-1, 1, 8, 8)
    if kind == "categorical":
        levels = x.round()
    elif kind == "dequantized":
        # + 1e-5: a float32 level / 17 times 17 may give 2.999999; noise u > 1 - 1e-5 (one pixel
        # in 1e5) then rounds up a level.
        levels = torch.floor(x * LEVELS + 1e-5)
    else:
        raise ValueError(f"kind={kind!r}; digits features take 'categorical' or 'dequantized'")
    return (levels.clamp(0, LEVELS - 1) / (LEVELS - 1)).float()


class DigitClassifier(nn.Module):
    """conv 3x3 (16) - ReLU - max-pool 2 - linear 256 -> 64 - ReLU - dropout - linear 64 -> 10."""

    def __init__(self, channels: int = 16, hidden: int = 64, dropout: float = 0.2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, channels, 3, padding=1)
        self.hidden = nn.Linear(channels * 16, hidden)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 10)

    def features(self, x: Tensor) -> Tensor:
        """(N, 1, 8, 8) levels / 16 -> (N, 64) penultimate activations."""
        h = F.max_pool2d(F.relu(self.conv(x)), 2)  # (N, C, 4, 4)
        return F.relu(self.hidden(h.flatten(1)))

    def forward(self, x: Tensor) -> Tensor:
        """(N, 1, 8, 8) levels / 16 -> (N, 10) logits."""
        return self.head(self.dropout(self.features(x)))


def random_shift(x: Tensor, gen: torch.Generator) -> Tensor:
    """Shift each (1, 8, 8) image by up to one pixel in each direction, zero-filled."""
    n = len(x)
    padded = F.pad(x, (1, 1, 1, 1))  # (N, 1, 10, 10)
    dy, dx = torch.randint(0, 3, (2, n), generator=gen)
    rows = (dy[:, None] + torch.arange(8))[:, :, None]  # (N, 8, 1)
    cols = (dx[:, None] + torch.arange(8))[:, None, :]  # (N, 1, 8)
    return padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


STEPS, BATCH, LR, WEIGHT_DECAY = 500, 128, 1e-2, 1e-3


@lru_cache(maxsize=4)
def digit_classifier(seed: int = 0) -> DigitClassifier:
    """The classifier trained on the train split of `generative.data.load("digits", seed)`.

    Deterministic given the seed (CPU, one thread, own generator; the global RNG is left
    untouched), whatever the caller's thread count.
    Returned in eval mode, on CPU; do not modify it (it is shared through the cache).
    """
    from generative.data.digits import load_digits

    data = load_digits(seed)
    x, y = to_unit(data.train, "categorical"), data.train_labels
    gen = torch.Generator().manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # float sums depend on the thread count: the same weights for all
    try:
        with torch.random.fork_rng(devices=[]), torch.enable_grad():  # callers may be in no_grad
            torch.manual_seed(seed)
            net = DigitClassifier()
            opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
            net.train()
            for step in range(STEPS):
                for group in opt.param_groups:
                    group["lr"] = LR * 0.5 * (1 + math.cos(math.pi * step / STEPS))
                idx = torch.randint(0, len(x), (BATCH,), generator=gen)
                loss = F.cross_entropy(net(random_shift(x[idx], gen)), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


@torch.no_grad()
def features(x: np.ndarray | Tensor, kind: str = "categorical", seed: int = 0) -> Tensor:
    """(N, 64) float32 CPU penultimate-layer features of digits in either view."""
    return digit_classifier(seed).features(to_unit(x, kind))


@torch.no_grad()
def predict(x: np.ndarray | Tensor, kind: str = "categorical", seed: int = 0) -> Tensor:
    """(N,) int64 predicted class (0..9) of digits in either view."""
    return digit_classifier(seed)(to_unit(x, kind)).argmax(1)


def embed(x: np.ndarray | Tensor, info: DataInfo, seed: int = 0) -> np.ndarray:
    """The metric feature space for data described by `info`, as (N, F) float64.

    2-D toys (shape (2,)): the coordinates. Digits images (shape (1, 8, 8)): the classifier's
    penultimate features.
    """
    if info.shape == (2,):
        return as_array(x)
    if info.shape == (1, 8, 8) and info.kind in ("categorical", "dequantized"):
        return as_array(features(x, info.kind, seed))
    raise ValueError(f"no feature space for {info.name!r} (shape {info.shape}, {info.kind})")
