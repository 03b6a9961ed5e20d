"""Mode coverage on Gaussian-mixture toys (ring8, grid25): the VEEGAN / PacGAN benchmark.

Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018 (PacGAN) draw samples from the generator
(2500 in PacGAN's configs), call a sample high quality if it lies within 3 standard deviations
of its nearest mode centre, and count a mode as captured when at least one high-quality sample
is nearest to it. This follows PacGAN's released evaluation code (github.com/fjxmlzn/PacGAN,
`synthetic_data_experiments/PacGAN/pacgan/extensions.py`, `MetricLogger`): each sample is
assigned to the mode with the smallest distance in standard deviations
||x - mu_k|| / sigma; it is high quality when that distance is < 3; mode coverage is the number
of modes with a non-zero count; the high-quality share is (high-quality samples) / (samples).
`min_count` > 1 gives a stricter variant (a mode needs that many high-quality samples).

Also returned: KL(q || uniform) = log K - H(q) of the histogram q of high-quality samples over
the modes (0 when they are spread evenly; PacGAN reports a divergence of this kind).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor

from generative.metrics.features import as_array

SAMPLES = 2500
"""Samples per evaluation in PacGAN's configs (`num_log_figure_sample`)."""


@dataclass(frozen=True)
class ModeCoverage:
    """Result of `mode_coverage`."""

    modes_covered: int
    """Modes with at least `min_count` high-quality samples (of K)."""
    high_quality: float
    """Share of samples within `threshold` standard deviations of their nearest mode."""
    counts: np.ndarray
    """(K,) high-quality samples assigned to each mode."""
    kl_uniform: float
    """KL(q || uniform over modes) of the high-quality histogram; nan without any."""


def mode_coverage(
    samples: np.ndarray | Tensor,
    modes: np.ndarray,
    std: float,
    threshold: float = 3.0,
    min_count: int = 1,
) -> ModeCoverage:
    """Modes captured and the high-quality share of generated 2-D samples.

    Args:
        samples: (N, 2) generated points (use `SAMPLES` = 2500 to match PacGAN).
        modes: (K, 2) mixture centres (`toy.modes`).
        std: the components' standard deviation sigma (`toy.std`).
        threshold: high quality when ||x - nearest mode|| / sigma < threshold.
        min_count: high-quality samples a mode needs to count as captured (1 in PacGAN's code).
    """
    if not std > 0 or not threshold > 0 or min_count < 1:
        raise ValueError(
            f"std={std}, threshold={threshold}, min_count={min_count}; "
            "std and threshold must be positive and min_count at least 1"
        )
    x, mu = as_array(samples), np.asarray(modes, dtype=np.float64)
    d2 = np.sum(x**2, 1)[:, None] + np.sum(mu**2, 1)[None, :] - 2 * x @ mu.T  # (N, K)
    nearest = np.argmin(d2, axis=1)
    dist = np.sqrt(np.clip(d2[np.arange(len(x)), nearest], 0, None)) / std
    good = dist < threshold
    counts = np.bincount(nearest[good], minlength=len(mu))
    if good.any():
        q = counts / counts.sum()
        kl = float(np.sum(q[q > 0] * np.log(q[q > 0] * len(mu))))
    else:
        kl = float("nan")
    return ModeCoverage(int(np.sum(counts >= min_count)), float(good.mean()), counts, kl)
