"""Batched multi-agent environments and their adapters (PettingZoo, SB3 VecEnv).

`make(name, **kwargs)` is the one way in: it builds the named world's typed config from the
keyword arguments (unknown or invalid ones are a one-line `ValueError`) and returns a
`BatchedEnv`.
"""

from __future__ import annotations

from collections.abc import Callable

from envs import cleanup, commons, signalling, spread, wolfpack
from envs.core import BatchedEnv, StepResult

ENVS: dict[str, Callable[..., BatchedEnv]] = {
    "commons": commons.make,
    "cleanup": cleanup.make,
    "spread": spread.make,
    "signalling": signalling.make,
    "wolfpack": wolfpack.make,
}

CONFIGS: dict[str, type] = {
    "commons": commons.CommonsConfig,
    "cleanup": cleanup.CleanupConfig,
    "spread": spread.SpreadConfig,
    "signalling": signalling.SignallingConfig,
    "wolfpack": wolfpack.WolfpackConfig,
}


def make(name: str, batch_size: int = 1, seed: int | None = None, **kwargs: object) -> BatchedEnv:
    """Build environment `name` with B = `batch_size` copies.

    Raises:
        KeyError: unknown name (the message lists the known ones).
        ValueError: an unknown or invalid keyword argument.
    """
    if name not in ENVS:
        raise KeyError(f"unknown environment {name!r}; known: {', '.join(sorted(ENVS))}")
    return ENVS[name](batch_size=batch_size, seed=seed, **kwargs)


__all__ = ["BatchedEnv", "CONFIGS", "ENVS", "StepResult", "make"]
