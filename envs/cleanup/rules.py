"""Cleanup rules as pure batched functions of (config, state, actions, rng).

One step, in order: moves and turns, eating, beams (tagging and cleaning), respawns, apple
growth and waste spawning, talk. Movement, collisions, orientation, beam geometry, respawning,
cheap talk (`envs.grid`) and views (`envs.grid_view`) are the grid worlds' shared mechanics, as
in Commons;
Cleanup adds the river, its waste, the cleaning beam and the pollution-dependent apple growth.
Every function advances all B copies at once; the only Python loops are bounded by the number
of agents (collision passes).

References:
    Hughes et al. 2018, "Inequity aversion improves cooperation in intertemporal social
    dilemmas", NeurIPS. Vinitsky et al., sequential_social_dilemma_games (`cleanup.py`,
    `map_env.py`). Perolat et al. 2017 (tagging out, as in Commons).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import gymnasium
import numpy as np

from envs import grid_view
from envs.cleanup.config import CleanupConfig
from envs.cleanup.maps import RIVER, STREAM, WASTE, CleanupLayout, parse
from envs.grid import (
    AGENT_RGB,
    APPLE_RGB,
    BEAM_RGB,
    MOVE_ACTIONS,
    STAY,
    beam_reach,
    move_agents,
    movement_tables,
    spawn,
    speak,
    split_talk,
)
from envs.messages import SILENT

ACTIONS: tuple[str, ...] = (*MOVE_ACTIONS, "fire", "clean")  # Commons' eight, then clean
FIRE, CLEAN = len(MOVE_ACTIONS), len(MOVE_ACTIONS) + 1  # 7, 8
EVENT_NAMES: tuple[str, ...] = ("apples", "cleaned", "beams", "clean_beams", "tagged", "removed")
TALK_EVENT = "token"  # with talk: the token said + 1 (a code, not a count), 0 when silent

# (4 orientations, 9 actions, 2) moves and (4, 9) orientations after each action; see
# `envs.grid.movement_tables` (firing and cleaning neither move nor turn).
MOVE_DELTA, TURN = movement_tables(len(ACTIONS))

RIVER_RGB = (99, 156, 194)  # clean river and stream, light grey-blue (ssd)
WASTE_RGB = (113, 75, 24)  # brown (ssd)
CLEAN_BEAM_RGB = (100, 255, 255)  # cyan (ssd)


@dataclass(frozen=True)
class CleanupState:
    """All B copies of the world at one step.

    Attributes:
        pos: (B, A, 2) int32 (row, col); a removed agent keeps its last cell but occupies none.
        orient: (B, A) int8, 0=N 1=E 2=S 3=W.
        apples: (B, H, W) bool, only on apple cells.
        waste: (B, H, W) bool, only on river cells.
        removed_for: (B, A) int32, steps the agent will still sit out; 0 = in the game.
        beams: (B, H, W) bool, cells covered by a tagging beam fired on the last step.
        clean_beams: (B, H, W) bool, cells covered by a cleaning beam fired on the last step.
        t: (B,) int32, steps taken since reset.
        said: (B, A) int64, with talk the token each agent said on the last step (SILENT
            before the first step and for agents off the map then); None without talk.
        heard: (B, A) int64, what listeners got of `said` on the config's channel; None
            without talk.
    """

    pos: np.ndarray
    orient: np.ndarray
    apples: np.ndarray
    waste: np.ndarray
    removed_for: np.ndarray
    beams: np.ndarray
    clean_beams: np.ndarray
    t: np.ndarray
    said: np.ndarray | None = None
    heard: np.ndarray | None = None

    @property
    def active(self) -> np.ndarray:
        """(B, A) bool, agents on the map."""
        return self.removed_for == 0


def reset(cfg: CleanupConfig, batch_size: int, rng: np.random.Generator) -> CleanupState:
    """Agents at distinct random spawn points facing random ways; waste and apples as drawn
    on the map ('H' and 'A'); with talk, nothing said yet."""
    lay = parse(cfg.map)
    B, A = batch_size, cfg.num_agents
    H, W = lay.shape
    none = np.zeros((B, A), dtype=bool)
    flat = spawn(lay.spawns, W, np.zeros((B, A), np.intp), ~none, none, rng)  # (B, A)
    silent = np.full((B, A), SILENT, dtype=np.int64) if cfg.talk_vocab else None
    return CleanupState(
        pos=np.stack([flat // W, flat % W], axis=-1).astype(np.int32),
        orient=rng.integers(0, 4, size=(B, A), dtype=np.int8),
        apples=np.repeat(lay.apple_start[None], B, axis=0),
        waste=np.repeat(lay.waste_start[None], B, axis=0),
        removed_for=np.zeros((B, A), dtype=np.int32),
        beams=np.zeros((B, H, W), dtype=bool),
        clean_beams=np.zeros((B, H, W), dtype=bool),
        t=np.zeros(B, dtype=np.int32),
        said=silent,
        heard=silent,
    )


def step(
    cfg: CleanupConfig, state: CleanupState, actions: np.ndarray, rng: np.random.Generator
) -> tuple[CleanupState, np.ndarray, dict[str, np.ndarray]]:
    """Advance every copy by one step.

    Args:
        cfg: the game settings.
        state: the current state of B copies.
        actions: (B, A) integers in [0, 9), see `ACTIONS`; with talk_vocab V > 0, in
            [0, 9 V): move a % 9 and token a // 9. Removed agents' actions are ignored.
        rng: the source of collision priorities, respawn points, apples, waste and, on a
            scrambled channel, the heard tokens (drawn last, so the world's own draws are
            unchanged).
    Returns:
        The new state, rewards (B, A) float32 (+1 per apple, minus beam_cost per tagging shot
        and tag_penalty per hit) and events {"apples", "cleaned", "beams", "clean_beams",
        "tagged", "removed"} and, with talk, "token", each (B, A) int32 (see `envs.cleanup`).
    """
    lay = parse(cfg.map)
    B, A = actions.shape
    H, W = lay.shape
    rows = np.arange(B)[:, None]  # (B, 1)
    active = state.removed_for == 0  # (B, A)
    move, token = split_talk(actions, len(ACTIONS), cfg.talk_vocab)  # (B, A) each
    act = np.where(active, move, STAY)

    # 1. Moves and turns (`envs.grid`, as in Commons).
    cell, orient = move_agents(
        state.pos, state.orient, act, active, lay.walls, MOVE_DELTA, TURN, rng
    )  # (B, A) flat cells, int8 orientations

    # 2. Eating.
    apples = state.apples.reshape(B, H * W).copy()
    ate = active & apples[rows, cell]
    bi, ai = np.nonzero(ate)
    apples[bi, cell[bi, ai]] = False

    # 3. Beams: tagging, then cleaning, both from the cells reached in 1.
    fired = active & (act == FIRE)
    beams, _ = _fire(cfg.map, cell, orient, fired, cfg.beam_length, cfg.beam_width)
    tagged = active & beams[rows, cell]
    cleaning = active & (act == CLEAN)
    waste = state.waste.reshape(B, H * W).copy()
    clean_beams, cleaned = _fire(
        cfg.map,
        cell,
        orient,
        cleaning,
        cfg.clean_beam_length,
        cfg.clean_beam_width,
        waste=waste,
        through_waste=cfg.clean_through_waste,
    )

    # 4. Respawns: the counter runs down while out; a hit sets it to tag_timeout.
    was_out = ~active
    removed_for = np.where(was_out, state.removed_for - 1, 0)
    removed_for = np.where(tagged, cfg.tag_timeout, removed_for).astype(np.int32)
    back = was_out & (removed_for == 0)
    if back.any():
        on_map = (removed_for == 0) & ~back
        cell = np.where(back, spawn(lay.spawns, W, cell, back, on_map, rng), cell)
        orient = np.where(back, rng.integers(0, 4, size=(B, A), dtype=np.int8), orient)

    # 5. Apples on free apple cells, then at most one new waste cell per copy.
    on_map = removed_for == 0
    occupied = np.zeros((B, H * W), dtype=bool)
    occupied[np.nonzero(on_map)[0], cell[on_map]] = True
    apples, waste = _grow(cfg, lay, apples, waste, occupied, rng)

    # 6. Talk: what active agents said with their move, as their listeners get it.
    said = heard = None
    if cfg.talk_vocab:
        said, heard = speak(token, active, cfg.channel, cfg.talk_vocab, rng)

    new = CleanupState(
        pos=np.stack([cell // W, cell % W], axis=-1).astype(np.int32),
        orient=orient.astype(np.int8),
        apples=apples.reshape(B, H, W),
        waste=waste.reshape(B, H, W),
        removed_for=removed_for,
        beams=beams.reshape(B, H, W),
        clean_beams=clean_beams.reshape(B, H, W),
        t=state.t + 1,
        said=said,
        heard=heard,
    )
    rewards = ate - cfg.beam_cost * fired - cfg.tag_penalty * tagged
    events = {
        "apples": ate.astype(np.int32),
        "cleaned": cleaned,
        "beams": fired.astype(np.int32),
        "clean_beams": cleaning.astype(np.int32),
        "tagged": tagged.astype(np.int32),
        "removed": (removed_for > 0).astype(np.int32),
    }
    if said is not None:
        events[TALK_EVENT] = (said + 1).astype(np.int32)
    return new, rewards.astype(np.float32), events


def waste_density(cfg: CleanupConfig, waste: np.ndarray) -> np.ndarray:
    """Fraction of river cells holding waste, (B,) from waste (B, H, W) or (B, H*W)."""
    n_river = max(int(parse(cfg.map).river.sum()), 1)
    return waste.reshape(len(waste), -1).sum(axis=1) / n_river


def apple_probability(cfg: CleanupConfig, density: np.ndarray) -> np.ndarray:
    """Per-cell apple growth probability at waste density d (ssd `compute_probabilities`).

    p(d) = p_apple                                   if d <= d_restore
         = p_apple (d_deplete - d) / (d_deplete - d_restore)   if d_restore < d < d_deplete
         = 0                                         if d >= d_deplete
    """
    d_deplete, d_restore = cfg.threshold_depletion, cfg.threshold_restoration
    scale = np.clip((d_deplete - density) / (d_deplete - d_restore), 0.0, 1.0)
    return np.where(density >= d_deplete, 0.0, cfg.apple_respawn_probability * scale)


def _grow(
    cfg: CleanupConfig,
    lay: CleanupLayout,
    apples: np.ndarray,
    waste: np.ndarray,
    occupied: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Apples and waste (B, H*W) after spawning, both driven by the waste density now.

    Empty apple cells with no agent on them grow an apple with `apple_probability(d)`. Unless
    d >= threshold_depletion, one clean river cell, uniform among the n clean ones, receives
    waste with probability 1 - (1 - waste_spawn_probability)^n (ssd's "first success in a
    shuffled scan"); waste may fall on a cell with an agent.
    """
    B = apples.shape[0]
    apple_cells, river_cells = _cells(cfg.map)
    density = waste_density(cfg, waste)  # (B,)
    p_apple = apple_probability(cfg, density)  # (B,)
    has_apple = apples[:, apple_cells]
    grow = ~(has_apple | occupied[:, apple_cells]) & (
        rng.random(has_apple.shape) < p_apple[:, None]
    )
    apples[:, apple_cells] = has_apple | grow

    dirty = waste[:, river_cells]  # (B, R)
    n_clean = len(river_cells) - dirty.sum(axis=1)  # (B,)
    p_waste = np.where(density >= cfg.threshold_depletion, 0.0, cfg.waste_spawn_probability)
    spawn = rng.random(B) < 1.0 - (1.0 - p_waste) ** n_clean  # (B,)
    if len(river_cells) and spawn.any():
        score = np.where(dirty, -1.0, rng.random(dirty.shape))  # polluted cells never win
        target = river_cells[np.argmax(score, axis=1)]  # (B,)
        waste[np.flatnonzero(spawn), target[spawn]] = True
    return apples, waste


