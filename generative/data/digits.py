"""scikit-learn's handwritten digits (8 x 8 images, 17 grey levels, 1797 images, 10 classes).

The images ship inside scikit-learn (`sklearn.datasets.load_digits`, the UCI optdigits test
set); nothing is downloaded. Two views share one stratified train/val/test split fixed by the
seed (70/15/15 within each class: 1259/269/269 images for any seed):

- "digits": kind "categorical", shape (1, 8, 8), integer levels 0..16 stored as float32,
  num_categories 17.
- "digits_continuous": kind "dequantized", the same levels divided by 17 (in [0, 16/17]);
  the training loop adds U[0, 1/17) noise per batch (`Dataset.dequantize`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from generative.data import DataInfo, Dataset

LEVELS = 17
"""Grey levels 0..16 per pixel."""


@lru_cache(maxsize=1)
def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Levels (1797, 64) int64 in 0..16 and labels (1797,) int64 in 0..9 (read-only)."""
    import sklearn.datasets  # heavy: imported when the digits are first loaded

    raw = sklearn.datasets.load_digits()
    levels, labels = raw.data.astype(np.int64), raw.target.astype(np.int64)
    levels.flags.writeable = False
    labels.flags.writeable = False
    return levels, labels


def stratified_split(
    labels: np.ndarray, fractions: tuple[float, float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint train/val/test index arrays with each class split in the given proportions.

    Per class c with n_c members: round(f_val n_c) to val, round(f_test n_c) to test, the
    rest to train; each split's indices come back in random order.

    Args:
        labels: (N,) class of each example.
        fractions: (train, val, test), non-negative, summing to 1.
        rng: the only source of randomness.
    Returns:
        Three int64 index arrays covering 0..N-1 exactly once.
    """
    if min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions={fractions}; must be non-negative and sum to 1")
    parts: tuple[list, list, list] = ([], [], [])
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_val = round(fractions[1] * len(members))
        n_test = round(fractions[2] * len(members))
        parts[1].append(members[:n_val])
        parts[2].append(members[n_val : n_val + n_test])
        parts[0].append(members[n_val + n_test :])
    train, val, test = (rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts)
    return train, val, test


@lru_cache(maxsize=8)
def digits_split(
    seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stratified (train, val, test) indices into `digits_arrays()` for this seed."""
    _, labels = digits_arrays()
    fractions = (1 - val_fraction - test_fraction, val_fraction, test_fraction)
    return stratified_split(labels, fractions, np.random.default_rng(seed))


def _views(
    seed: int, val_fraction: float, test_fraction: float, scale: float, shape: tuple[int, ...]
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    levels, labels = digits_arrays()
    idx = digits_split(seed, val_fraction, test_fraction)
    xs = [torch.as_tensor(levels[i] / scale, dtype=torch.float32).reshape(-1, *shape) for i in idx]
    return xs, [torch.as_tensor(labels[i]) for i in idx]


def load_digits(seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15) -> Dataset:
    """Categorical view: (N, 1, 8, 8) float32 levels 0..16, labels 0..9."""
    xs, ys = _views(seed, val_fraction, test_fraction, 1.0, (1, 8, 8))
    info = DataInfo("digits", (1, 8, 8), "categorical", num_categories=LEVELS, num_classes=10)
    return Dataset(info, *xs, *ys)


def load_digits_continuous(
    seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15
) -> Dataset:
    """Dequantized view: (N, 1, 8, 8) float32 levels / 17, labels 0..9; same split as "digits"."""
    xs, ys = _views(seed, val_fraction, test_fraction, float(LEVELS), (1, 8, 8))
    info = DataInfo(
        "digits_continuous", (1, 8, 8), "dequantized", num_categories=LEVELS, num_classes=10
    )
    return Dataset(info, *xs, *ys)
