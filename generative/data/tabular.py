"""Labelled tables bundled with scikit-learn, for generative vs discriminative classifiers.

Ng & Jordan (2002) compare Naive Bayes with logistic regression by their learning curves; the
curves subsample the train split, so train is kept large. Nothing is downloaded.

- "breast_cancer" (569 x 30, 2 classes), "wine" (178 x 13, 3 classes), "iris" (150 x 4,
  3 classes): kind "continuous", features standardised with the train split's mean and std
  (`standardize=False` keeps raw units). Stratified split 70/10/20 from the seed.
- "digits_tabular": the 64 pixels of scikit-learn's digits as features, levels 0..16
  (kind "categorical", num_categories 17); "digits_binary": pixels thresholded at level >= 8
  to 0/1 (kind "binary", num_categories 2). Both use the digits images' split for the seed
  (70/15/15, `generative.data.digits.digits_split`), so test images are the same in every view.
"""

from __future__ import annotations

import numpy as np
import torch

from generative.data import DataInfo, Dataset
from generative.data.digits import LEVELS, digits_arrays, digits_split, stratified_split

BINARY_THRESHOLD = 8
"""digits_binary pixel = 1 where the level is >= 8 (half of 0..16)."""


def _table(
    name: str,
    loader: str,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    standardize: bool,
) -> Dataset:
    """`loader` names the function of `sklearn.datasets` (imported when first used)."""
    import sklearn.datasets

    x, y = getattr(sklearn.datasets, loader)(return_X_y=True)
    fractions = (1 - val_fraction - test_fraction, val_fraction, test_fraction)
    idx = stratified_split(y, fractions, np.random.default_rng(seed))
    x = x.astype(np.float64)
    if standardize:
        mean, std = x[idx[0]].mean(0), x[idx[0]].std(0)
        x = (x - mean) / np.where(std > 0, std, 1.0)
    xs = [torch.as_tensor(x[i], dtype=torch.float32) for i in idx]
    ys = [torch.as_tensor(y[i], dtype=torch.int64) for i in idx]
    info = DataInfo(name, (x.shape[1],), "continuous", num_classes=int(y.max()) + 1)
    return Dataset(info, *xs, *ys)


def load_breast_cancer(
    seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2, standardize: bool = True
) -> Dataset:
    """Wisconsin diagnostic breast cancer: (30,) continuous features, 2 classes."""
    return _table(
        "breast_cancer",
        "load_breast_cancer",
        seed,
        val_fraction,
        test_fraction,
        standardize,
    )


def load_wine(
    seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2, standardize: bool = True
) -> Dataset:
    """Wine recognition: (13,) continuous features, 3 classes."""
    return _table("wine", "load_wine", seed, val_fraction, test_fraction, standardize)


def load_iris(
    seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2, standardize: bool = True
) -> Dataset:
    """Fisher's iris: (4,) continuous features, 3 classes."""
    return _table("iris", "load_iris", seed, val_fraction, test_fraction, standardize)


def _digit_table(
    name: str, seed: int, val_fraction: float, test_fraction: float, binary: bool
) -> Dataset:
    levels, labels = digits_arrays()
    x = (levels >= BINARY_THRESHOLD).astype(np.int64) if binary else levels
    idx = digits_split(seed, val_fraction, test_fraction)
    xs = [torch.as_tensor(x[i], dtype=torch.float32) for i in idx]
    ys = [torch.as_tensor(labels[i]) for i in idx]
    kind, categories = ("binary", 2) if binary else ("categorical", LEVELS)
    info = DataInfo(name, (64,), kind, num_categories=categories, num_classes=10)
    return Dataset(info, *xs, *ys)


def load_digits_tabular(
    seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15
) -> Dataset:
    """Digits as 64 categorical features with levels 0..16, 10 classes."""
    return _digit_table("digits_tabular", seed, val_fraction, test_fraction, binary=False)


def load_digits_binary(
    seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15
) -> Dataset:
    """Digits as 64 binary features (level >= 8), 10 classes."""
    return _digit_table("digits_binary", seed, val_fraction, test_fraction, binary=True)
