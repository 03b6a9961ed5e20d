"""The typed, validated configuration of Cleanup."""

from __future__ import annotations

from dataclasses import dataclass

from envs.checks import MAX_AGENTS, MAX_STEPS, check_int, check_number, check_reward
from envs.cleanup.maps import ALLOWED_CHARS, CLEANUP_MAP, SPAWN
from envs.grid import MAX_VIEW_RADIUS, check_beam, check_talk, valid_map


@dataclass(frozen=True)
class CleanupConfig:
    """Cleanup settings; defaults follow the ssd `cleanup.py` and Hughes et al. 2018."""

    num_agents: int = 5
    """Players in every copy (Hughes et al. 2018 used 5; the default map has 10 spawn points):
    at most the map's spawn points and `checks.MAX_AGENTS` = 64 (moves are resolved pairwise)."""
    map: tuple[str, ...] = CLEANUP_MAP
    """ASCII rows: '@' wall, 'H'/'R' river with/without waste at reset, 'S' stream, 'B'/'A'
    apple cell without/with an apple at reset, 'P' spawn point, ' ' floor; closed by walls;
    3 to `grid.MAX_MAP_SIDE` = 256 cells a side (the state holds (H, W) layers per copy)."""
    max_steps: int = 1000
    """Episode length; every copy is truncated at this step (ssd / Hughes 2018: 1000); at most
    `checks.MAX_STEPS` = 100,000 (a rollout keeps the whole episode)."""
    view_radius: int = 7
    """Egocentric window is (2r+1) x (2r+1) cells (ssd CLEANUP_VIEW_SIZE = 7); r at most
    `grid.MAX_VIEW_RADIUS` = 32 (an observation is (2r+1)^2 cells per agent)."""
    apple_respawn_probability: float = 0.05
    """Per-step growth probability of an empty apple cell while the river is clean, i.e. at
    waste density <= threshold_restoration (ssd appleRespawnProbability); in [0, 1]."""
    waste_spawn_probability: float = 0.5
    """Each clean river cell, taken in random order, would receive waste with this
    probability; the first success gets it, so at most one cell per step and
    P(one) = 1 - (1 - p)^n_clean (ssd wasteSpawnProbability); in [0, 1]."""
    threshold_depletion: float = 0.4
    """Waste density (polluted / river cells) at and above which neither apples nor waste
    spawn (ssd thresholdDepletion); in [0, 1]."""
    threshold_restoration: float = 0.0
    """Waste density at and below which apples grow at the full rate; between the two
    thresholds the rate falls linearly to 0 (ssd thresholdRestoration); in [0, 1] and below
    threshold_depletion."""
    beam_length: int = 5
    """Cells the tagging (penalty) beam reaches ahead of the shooter (ssd FIRE = 5); at most
    `grid.MAX_BEAM_LENGTH` = 64 (a shot covers width x length cells)."""
    beam_width: int = 3
    """Parallel lanes of the tagging beam centred on the shooter's column (odd; ssd: 3); at
    most `grid.MAX_BEAM_WIDTH` = 63."""
    clean_beam_length: int = 5
    """Cells the cleaning beam reaches ahead of the shooter (ssd CLEAN = 5); at most
    `grid.MAX_BEAM_LENGTH` = 64."""
    clean_beam_width: int = 3
    """Parallel lanes of the cleaning beam (odd; ssd: 3); at most `grid.MAX_BEAM_WIDTH` = 63."""
    clean_through_waste: bool = False
    """False (ssd): a lane of the cleaning beam stops at the first waste cell it cleans.
    True: it cleans every waste cell in its reach."""
    tag_timeout: int = 25
    """Steps a tagged player is off the map before respawning (Perolat et al. 2017, as in
    Commons); 0 keeps tagged players on the map (ssd / Hughes 2018 only fine them); at most
    `checks.MAX_STEPS` = 100,000 (longer than any episode is never coming back)."""
    beam_cost: float = 0.0
    """Reward subtracted from a player for firing the tagging beam (ssd / Hughes 2018: 1); in
    [0, `checks.MAX_REWARD` = 1e6] (rewards are float32)."""
    tag_penalty: float = 0.0
    """Reward subtracted from a tagged player (ssd / Hughes 2018: 50). Both default to 0, as in
    Commons, so returns stay non-negative and the equality metric keeps its meaning; in
    [0, `checks.MAX_REWARD` = 1e6]."""
    talk_vocab: int = 0
    """Cheap talk: V tokens an agent may say each step, heard by every agent that has it in
    view (V extra observation channels; actions become move + n_moves * token, see
    `envs.cleanup`). 0 (default): no channel, the world exactly as without talk; at most
    `grid.MAX_TALK_VOCAB` = 64 (V bytes more per observation cell)."""
    channel: str = "open"
    """What listeners get of the tokens (`envs.messages.CHANNELS`): "open" as said, "cut"
    nothing, "scrambled" uniform random tokens; the last two ablate a trained channel
    (Lowe et al. 2019). Ignored without talk."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "map", valid_map("cleanup", self.map, ALLOWED_CHARS))
        spawns = sum(row.count(SPAWN) for row in self.map)
        check_int(
            "cleanup",
            "num_agents",
            self.num_agents,
            1,
            min(spawns, MAX_AGENTS),
            f"the map's {spawns} spawn points, at most {MAX_AGENTS}",
        )
        check_int("cleanup", "max_steps", self.max_steps, 1, MAX_STEPS, "episode length")
        check_int(
            "cleanup",
            "view_radius",
            self.view_radius,
            1,
            MAX_VIEW_RADIUS,
            "an observation is (2r+1)^2 cells per agent",
        )
        check_beam("cleanup", "beam_length", self.beam_length, "beam_width", self.beam_width)
        check_beam(
            "cleanup",
            "clean_beam_length",
            self.clean_beam_length,
            "clean_beam_width",
            self.clean_beam_width,
        )
        check_int("cleanup", "tag_timeout", self.tag_timeout, 0, MAX_STEPS, "steps off the map")
        for name in (
            "apple_respawn_probability",
            "waste_spawn_probability",
            "threshold_depletion",
            "threshold_restoration",
        ):
            check_number("cleanup", name, getattr(self, name), 0.0, 1.0)
        if not self.threshold_restoration < self.threshold_depletion:
            raise ValueError(
                f"cleanup: threshold_restoration={self.threshold_restoration} must be below "
                f"threshold_depletion={self.threshold_depletion}"
            )
        check_reward("cleanup", "beam_cost", self.beam_cost, 0.0)
        check_reward("cleanup", "tag_penalty", self.tag_penalty, 0.0)
        check_talk("cleanup", self.talk_vocab, self.channel)
        if not isinstance(self.clean_through_waste, bool):
            raise ValueError(
                f"cleanup: clean_through_waste={self.clean_through_waste!r}; must be true or false"
            )

    @property
    def view_size(self) -> int:
        """Side V = 2 * view_radius + 1 of the egocentric window."""
        return 2 * self.view_radius + 1
