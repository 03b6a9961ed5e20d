"""Checks shared by the world configs: one-line `ValueError`s for integers and numbers out of
range, and the bounds every world shares.

Every size and count in a config has an upper bound, so that a mistyped setting is a one-line
message naming it rather than a NumPy traceback, an exhausted memory or an endless episode.
Bools are not numbers here: `True` for a count or a reward is a mistake in a YAML file.
"""

from __future__ import annotations

import math

MAX_AGENTS = 64
"""Agents in one copy of any world. Grid worlds resolve moves pairwise ((A, A) per copy, up to
A passes), Spread computes pairwise contact forces, and every agent gets its own observation;
64 is six times the largest published setting the worlds follow (Perolat et al. 2017: 10)."""

MAX_STEPS = 100_000
"""Steps in one episode (and steps a tagged player may sit out). A rollout keeps the whole
episode ((B, T, A) rewards and events); 100 times the papers' 1000 steps."""

MAX_REWARD = 1e6
"""Largest magnitude of a reward setting. Rewards are float32 (B, A) arrays, summed over up to
MAX_STEPS steps; the shipped values are at most 50 (ssd's tag penalty)."""


def check_int(world: str, name: str, value: object, low: int, high: int, why: str = "") -> None:
    """Raise a one-line ValueError unless `value` is an int (not a bool) in [low, high].

    Args:
        world: the world's name, the prefix of the message.
        name: the setting.
        value: what it was given.
        low, high: the allowed range, both included.
        why: the reason for the range, shown in brackets.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        reason = f" ({why})" if why else ""
        raise ValueError(
            f"{world}: {name}={value!r}; must be an integer from {low} to {high}{reason}"
        )


def check_number(
    world: str, name: str, value: object, low: float = -math.inf, high: float = math.inf
) -> None:
    """Raise a one-line ValueError unless `value` is a finite int or float (not a bool, nan or
    inf) in [low, high]; the message names the setting and the range."""
    if not is_finite_number(value) or not low <= value <= high:
        raise ValueError(f"{world}: {name}={value!r}; must be a finite number{_span(low, high)}")


def check_reward(world: str, name: str, value: object, low: float = -MAX_REWARD) -> None:
    """`check_number` for a reward setting: finite, in [low, MAX_REWARD] (see MAX_REWARD)."""
    check_number(world, name, value, low, MAX_REWARD)


def is_finite_number(value: object) -> bool:
    """True for an int or a finite float; False for bools, nan, inf and anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _span(low: float, high: float) -> str:
    """' in [low, high]', ' >= low', ' <= high' or '' for infinite ends, numbers as `g`."""
    if math.isinf(low) and math.isinf(high):
        return ""
    if math.isinf(high):
        return f" >= {low:g}"
    if math.isinf(low):
        return f" <= {high:g}"
    return f" in [{low:g}, {high:g}]"