def _fire(
    ascii_map: tuple[str, ...],
    cell: np.ndarray,
    orient: np.ndarray,
    fired: np.ndarray,
    length: int,
    width: int,
    waste: np.ndarray | None = None,
    through_waste: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Beams of the agents in `fired`: a width x length block ahead of each, every lane
    stopped by the first wall (`envs.grid.beam_reach`).

    With `waste` (B, H*W), the beam cleans: waste in its reach is removed in place, and
    unless `through_waste` a lane also stops at the first waste cell it cleans (ssd). A cell
    covered by two cleaning beams counts as cleaned by both shooters.

    Returns:
        covered (B, H*W) bool and cleaned (B, A) int32, waste cells removed by each agent.
    """
    B, A = cell.shape
    H, W = parse(ascii_map).shape
    covered = np.zeros((B, H * W), dtype=bool)
    cleaned = np.zeros((B, A), dtype=np.int32)
    bi, ai = np.nonzero(fired)
    if len(bi) == 0:
        return covered, cleaned
    flat, reach = beam_reach(ascii_map, cell[bi, ai], orient[bi, ai], length, width)  # (F, w, L)
    f = np.broadcast_to(bi[:, None, None], reach.shape)
    if waste is not None:
        hit = reach & waste[f, flat]
        if not through_waste:
            reach &= np.cumsum(hit, axis=-1) - hit == 0  # nothing polluted before this cell
            hit &= reach
        cleaned[bi, ai] = hit.sum(axis=(1, 2))
        waste[f[hit], flat[hit]] = False
    covered[f[reach], flat[reach]] = True
    return covered, cleaned


def observe(cfg: CleanupConfig, state: CleanupState) -> np.ndarray:
    """Egocentric RGB windows rotated so that every agent faces up, as in Commons
    (`envs.grid_view.observe`).

    The agent sits at the centre (row r, col r) in SELF_RGB; outside the map looks like wall;
    removed agents see all zeros. Layers, later on top: floor or wall or water, waste,
    apples, cleaning beams, tagging beams, other agents. With talk, channel 3 + k is 255 on
    the cell of every other agent in view heard saying token k on the last step
    (`envs.grid_view.talk_channels`).

    Returns:
        (B, A, V, V, 3 + talk_vocab) uint8 with V = 2 * view_radius + 1.
    """
    layers = (
        (state.waste, WASTE_RGB),
        (state.apples, APPLE_RGB),
        (state.clean_beams, CLEAN_BEAM_RGB),
        (state.beams, BEAM_RGB),
    )
    on_map = state.removed_for == 0
    rgb = grid_view.observe(
        cfg.map,
        cfg.view_radius,
        state.pos,
        state.orient,
        layers,
        AGENT_RGB,
        terrain=((WASTE + RIVER + STREAM, RIVER_RGB),),  # the river and stream look alike
        on_map=on_map,
    )
    if not cfg.talk_vocab:
        return rgb
    shape = state.apples.shape[1:]
    tokens = grid_view.talk_channels(
        shape, cfg.view_radius, state.pos, state.orient, state.heard, cfg.talk_vocab, on_map
    )
    return np.concatenate([rgb, tokens], axis=-1)


def spaces(cfg: CleanupConfig) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Discrete]:
    """One agent's spaces: a (V, V, 3) uint8 window and Discrete(9) `ACTIONS`; with talk
    vocabulary T > 0, a (V, V, 3 + T) window and Discrete(9 T) moves x tokens."""
    moves = len(ACTIONS) * max(cfg.talk_vocab, 1)
    return grid_view.egocentric_spaces(cfg.view_size, moves, cfg.talk_vocab)


def event_names(cfg: CleanupConfig) -> tuple[str, ...]:
    """The keys of `step`'s events: `EVENT_NAMES`, and "token" with talk."""
    return (*EVENT_NAMES, TALK_EVENT) if cfg.talk_vocab else EVENT_NAMES


@lru_cache(maxsize=16)
def _cells(ascii_map: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices into the (H, W) map of the apple cells (N,) and of the river cells (R,)."""
    lay = parse(ascii_map)
    apple_cells, river_cells = np.flatnonzero(lay.apple_cells), np.flatnonzero(lay.river)
    for a in (apple_cells, river_cells):
        a.flags.writeable = False
    return apple_cells, river_cells
