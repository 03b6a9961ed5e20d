"""The typed, validated configuration of Wolfpack."""

from __future__ import annotations

import math
from dataclasses import dataclass

from envs.grid import valid_map

WALL, FLOOR = "@", " "

WOLFPACK_MAP: tuple[str, ...] = (
    "@@@@@@@@@@@@@@@",
    "@             @",
    "@             @",
    "@   @@   @@   @",
    "@   @     @   @",
    "@             @",
    "@      @      @",
    "@     @@@     @",
    "@      @      @",
    "@             @",
    "@   @     @   @",
    "@   @@   @@   @",
    "@             @",
    "@             @",
    "@@@@@@@@@@@@@@@",
)  # 15 x 15: an open arena with four corner blocks and a central cross (our layout)


@dataclass(frozen=True)
class WolfpackConfig:
    """Wolfpack settings. Reward structure from Leibo et al. 2017; numbers are our defaults
    (the paper sweeps the capture radius and the team reward)."""

    num_wolves: int = 2
    """Wolves (the learning agents) in every copy; Leibo et al. 2017 use 2."""
    map: tuple[str, ...] = WOLFPACK_MAP
    """ASCII rows: '@' wall or obstacle, ' ' floor; closed by walls on the border."""
    max_steps: int = 500
    """Episode length; every copy is truncated at this step."""
    view_radius: int = 5
    """Egocentric window is (2r+1) x (2r+1) cells."""
    capture_radius: float = 3.0
    """A capture rewards every wolf within this Euclidean distance (in cells) of the prey;
    >= 1, so the wolf that touches the prey always counts."""
    r_lone: float = 1.0
    """Reward of a wolf that captures the prey with no other wolf within the radius."""
    r_team: float = 3.0
    """Reward of each wolf in a two-wolf capture; with n >= 2 wolves in the radius each gets
    r_team * n / 2 (proportional to n, as in the paper)."""
    prey_flee_prob: float = 0.5
    """Each step the prey flees the nearest wolf with this probability, else it takes a
    uniformly random move (0: a random walk)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "map", valid_map("wolfpack", self.map, WALL + FLOOR))
        free = sum(row.count(FLOOR) for row in self.map)
        if not isinstance(self.num_wolves, int) or not 1 <= self.num_wolves < free:
            raise ValueError(
                f"wolfpack: num_wolves={self.num_wolves!r}; allowed 1..{free - 1} (free cells "
                "minus one for the prey)"
            )
        for name in ("max_steps", "view_radius"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"wolfpack: {name}={value!r}; must be an integer >= 1")
        radius = self.capture_radius
        if not isinstance(radius, int | float) or not 1.0 <= radius < math.inf:
            raise ValueError(f"wolfpack: capture_radius={radius!r}; must be a number >= 1")
        for name in ("r_lone", "r_team"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"wolfpack: {name}={value!r}; must be a finite number")
        p = self.prey_flee_prob
        if not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise ValueError(f"wolfpack: prey_flee_prob={p!r}; must be a probability in [0, 1]")

    @property
    def num_agents(self) -> int:
        """The learning agents: the wolves."""
        return self.num_wolves

    @property
    def view_size(self) -> int:
        """Side V = 2 * view_radius + 1 of the egocentric window."""
        return 2 * self.view_radius + 1
