"""Cleanup maps as data, and their parsing into arrays.

Characters: '@' wall, 'H' river cell that starts with waste, 'R' river cell that starts
clean, 'S' stream (looks like river, never holds waste), 'B' apple cell that starts empty,
'A' apple cell that starts with an apple, 'P' spawn point, ' ' empty floor. Agents walk on
every cell but walls. River cells ('H' and 'R') are where waste may lie; apple cells are the
only cells where apples grow.

`CLEANUP_MAP` is the 25 x 18 map of the sequential-social-dilemma games (Vinitsky et al.,
github.com/eugenevinitsky/sequential_social_dilemma_games, `social_dilemmas/maps.py`), a
re-creation of the Cleanup map of Hughes et al. 2018: the river on the left, the orchard on
the right. It starts with 70 of its 119 river cells polluted (density 0.59, above the
depletion threshold), so nothing grows until the agents clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from envs.commons.maps import Layout

WALL, WASTE, RIVER, STREAM, APPLE_CELL, APPLE, SPAWN, EMPTY = "@", "H", "R", "S", "B", "A", "P", " "
ALLOWED_CHARS = WALL + WASTE + RIVER + STREAM + APPLE_CELL + APPLE + SPAWN + EMPTY  # legend order

CLEANUP_MAP: tuple[str, ...] = (
    "@@@@@@@@@@@@@@@@@@",
    "@HHHHHH     BBBBB@",
    "@RRRRRR      BBBB@",
    "@HHHHHH     BBBBB@",
    "@RRRRR  P    BBBB@",
    "@HHHHH    P BBBBB@",
    "@RRRRR       BBBB@",
    "@HHHHH      BBBBB@",
    "@SSSSSSHHHHHHBBBB@",
    "@SSSSSSHHHHHHBBBB@",
    "@HHHHH   P P BBBB@",
    "@RRRRR   P  BBBBB@",
    "@HHHHHH    P BBBB@",
    "@RRRRRR P   BBBBB@",
    "@HHHHH       BBBB@",
    "@RRRR    P  BBBBB@",
    "@HHHHH       BBBB@",
    "@RRRRR  P P BBBBB@",
    "@HHHHH       BBBB@",
    "@RRRR       BBBBB@",
    "@HHHHH       BBBB@",
    "@RRRRR      BBBBB@",
    "@HHHHH       BBBB@",
    "@RRRR       BBBBB@",
    "@@@@@@@@@@@@@@@@@@",
)


@dataclass(frozen=True)
class CleanupLayout(Layout):
    """The static part of a Cleanup map, as arrays (a Commons `Layout` plus the water).

    Attributes:
        walls: (H, W) bool.
        apple_cells: (H, W) bool, where apples may grow ('A' and 'B').
        spawns: (S, 2) int32 (row, col) of the spawn points, in reading order.
        river: (H, W) bool, where waste may lie ('H' and 'R').
        stream: (H, W) bool, water that never holds waste ('S').
        waste_start: (H, W) bool, waste at reset ('H').
        apple_start: (H, W) bool, apples at reset ('A').
    """

    river: np.ndarray
    stream: np.ndarray
    waste_start: np.ndarray
    apple_start: np.ndarray


@lru_cache(maxsize=16)
def parse(ascii_map: tuple[str, ...]) -> CleanupLayout:
    """Turn a validated ASCII map into a `CleanupLayout` (cached; the arrays are read-only)."""
    chars = np.array([list(row) for row in ascii_map])  # (H, W) str
    layout = CleanupLayout(
        walls=chars == WALL,
        apple_cells=(chars == APPLE) | (chars == APPLE_CELL),
        spawns=np.argwhere(chars == SPAWN).astype(np.int32),  # (S, 2)
        river=(chars == WASTE) | (chars == RIVER),
        stream=chars == STREAM,
        waste_start=chars == WASTE,
        apple_start=chars == APPLE,
    )
    for name in ("walls", "apple_cells", "spawns", "river", "stream", "waste_start", "apple_start"):
        getattr(layout, name).flags.writeable = False
    return layout
