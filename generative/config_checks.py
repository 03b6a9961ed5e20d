"""Range checks shared by the generative configs: one-line `ValueError`s naming the key.

Every config's `__post_init__` checks its sizes and counts against an upper bound, so a typo
(a width of 10**7, 10**12 steps) fails at once with a message naming the key instead of a
NumPy or PyTorch traceback minutes later or a run that is killed for memory. The bounds are
sized for a machine with 24 GiB of memory: each is far above any useful setting here and below
what fits there. Every float must be finite. Each config keeps its own rules (choices,
relations between fields); these helpers only say the ranges once.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from itertools import pairwise

__all__ = [
    "MAX_BATCH",
    "MAX_CHANNELS",
    "MAX_CONV_LEVELS",
    "MAX_LATENT",
    "MAX_LAYERS",
    "MAX_SEED",
    "MAX_STEPS",
    "MAX_WEIGHTS",
    "MAX_WIDTH",
    "check_float",
    "check_int",
    "check_widths",
]

MAX_WIDTH = 16_384
"""Widest hidden layer: a 16,384 x 16,384 layer is 268M weights, 1 GiB of float32 (5 GiB with
its gradient, Adam's two moments and the EMA copy)."""
MAX_LAYERS = 64
"""Most hidden layers of one MLP; deeper plain MLPs do not train without residual links."""
MAX_WEIGHTS = 2**30
"""Most weights between the hidden layers of a config's MLPs together: 4 GiB of float32,
20 GiB with gradients, Adam's two moments and the EMA copy, which still fits in 24 GiB."""
MAX_CHANNELS = 4_096
"""Most channels of a conv layer: a 3x3 conv from 4,096 to 4,096 channels is 151M weights
(0.6 GiB of float32, 3 GiB with gradients, Adam's moments and the EMA)."""
MAX_CONV_LEVELS = 8
"""Most stride-2 conv levels: each halves H and W, so 8 reduce a 256 x 256 image to 1 x 1."""
MAX_LATENT = 4_096
"""Largest latent (code, noise) dimension: far above the 64 pixels of a digit, and a
covariance over it (the autoencoder's) is still only 64 MiB."""
MAX_STEPS = 10**9
"""Most training steps: over 11 days even at 1,000 steps/s."""
MAX_BATCH = 1_000_000
"""Largest minibatch: a million examples through a 256-wide MLP keep 1 GiB of activations per
layer for the backward pass."""
MAX_SEED = 2**32 - 1
"""Largest seed: unsigned 32-bit, as everywhere in the project (NumPy's legacy seeding and
Gymnasium take no more; torch would take 64 bits)."""


def _show(value: object) -> str:
    """`value` for a one-line message: strings quoted, long tuples abbreviated."""
    if isinstance(value, str | tuple | list):
        return reprlib.repr(value)
    return str(value)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: object, low: int, high: int) -> None:
    """Raise a one-line ValueError unless `value` is an integer from `low` to `high`."""
    if not (_is_int(value) and low <= value <= high):
        raise ValueError(f"{name}={_show(value)}; must be an integer from {low:,} to {high:,}")


def check_float(
    name: str,
    value: object,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> None:
    """Raise a one-line ValueError unless `value` is a finite number in the interval from
    `low` to `high` (each end included unless `open_low` / `open_high`)."""
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (low < value if open_low else low <= value)
        and (value < high if open_high else value <= high)
    )
    if ok:
        return
    if math.isinf(low) and math.isinf(high):
        allowed = "a finite number"
    elif math.isinf(high):
        allowed = f"a finite number {'>' if open_low else '>='} {low:g}"
    elif math.isinf(low):
        allowed = f"a finite number {'<' if open_high else '<='} {high:g}"
    else:
        left, right = "(" if open_low else "[", ")" if open_high else "]"
        allowed = f"a number in {left}{low:g}, {high:g}{right}"
    raise ValueError(f"{name}={_show(value)}; must be {allowed}")


def check_widths(
    name: str,
    widths: tuple[int, ...],
    high: int = MAX_WIDTH,
    *,
    min_len: int = 1,
    max_len: int = MAX_LAYERS,
    copies: int = 1,
) -> None:
    """Raise a one-line ValueError unless `widths` holds `min_len` to `max_len` integers, each
    from 1 to `high`, and the MLPs built from them, `copies` of them (0 for conv channels),
    have at most `MAX_WEIGHTS` weights between hidden layers."""
    if not min_len <= len(widths) <= max_len:
        raise ValueError(f"{name}={_show(widths)}; need {min_len} to {max_len} widths")
    if not all(_is_int(w) and 1 <= w <= high for w in widths):
        raise ValueError(f"{name}={_show(widths)}; each width must be from 1 to {high:,}")
    weights = copies * sum(a * b for a, b in pairwise(widths))
    if weights > MAX_WEIGHTS:
        raise ValueError(
            f"{name}={_show(widths)}; {weights:,} weights between hidden layers in {copies} "
            f"network(s), at most {MAX_WEIGHTS:,} (20 GiB to train)"
        )
