"""Held-out attribute combinations of the Signalling game: which objects train and which test.

Chaabouni et al. 2020 ("Compositionality and generalization in emergent languages", ACL) test
whether a code generalises by holding out combinations of attribute values from training while
every single value still occurs in training. Here a random cover of n_values objects (object v
has value perm_i[v] for attribute i, one permutation per attribute) always trains, so every
value of every attribute is seen; the held-out objects are the first `held_out` of a
permutation of the other objects. Both are drawn with `split_seed`, so a config fixes its split
(the training and the test copies of the world agree).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from envs.signalling.config import SignallingConfig


def attributes(cfg: SignallingConfig, objects: np.ndarray) -> np.ndarray:
    """Attribute values (..., n_attributes) of object indices (...): object o has value
    (o // n_values**i) % n_values for attribute i."""
    radix = cfg.n_values ** np.arange(cfg.n_attributes, dtype=np.int64)  # (n_attributes,)
    return (np.asarray(objects)[..., None] // radix) % cfg.n_values


def max_held_out(n_values: int, n_attributes: int, num_candidates: int) -> int:
    """Most objects a split can hold out: all but max(K, n_values) (the training cover and
    K candidates for a training game)."""
    return n_values**n_attributes - max(num_candidates, n_values)


@lru_cache(maxsize=64)
def held_out_objects(cfg: SignallingConfig) -> np.ndarray:
    """The config's held-out objects, sorted (empty with held_out = 0). Read-only."""
    out = np.zeros(0, dtype=np.int64)
    if cfg.held_out > 0:
        rng = np.random.default_rng(cfg.split_seed)
        perms = np.stack([rng.permutation(cfg.n_values) for _ in range(cfg.n_attributes)], 1)
        radix = cfg.n_values ** np.arange(cfg.n_attributes, dtype=np.int64)
        cover = perms @ radix  # (n_values,) distinct objects covering every value
        rest = np.setdiff1d(np.arange(cfg.n_objects, dtype=np.int64), cover)
        out = np.sort(rng.permutation(rest)[: cfg.held_out])
    out.flags.writeable = False
    return out


@lru_cache(maxsize=64)
def split_objects(cfg: SignallingConfig) -> np.ndarray | None:
    """Object indices the candidates are drawn from under `cfg.split` (read-only), or None for
    every object (no split, or split "all"): they are then drawn without listing them."""
    if cfg.held_out == 0 or cfg.split == "all":
        return None
    held = held_out_objects(cfg)
    if cfg.split == "held_out":
        return held
    keep = np.ones(cfg.n_objects, dtype=bool)
    keep[held] = False
    out = np.flatnonzero(keep).astype(np.int64)
    out.flags.writeable = False
    return out
