"""The typed, validated configuration of Commons Harvest."""

from __future__ import annotations

from dataclasses import dataclass

from envs.checks import MAX_AGENTS, MAX_STEPS, check_int, check_number, check_reward
from envs.commons.maps import ALLOWED_CHARS, HARVEST_MAP, SPAWN
from envs.grid import MAX_VIEW_RADIUS, check_beam, check_talk, valid_map


@dataclass(frozen=True)
class CommonsConfig:
    """Commons Harvest settings; defaults follow Perolat et al. 2017 and the ssd `harvest.py`."""

    num_agents: int = 5
    """Players in every copy (ssd default map has 5+ spawn points; Perolat 2017 used 10): at
    most the map's spawn points and `checks.MAX_AGENTS` = 64 (moves are resolved pairwise)."""
    map: tuple[str, ...] = HARVEST_MAP
    """ASCII rows: '@' wall, 'A' apple cell, 'P' spawn point, ' ' floor; closed by walls;
    3 to `grid.MAX_MAP_SIDE` = 256 cells a side (the state holds (H, W) layers per copy)."""
    max_steps: int = 1000
    """Episode length; every copy is truncated at this step (ssd / Perolat 2017: 1000); at most
    `checks.MAX_STEPS` = 100,000 (a rollout keeps the whole episode)."""
    view_radius: int = 7
    """Egocentric window is (2r+1) x (2r+1) cells (ssd HARVEST_VIEW_SIZE = 7); r at most
    `grid.MAX_VIEW_RADIUS` = 32 (an observation is (2r+1)^2 cells per agent)."""
    regrowth_probs: tuple[float, float, float, float] = (0.0, 0.005, 0.02, 0.05)
    """Regrowth probability per step of an empty apple cell with 0, 1, 2, >=3 apples in its
    3 x 3 neighbourhood (ssd SPAWN_PROB with APPLE_RADIUS 2, i.e. j^2 + k^2 <= 2)."""
    regrowth_scale: float = 1.0
    """Multiplier on every regrowth probability (result clipped to 1); < 1 makes apples scarce.
    Finite and >= 0."""
    beam_length: int = 5
    """Cells the tagging beam reaches ahead of the shooter (ssd ACTIONS['FIRE'] = 5); at most
    `grid.MAX_BEAM_LENGTH` = 64 (a shot covers width x length cells)."""
    beam_width: int = 3
    """Parallel beam lanes centred on the shooter's column (odd; ssd fires 3 lanes); at most
    `grid.MAX_BEAM_WIDTH` = 63."""
    tag_timeout: int = 25
    """Steps a tagged player is out of the game before respawning (Perolat et al. 2017); 1 to
    `checks.MAX_STEPS` = 100,000 (longer than any episode is never coming back)."""
    beam_cost: float = 0.0
    """Reward subtracted from a player for firing (0 in Perolat 2017; ssd uses 1); in
    [0, `checks.MAX_REWARD` = 1e6] (rewards are float32)."""
    tag_penalty: float = 0.0
    """Reward subtracted from a player when tagged (0 in Perolat 2017; ssd uses 50); in
    [0, `checks.MAX_REWARD` = 1e6] (rewards are float32)."""
    talk_vocab: int = 0
    """Cheap talk: V tokens an agent may say each step, heard by every agent that has it in
    view (V extra observation channels; actions become move + n_moves * token, see
    `envs.commons`). 0 (default): no channel, the world exactly as without talk; at most
    `grid.MAX_TALK_VOCAB` = 64 (V bytes more per observation cell)."""
    channel: str = "open"
    """What listeners get of the tokens (`envs.messages.CHANNELS`): "open" as said, "cut"
    nothing, "scrambled" uniform random tokens; the last two ablate a trained channel
    (Lowe et al. 2019). Ignored without talk."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "map", valid_map("commons", self.map, ALLOWED_CHARS))
        spawns = sum(row.count(SPAWN) for row in self.map)
        check_int(
            "commons",
            "num_agents",
            self.num_agents,
            1,
            min(spawns, MAX_AGENTS),
            f"the map's {spawns} spawn points, at most {MAX_AGENTS}",
        )
        check_int("commons", "max_steps", self.max_steps, 1, MAX_STEPS, "episode length")
        check_int(
            "commons",
            "view_radius",
            self.view_radius,
            1,
            MAX_VIEW_RADIUS,
            "an observation is (2r+1)^2 cells per agent",
        )
        check_beam("commons", "beam_length", self.beam_length, "beam_width", self.beam_width)
        check_int("commons", "tag_timeout", self.tag_timeout, 1, MAX_STEPS, "steps out of the game")
        probs = tuple(self.regrowth_probs) if isinstance(self.regrowth_probs, list | tuple) else ()
        if len(probs) != 4 or not all(
            isinstance(p, int | float) and not isinstance(p, bool) and 0 <= p <= 1 for p in probs
        ):
            raise ValueError(
                f"commons: regrowth_probs={self.regrowth_probs!r}; need 4 probabilities in [0, 1]"
            )
        object.__setattr__(self, "regrowth_probs", tuple(float(p) for p in probs))
        check_number("commons", "regrowth_scale", self.regrowth_scale, 0.0)
        check_reward("commons", "beam_cost", self.beam_cost, 0.0)
        check_reward("commons", "tag_penalty", self.tag_penalty, 0.0)
        check_talk("commons", self.talk_vocab, self.channel)

    @property
    def view_size(self) -> int:
        """Side V = 2 * view_radius + 1 of the egocentric window."""
        return 2 * self.view_radius + 1
