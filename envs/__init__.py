"""Batched multi-agent environments and their adapters (PettingZoo, SB3 VecEnv, RLlib).

`WORLDS` is the one registry: name -> `World(rules, config, doc)`. `make(name, **kwargs)` is the one
way in: it builds the named world's typed config from the keyword arguments (unknown or invalid
ones are a one-line `ValueError`) and returns a `BatchedEnv`. Adding a world is its own package
(`envs/<name>/`: rules, config, render, and its `RULES` in its `__init__`) plus one entry below.
"""

from __future__ import annotations

from envs import cleanup, commons, reference, signalling, speaker_listener, spread, wolfpack
from envs.core import BatchedEnv, StepResult, World

WORLDS: dict[str, World] = {
    "commons": World(
        commons.RULES,
        commons.CommonsConfig,
        "Commons Harvest: a common-pool resource dilemma on a grid (`commons`, version 1).",
    ),
    "cleanup": World(
        cleanup.RULES,
        cleanup.CleanupConfig,
        "Cleanup: a public-goods dilemma on a grid (`cleanup`, version 1).",
    ),
    "spread": World(
        spread.RULES,
        spread.SpreadConfig,
        "Spread: cooperative navigation (`spread`, version 1), equal to `mpe2.simple_spread_v3`.",
        spread.SpreadEnv,
    ),
    "signalling": World(
        signalling.RULES,
        signalling.SignallingConfig,
        "Signalling: the Lewis referential game (`signalling`, version 1).",
    ),
    "wolfpack": World(
        wolfpack.RULES,
        wolfpack.WolfpackConfig,
        "Wolfpack: team versus lone hunting on a grid (`wolfpack`, version 1).",
    ),
    "speaker_listener": World(
        speaker_listener.RULES,
        speaker_listener.SpeakerListenerConfig,
        "Speaker-listener: cooperative communication (`speaker_listener`, version 1), as MPE2's.",
    ),
    "reference": World(
        reference.RULES,
        reference.ReferenceConfig,
        "Reference: two agents guide each other to landmarks (`reference`, version 1), as MPE2's.",
    ),
}


def make(name: str, batch_size: int = 1, seed: int | None = None, **kwargs: object) -> BatchedEnv:
    """Build environment `name` with B = `batch_size` copies.

    Raises:
        KeyError: unknown name (the message lists the known ones).
        ValueError: an unknown or invalid keyword argument, or a batch_size out of bounds
            (`envs.core.check_batch_size`: at most 1,000,000 copies and 8 GiB of state and
            observations).
    """
    if name not in WORLDS:
        raise KeyError(f"unknown environment {name!r}; known: {', '.join(sorted(WORLDS))}")
    return WORLDS[name].make(batch_size=batch_size, seed=seed, **kwargs)


__all__ = ["WORLDS", "BatchedEnv", "StepResult", "World", "make"]
