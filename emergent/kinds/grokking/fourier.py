"""The Fourier structure of the number embeddings, the trace of the algorithm a grokked model
finds for (a + b) mod p.

Nanda et al. 2023 show that a network that generalises on modular addition embeds each residue
a as cos(w_k a), sin(w_k a) for a few key frequencies w_k = 2 pi k / p and composes them with
trigonometric identities; before it generalises (memorisation) or without weight decay the
embedding's power is spread over every frequency. With E the (p, D) embedding of 0..p-1,

    P_k = sum_d |sum_a E[a, d] exp(-2 pi i k a / p)|^2,   k = 1 .. floor(p / 2),

normalised to sum to 1 (k = 0, the mean over the residues, carries no information about a).

Reference: Nanda, Chan, Lieberum, Smith & Steinhardt 2023, "Progress measures for grokking via
mechanistic interpretability", arXiv:2301.05217 (sec. 4, fig. 3).
"""

from __future__ import annotations

import numpy as np

KEY_FREQUENCIES = 5
"""Nanda et al.'s transformer uses 5 key frequencies (k = 14, 35, 41, 42, 52 for p = 113)."""


def frequency_power(embedding: np.ndarray) -> np.ndarray:
    """Share of the embedding's non-constant power at each frequency k = 1..floor(p / 2).

    Args:
        embedding: (p, D), row a the embedding of residue a.
    Returns:
        (floor(p / 2),), non-negative, summing to 1 (all zeros for a constant embedding).
    """
    spectrum = np.fft.rfft(embedding.astype(np.float64), axis=0)  # (p // 2 + 1, D)
    power = (np.abs(spectrum[1:]) ** 2).sum(axis=1)  # (p // 2,)
    total = power.sum()
    return power / total if total > 0 else power


def top_share(power: np.ndarray, k: int = KEY_FREQUENCIES) -> float:
    """Share of the power in the k strongest frequencies (about k / (p / 2) when spread)."""
    return float(np.sort(power)[::-1][:k].sum())


def key_frequencies(power: np.ndarray, k: int = KEY_FREQUENCIES) -> list[int]:
    """The k strongest frequencies (1-based k of `frequency_power`), strongest first."""
    return [int(i) + 1 for i in np.argsort(power)[::-1][:k]]
