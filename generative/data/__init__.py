"""Embedded datasets only: 2-D toy densities, scikit-learn's digits, scikit-learn's tables.

`load(name, seed=0) -> Dataset` gives fixed train/val/test splits from the seed. Nothing is
downloaded: the toys are generated, and the rest ships inside scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

DataKind = Literal["continuous", "dequantized", "categorical", "binary", "tokens"]


@dataclass(frozen=True)
class DataInfo:
    """What a model must know about its data.

    Attributes:
        name: registry name, e.g. "moons", "digits".
        shape: one example's shape, e.g. (2,) or (1, 8, 8).
        kind: "continuous" (real values), "dequantized" (integer levels / levels plus
            uniform noise, in [0, 1)), "categorical" (integer levels stored as float, values
            in 0..num_categories-1), "binary" (0/1) or "tokens" (int64 token ids in
            0..num_categories-1, one sequence per example: `shape` is (sequence length,)).
        num_categories: levels per dimension for categorical/dequantized data (17 for digits);
            the vocabulary size for tokens.
        num_classes: label classes when the data has labels (10 for digits), else None.
    """

    name: str
    shape: tuple[int, ...]
    kind: DataKind
    num_categories: int | None = None
    num_classes: int | None = None

    @property
    def dim(self) -> int:
        """D, the number of dimensions of one example."""
        out = 1
        for s in self.shape:
            out *= s
        return out


@dataclass
class Dataset:
    """Fixed splits. x tensors are float32 (N, *info.shape), int64 (N, L) token ids for
    "tokens" data; labels int64 (N,) or None (always None for tokens: a language model reads
    its targets from the sequence). Tokens may also be one stream per split, int64 (N,), with
    `info.shape` = (L,) the window length: `generative.train.fit` then draws random windows
    of L consecutive tokens (`generative.text.streams` builds such a dataset from text).

    For "dequantized" data the stored values are the integer levels divided by
    `num_categories` and `dequantize(x, gen)` adds fresh uniform noise in [0, 1/levels) —
    the training loop calls it on every batch (Theis et al. 2016; Ho et al. 2019).
    """

    info: DataInfo
    train: Tensor
    val: Tensor
    test: Tensor
    train_labels: Tensor | None = None
    val_labels: Tensor | None = None
    test_labels: Tensor | None = None

    def dequantize(self, x: Tensor, gen: torch.Generator | None = None) -> Tensor:
        if self.info.kind != "dequantized":
            return x
        noise = torch.rand(x.shape, generator=gen, device="cpu").to(x.device)
        return x + noise / self.info.num_categories


def load(name: str, seed: int = 0, **options: object) -> Dataset:
    """The dataset `name` with splits fixed by `seed`.

    Raises:
        KeyError: unknown name (the message lists the known ones).
    """
    if name not in LOADERS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(LOADERS))}")
    return LOADERS[name](seed=seed, **options)


# The loaders need DataInfo and Dataset defined above, hence imports at the bottom.
from generative.data import digits, tabular, toys  # noqa: E402

LOADERS: dict[str, Callable[..., Dataset]] = {
    "moons": toys.load_moons,
    "ring8": toys.load_ring8,
    "grid25": toys.load_grid25,
    "swissroll": toys.load_swissroll,
    "checkerboard": toys.load_checkerboard,
    "digits": digits.load_digits,
    "digits_continuous": digits.load_digits_continuous,
    "breast_cancer": tabular.load_breast_cancer,
    "wine": tabular.load_wine,
    "iris": tabular.load_iris,
    "digits_tabular": tabular.load_digits_tabular,
    "digits_binary": tabular.load_digits_binary,
}
