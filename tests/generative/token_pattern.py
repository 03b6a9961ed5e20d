"""A repeating token pattern that the language-model tests train on."""

from __future__ import annotations

import torch

from generative.data import DataInfo, Dataset

V = 11
"""Vocabulary of the pattern's data (its tokens are 1..9)."""
PATTERN = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
"""Period 8; the token after a 1 depends on the one before it."""


def token_data(n: int = 64, length: int = 17) -> Dataset:
    """Rows of the repeating pattern, row i starting at its i-th token: (n, length) int64."""
    at = (torch.arange(n)[:, None] + torch.arange(length)) % len(PATTERN)
    x = PATTERN[at]
    return Dataset(DataInfo("pattern", (length,), "tokens", num_categories=V), x, x[:8], x[:8])
