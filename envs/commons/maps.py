"""Commons Harvest maps as data, and their parsing into arrays.

Characters: '@' wall, 'A' apple cell (starts with an apple; the only cells where apples ever
regrow), 'P' spawn point, ' ' empty floor.

`HARVEST_MAP` is the 16 x 38 map of the sequential-social-dilemma games (Vinitsky et al.,
github.com/eugenevinitsky/sequential_social_dilemma_games, `social_dilemmas/maps.py`), itself a
re-creation of the Commons Harvest map of Perolat et al. 2017 and Leibo et al. 2017.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

WALL, APPLE, SPAWN, EMPTY = "@", "A", "P", " "
ALLOWED_CHARS = WALL + APPLE + SPAWN + EMPTY  # in the order of the legend above

HARVEST_MAP: tuple[str, ...] = (
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
    "@ P   P      A    P AAAAA    P  A P  @",
    "@  P     A P AA    P    AAA    A  A  @",
    "@     A AAA  AAA    A    A AA AAAA   @",
    "@ A  AAA A    A  A AAA  A  A   A A   @",
    "@AAA  A A    A  AAA A  AAA        A P@",
    "@ A A  AAA  AAA  A A    A AA   AA AA @",
    "@  A A  AAA    A A  AAA    AAA  A    @",
    "@   AAA  A      AAA  A    AAAA       @",
    "@ P  A       A  A AAA    A  A      P @",
    "@A  AAA  A  A  AAA A    AAAA     P   @",
    "@    A A   AAA  A A      A AA   A  P @",
    "@     AAA   A A  AAA      AA   AAA P @",
    "@ A    A     AAA  A  P          A    @",
    "@       P     A         P  P P     P @",
    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
)


@dataclass(frozen=True)
class Layout:
    """The static part of a map, as arrays.

    Attributes:
        walls: (H, W) bool.
        apple_cells: (H, W) bool, where apples start and may regrow.
        spawns: (S, 2) int32 (row, col) of the spawn points, in reading order.
    """

    walls: np.ndarray
    apple_cells: np.ndarray
    spawns: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.walls.shape


@lru_cache(maxsize=16)
def parse(ascii_map: tuple[str, ...]) -> Layout:
    """Turn a validated ASCII map into a `Layout` (cached; the arrays are read-only)."""
    chars = np.array([list(row) for row in ascii_map])  # (H, W) str
    walls, apples = chars == WALL, chars == APPLE
    spawns = np.argwhere(chars == SPAWN).astype(np.int32)  # (S, 2)
    for a in (walls, apples, spawns):
        a.flags.writeable = False
    return Layout(walls=walls, apple_cells=apples, spawns=spawns)
