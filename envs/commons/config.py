"""The typed, validated configuration of Commons Harvest."""

from __future__ import annotations

from dataclasses import dataclass

from envs.commons.maps import ALLOWED_CHARS, HARVEST_MAP, SPAWN
from envs.grid import valid_map


@dataclass(frozen=True)
class CommonsConfig:
    """Commons Harvest settings; defaults follow Perolat et al. 2017 and the ssd `harvest.py`."""

    num_agents: int = 5
    """Players in every copy (ssd default map has 5+ spawn points; Perolat 2017 used 10)."""
    map: tuple[str, ...] = HARVEST_MAP
    """ASCII rows: '@' wall, 'A' apple cell, 'P' spawn point, ' ' floor; closed by walls."""
    max_steps: int = 1000
    """Episode length; every copy is truncated at this step (ssd / Perolat 2017: 1000)."""
    view_radius: int = 7
    """Egocentric window is (2r+1) x (2r+1) cells (ssd HARVEST_VIEW_SIZE = 7)."""
    regrowth_probs: tuple[float, float, float, float] = (0.0, 0.005, 0.02, 0.05)
    """Regrowth probability per step of an empty apple cell with 0, 1, 2, >=3 apples in its
    3 x 3 neighbourhood (ssd SPAWN_PROB with APPLE_RADIUS 2, i.e. j^2 + k^2 <= 2)."""
    regrowth_scale: float = 1.0
    """Multiplier on every regrowth probability (result clipped to 1); < 1 makes apples scarce."""
    beam_length: int = 5
    """Cells the tagging beam reaches ahead of the shooter (ssd ACTIONS['FIRE'] = 5)."""
    beam_width: int = 3
    """Parallel beam lanes centred on the shooter's column (odd; ssd fires 3 lanes)."""
    tag_timeout: int = 25
    """Steps a tagged player is out of the game before respawning (Perolat et al. 2017)."""
    beam_cost: float = 0.0
    """Reward subtracted from a player for firing (0 in Perolat 2017; ssd uses 1)."""
    tag_penalty: float = 0.0
    """Reward subtracted from a player when tagged (0 in Perolat 2017; ssd uses 50)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "map", valid_map("commons", self.map, ALLOWED_CHARS))
        spawns = sum(row.count(SPAWN) for row in self.map)
        if not isinstance(self.num_agents, int) or not 1 <= self.num_agents <= spawns:
            raise ValueError(
                f"commons: num_agents={self.num_agents}; allowed 1..{spawns} (spawn points)"
            )
        for name in ("max_steps", "view_radius", "beam_length", "tag_timeout"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"commons: {name}={value!r}; must be an integer >= 1")
        if not isinstance(self.beam_width, int) or self.beam_width < 1 or self.beam_width % 2 == 0:
            raise ValueError(
                f"commons: beam_width={self.beam_width!r}; must be an odd integer >= 1"
            )
        probs = tuple(self.regrowth_probs) if isinstance(self.regrowth_probs, list | tuple) else ()
        if len(probs) != 4 or not all(isinstance(p, int | float) and 0 <= p <= 1 for p in probs):
            raise ValueError(
                f"commons: regrowth_probs={self.regrowth_probs!r}; need 4 probabilities in [0, 1]"
            )
        object.__setattr__(self, "regrowth_probs", tuple(float(p) for p in probs))
        if not isinstance(self.regrowth_scale, int | float) or not self.regrowth_scale >= 0.0:
            raise ValueError(f"commons: regrowth_scale={self.regrowth_scale!r}; must be >= 0")
        for name in ("beam_cost", "tag_penalty"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value >= 0.0:
                raise ValueError(f"commons: {name}={value!r}; must be a number >= 0")

    @property
    def view_size(self) -> int:
        """Side V = 2 * view_radius + 1 of the egocentric window."""
        return 2 * self.view_radius + 1
