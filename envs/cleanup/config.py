"""The typed, validated configuration of Cleanup."""

from __future__ import annotations

from dataclasses import dataclass

from envs.cleanup.maps import ALLOWED_CHARS, CLEANUP_MAP, SPAWN
from envs.grid import valid_map


@dataclass(frozen=True)
class CleanupConfig:
    """Cleanup settings; defaults follow the ssd `cleanup.py` and Hughes et al. 2018."""

    num_agents: int = 5
    """Players in every copy (Hughes et al. 2018 used 5; the default map has 10 spawn points)."""
    map: tuple[str, ...] = CLEANUP_MAP
    """ASCII rows: '@' wall, 'H'/'R' river with/without waste at reset, 'S' stream, 'B'/'A'
    apple cell without/with an apple at reset, 'P' spawn point, ' ' floor; closed by walls."""
    max_steps: int = 1000
    """Episode length; every copy is truncated at this step (ssd / Hughes 2018: 1000)."""
    view_radius: int = 7
    """Egocentric window is (2r+1) x (2r+1) cells (ssd CLEANUP_VIEW_SIZE = 7)."""
    apple_respawn_probability: float = 0.05
    """Per-step growth probability of an empty apple cell while the river is clean, i.e. at
    waste density <= threshold_restoration (ssd appleRespawnProbability)."""
    waste_spawn_probability: float = 0.5
    """Each clean river cell, taken in random order, would receive waste with this
    probability; the first success gets it, so at most one cell per step and
    P(one) = 1 - (1 - p)^n_clean (ssd wasteSpawnProbability)."""
    threshold_depletion: float = 0.4
    """Waste density (polluted / river cells) at and above which neither apples nor waste
    spawn (ssd thresholdDepletion)."""
    threshold_restoration: float = 0.0
    """Waste density at and below which apples grow at the full rate; between the two
    thresholds the rate falls linearly to 0 (ssd thresholdRestoration)."""
    beam_length: int = 5
    """Cells the tagging (penalty) beam reaches ahead of the shooter (ssd FIRE = 5)."""
    beam_width: int = 3
    """Parallel lanes of the tagging beam centred on the shooter's column (odd; ssd: 3)."""
    clean_beam_length: int = 5
    """Cells the cleaning beam reaches ahead of the shooter (ssd CLEAN = 5)."""
    clean_beam_width: int = 3
    """Parallel lanes of the cleaning beam (odd; ssd: 3)."""
    clean_through_waste: bool = False
    """False (ssd): a lane of the cleaning beam stops at the first waste cell it cleans.
    True: it cleans every waste cell in its reach."""
    tag_timeout: int = 25
    """Steps a tagged player is off the map before respawning (Perolat et al. 2017, as in
    Commons); 0 keeps tagged players on the map (ssd / Hughes 2018 only fine them)."""
    beam_cost: float = 0.0
    """Reward subtracted from a player for firing the tagging beam (ssd / Hughes 2018: 1)."""
    tag_penalty: float = 0.0
    """Reward subtracted from a tagged player (ssd / Hughes 2018: 50). Both default to 0, as in
    Commons, so returns stay non-negative and the equality metric keeps its meaning."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "map", valid_map("cleanup", self.map, ALLOWED_CHARS))
        spawns = sum(row.count(SPAWN) for row in self.map)
        if not isinstance(self.num_agents, int) or not 1 <= self.num_agents <= spawns:
            raise ValueError(
                f"cleanup: num_agents={self.num_agents!r}; allowed 1..{spawns} (spawn points)"
            )
        for name in ("max_steps", "view_radius", "beam_length", "clean_beam_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"cleanup: {name}={value!r}; must be an integer >= 1")
        for name in ("beam_width", "clean_beam_width"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1 or value % 2 == 0:
                raise ValueError(f"cleanup: {name}={value!r}; must be an odd integer >= 1")
        if not isinstance(self.tag_timeout, int) or self.tag_timeout < 0:
            raise ValueError(f"cleanup: tag_timeout={self.tag_timeout!r}; must be an integer >= 0")
        for name in (
            "apple_respawn_probability",
            "waste_spawn_probability",
            "threshold_depletion",
            "threshold_restoration",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"cleanup: {name}={value!r}; must be a number in [0, 1]")
        if not self.threshold_restoration < self.threshold_depletion:
            raise ValueError(
                f"cleanup: threshold_restoration={self.threshold_restoration} must be below "
                f"threshold_depletion={self.threshold_depletion}"
            )
        for name in ("beam_cost", "tag_penalty"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value >= 0.0:
                raise ValueError(f"cleanup: {name}={value!r}; must be a number >= 0")
        if not isinstance(self.clean_through_waste, bool):
            raise ValueError(
                f"cleanup: clean_through_waste={self.clean_through_waste!r}; must be true or false"
            )

    @property
    def view_size(self) -> int:
        """Side V = 2 * view_radius + 1 of the egocentric window."""
        return 2 * self.view_radius + 1
