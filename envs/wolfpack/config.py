"""The typed, validated configuration of Wolfpack."""

from __future__ import annotations

from dataclasses import dataclass

from envs.checks import MAX_AGENTS, MAX_STEPS, check_int, check_number, check_reward
from envs.grid import MAX_MAP_SIDE, MAX_VIEW_RADIUS, valid_map

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

MAX_CAPTURE_RADIUS = 2.0 * MAX_MAP_SIDE  # beyond the largest map's diagonal, 256 * sqrt(2)


@dataclass(frozen=True)
class WolfpackConfig:
    """Wolfpack settings. Reward structure from Leibo et al. 2017; numbers are our defaults
    (the paper sweeps the capture radius and the team reward)."""

    num_wolves: int = 2
    """Wolves (the learning agents) in every copy; Leibo et al. 2017 use 2. At most the free
    cells minus one (for the prey) and `checks.MAX_AGENTS` = 64 (moves are resolved pairwise)."""
    map: tuple[str, ...] = WOLFPACK_MAP
    """ASCII rows: '@' wall or obstacle, ' ' floor; closed by walls on the border; 3 to
    `grid.MAX_MAP_SIDE` = 256 cells a side (the state holds (H, W) layers per copy)."""
    max_steps: int = 500
    """Episode length; every copy is truncated at this step; at most `checks.MAX_STEPS` =
    100,000 (a rollout keeps the whole episode)."""
    view_radius: int = 5
    """Egocentric window is (2r+1) x (2r+1) cells; r at most `grid.MAX_VIEW_RADIUS` = 32 (an
    observation is (2r+1)^2 cells per agent)."""
    capture_radius: float = 3.0
    """A capture rewards every wolf within this Euclidean distance (in cells) of the prey;
    >= 1, so the wolf that touches the prey always counts, and at most MAX_CAPTURE_RADIUS =
    512, beyond the diagonal of the largest map (every wolf counts there)."""
    r_lone: float = 1.0
    """Reward of a wolf that captures the prey with no other wolf within the radius; finite,
    at most `checks.MAX_REWARD` = 1e6 in magnitude (rewards are float32)."""
    r_team: float = 3.0
    """Reward of each wolf in a two-wolf capture; with n >= 2 wolves in the radius each gets
    r_team * n / 2 (proportional to n, as in the paper); at most 1e6 in magnitude."""
    prey_flee_prob: float = 0.5
    """Each step the prey flees the nearest wolf with this probability, else it takes a
    uniformly random move (0: a random walk); in [0, 1]."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "map", valid_map("wolfpack", self.map, WALL + FLOOR))
        free = sum(row.count(FLOOR) for row in self.map)
        check_int(
            "wolfpack",
            "num_wolves",
            self.num_wolves,
            1,
            min(free - 1, MAX_AGENTS),
            f"free cells minus one for the prey, at most {MAX_AGENTS}",
        )
        check_int("wolfpack", "max_steps", self.max_steps, 1, MAX_STEPS, "episode length")
        check_int(
            "wolfpack",
            "view_radius",
            self.view_radius,
            1,
            MAX_VIEW_RADIUS,
            "an observation is (2r+1)^2 cells per agent",
        )
        check_number("wolfpack", "capture_radius", self.capture_radius, 1.0, MAX_CAPTURE_RADIUS)
        check_reward("wolfpack", "r_lone", self.r_lone)
        check_reward("wolfpack", "r_team", self.r_team)
        check_number("wolfpack", "prey_flee_prob", self.prey_flee_prob, 0.0, 1.0)

    @property
    def num_agents(self) -> int:
        """The learning agents: the wolves."""
        return self.num_wolves

    @property
    def view_size(self) -> int:
        """Side V = 2 * view_radius + 1 of the egocentric window."""
        return 2 * self.view_radius + 1
