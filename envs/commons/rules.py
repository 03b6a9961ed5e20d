"""Commons Harvest rules as pure batched functions of (config, state, actions, rng).

One step, in order: moves and turns, eating, beams and tagging, respawns, apple regrowth, talk.
Every function advances all B copies at once; the only Python loops are bounded by the number
of agents (collision passes) or are over constants. Orientations, moves, collisions, spawning,
beam geometry, cheap talk (`envs.grid`) and egocentric views (`envs.grid_view`) are the grid
worlds' shared mechanics; this module holds Commons' own: its actions, apples, tagging and
observation layers.

References:
    Perolat et al. 2017, "A multi-agent reinforcement learning model of common-pool resource
    appropriation", NeurIPS. Leibo et al. 2017, "Multi-agent reinforcement learning in
    sequential social dilemmas", AAMAS. Vinitsky et al., sequential_social_dilemma_games
    (`harvest.py`, `map_env.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import gymnasium
import numpy as np

from envs import grid_view
from envs.commons.config import CommonsConfig
from envs.commons.maps import Layout, parse
from envs.grid import (
    AGENT_RGB,
    APPLE_RGB,
    BACKWARD,
    BEAM_RGB,
    EMPTY_RGB,
    FORWARD,
    MOVE_ACTIONS,
    SELF_RGB,
    STAY,
    STEP_LEFT,
    STEP_RIGHT,
    TURN_LEFT,
    TURN_RIGHT,
    WALL_RGB,
    beam_reach,
    move_agents,
    movement_tables,
    spawn,
    speak,
    split_talk,
)
from envs.messages import SILENT

ACTIONS: tuple[str, ...] = (*MOVE_ACTIONS, "fire")
FIRE = len(MOVE_ACTIONS)  # 7
EVENT_NAMES: tuple[str, ...] = ("apples", "beams", "tagged", "removed")
TALK_EVENT = "token"  # with talk: the token said + 1 (a code, not a count), 0 when silent

# (4 orientations, 8 actions, 2) moves and (4, 8) orientations after each action; see
# `envs.grid.movement_tables` (firing neither moves nor turns).
MOVE_DELTA, TURN = movement_tables(len(ACTIONS))

__all__ = [
    "ACTIONS",
    "AGENT_RGB",
    "APPLE_RGB",
    "BACKWARD",
    "BEAM_RGB",
    "EMPTY_RGB",
    "EVENT_NAMES",
    "FIRE",
    "FORWARD",
    "MOVE_DELTA",
    "SELF_RGB",
    "STAY",
    "STEP_LEFT",
    "STEP_RIGHT",
    "TALK_EVENT",
    "TURN",
    "TURN_LEFT",
    "TURN_RIGHT",
    "WALL_RGB",
    "CommonsState",
    "event_names",
    "observe",
    "reset",
    "spaces",
    "step",
]


@dataclass(frozen=True)
class CommonsState:
    """All B copies of the world at one step.

    Attributes:
        pos: (B, A, 2) int32 (row, col); a removed agent keeps its last cell but occupies none.
        orient: (B, A) int8, 0=N 1=E 2=S 3=W.
        apples: (B, H, W) bool.
        removed_for: (B, A) int32, steps the agent will still sit out; 0 = in the game.
        beams: (B, H, W) bool, cells covered by a beam fired on the last step.
        t: (B,) int32, steps taken since reset.
        said: (B, A) int64, with talk the token each agent said on the last step (SILENT
            before the first step and for agents off the map then); None without talk.
        heard: (B, A) int64, what listeners got of `said` on the config's channel; None
            without talk.
    """

    pos: np.ndarray
    orient: np.ndarray
    apples: np.ndarray
    removed_for: np.ndarray
    beams: np.ndarray
    t: np.ndarray
    said: np.ndarray | None = None
    heard: np.ndarray | None = None

    @property
    def active(self) -> np.ndarray:
        """(B, A) bool, agents on the map."""
        return self.removed_for == 0


def reset(cfg: CommonsConfig, batch_size: int, rng: np.random.Generator) -> CommonsState:
    """Agents at distinct random spawn points facing random ways; every apple cell full;
    with talk, nothing said yet."""
    lay = parse(cfg.map)
    B, A = batch_size, cfg.num_agents
    H, W = lay.shape
    none = np.zeros((B, A), dtype=bool)
    flat = spawn(lay.spawns, W, np.zeros((B, A), np.intp), ~none, none, rng)  # (B, A)
    silent = np.full((B, A), SILENT, dtype=np.int64) if cfg.talk_vocab else None
    return CommonsState(
        pos=np.stack([flat // W, flat % W], axis=-1).astype(np.int32),
        orient=rng.integers(0, 4, size=(B, A), dtype=np.int8),
        apples=np.repeat(lay.apple_cells[None], B, axis=0),
        removed_for=np.zeros((B, A), dtype=np.int32),
        beams=np.zeros((B, H, W), dtype=bool),
        t=np.zeros(B, dtype=np.int32),
        said=silent,
        heard=silent,
    )


def step(
    cfg: CommonsConfig, state: CommonsState, actions: np.ndarray, rng: np.random.Generator
) -> tuple[CommonsState, np.ndarray, dict[str, np.ndarray]]:
    """Advance every copy by one step.

    Args:
        cfg: the game settings.
        state: the current state of B copies.
        actions: (B, A) integers in [0, 8), see `ACTIONS`; with talk_vocab V > 0, in
            [0, 8 V): move a % 8 and token a // 8. Removed agents' actions are ignored.
        rng: the source of collision priorities, respawn points, regrowth and, on a scrambled
            channel, the heard tokens (drawn last, so the world's own draws are unchanged).
    Returns:
        The new state, rewards (B, A) float32 (+1 per apple, minus beam_cost per shot and
        tag_penalty per hit) and events {"apples", "beams", "tagged", "removed"} and, with
        talk, "token", each (B, A) int32; "removed" is 1 while the agent is off the map at
        the end of the step, "token" the token said + 1 (0 for agents off the map).
    """
    lay = parse(cfg.map)
    B, A = actions.shape
    H, W = lay.shape
    rows = np.arange(B)[:, None]  # (B, 1)
    active = state.removed_for == 0  # (B, A)
    move, token = split_talk(actions, len(ACTIONS), cfg.talk_vocab)  # (B, A) each
    act = np.where(active, move, STAY)

    # 1. Moves and turns.
    cell, orient = move_agents(
        state.pos, state.orient, act, active, lay.walls, MOVE_DELTA, TURN, rng
    )  # (B, A) flat cells, int8 orientations

    # 2. Eating.
    apples = state.apples.reshape(B, H * W).copy()
    ate = active & apples[rows, cell]
    bi, ai = np.nonzero(ate)
    apples[bi, cell[bi, ai]] = False

    # 3. Beams and tagging.
    fired = active & (act == FIRE)
    beams = _beam_cells(cfg, lay, cell, orient, fired)  # (B, H*W)
    tagged = active & beams[rows, cell]

    # 4. Respawns: the counter runs down while out; a hit sets it to tag_timeout.
    was_out = ~active
    removed_for = np.where(was_out, state.removed_for - 1, 0)
    removed_for = np.where(tagged, cfg.tag_timeout, removed_for).astype(np.int32)
    back = was_out & (removed_for == 0)
    if back.any():
        on_map = (removed_for == 0) & ~back
        cell = np.where(back, spawn(lay.spawns, W, cell, back, on_map, rng), cell)
        orient = np.where(back, rng.integers(0, 4, size=(B, A), dtype=np.int8), orient)

    # 5. Regrowth on empty apple cells with no agent on them.
    on_map = removed_for == 0
    occupied = np.zeros((B, H * W), dtype=bool)
    occupied[np.nonzero(on_map)[0], cell[on_map]] = True
    apples = _regrow(cfg, lay, apples, occupied, rng)

    # 6. Talk: what active agents said with their move, as their listeners get it.
    said = heard = None
    if cfg.talk_vocab:
        said, heard = speak(token, active, cfg.channel, cfg.talk_vocab, rng)

    new = CommonsState(
        pos=np.stack([cell // W, cell % W], axis=-1).astype(np.int32),
        orient=orient.astype(np.int8),
        apples=apples.reshape(B, H, W),
        removed_for=removed_for,
        beams=beams.reshape(B, H, W),
        t=state.t + 1,
        said=said,
        heard=heard,
    )
    rewards = ate - cfg.beam_cost * fired - cfg.tag_penalty * tagged
    events = {
        "apples": ate.astype(np.int32),
        "beams": fired.astype(np.int32),
        "tagged": tagged.astype(np.int32),
        "removed": (removed_for > 0).astype(np.int32),
    }
    if said is not None:
        events[TALK_EVENT] = (said + 1).astype(np.int32)
    return new, rewards.astype(np.float32), events


def observe(cfg: CommonsConfig, state: CommonsState) -> np.ndarray:
    """Egocentric RGB windows, rotated so that every agent faces up (`envs.grid_view.observe`).

    The agent sits at the centre (row r, col r) in SELF_RGB; outside the map looks like wall;
    layers, later on top: floor or wall, apples, beams, other agents. Removed agents see all
    zeros. With talk, channel 3 + k is 255 on the cell of every other agent in view heard
    saying token k on the last step (`envs.grid_view.talk_channels`).

    Returns:
        (B, A, V, V, 3 + talk_vocab) uint8 with V = 2 * view_radius + 1.
    """
    layers = ((state.apples, APPLE_RGB), (state.beams, BEAM_RGB))
    on_map = state.removed_for == 0
    rgb = grid_view.observe(
        cfg.map, cfg.view_radius, state.pos, state.orient, layers, AGENT_RGB, on_map=on_map
    )
    if not cfg.talk_vocab:
        return rgb
    shape = state.apples.shape[1:]
    tokens = grid_view.talk_channels(
        shape, cfg.view_radius, state.pos, state.orient, state.heard, cfg.talk_vocab, on_map
    )
    return np.concatenate([rgb, tokens], axis=-1)


def spaces(cfg: CommonsConfig) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Discrete]:
    """One agent's spaces: a (V, V, 3) uint8 window and Discrete(8) `ACTIONS`; with talk
    vocabulary T > 0, a (V, V, 3 + T) window and Discrete(8 T) moves x tokens."""
    moves = len(ACTIONS) * max(cfg.talk_vocab, 1)
    return grid_view.egocentric_spaces(cfg.view_size, moves, cfg.talk_vocab)


def event_names(cfg: CommonsConfig) -> tuple[str, ...]:
    """The keys of `step`'s events: `EVENT_NAMES`, and "token" with talk."""
    return (*EVENT_NAMES, TALK_EVENT) if cfg.talk_vocab else EVENT_NAMES


def _beam_cells(
    cfg: CommonsConfig, lay: Layout, cell: np.ndarray, orient: np.ndarray, fired: np.ndarray
) -> np.ndarray:
    """(B, H*W) bool: cells covered by the beams of agents in `fired`, lanes stopped by walls
    (`envs.grid.beam_reach`)."""
    B = cell.shape[0]
    H, W = lay.shape
    beams = np.zeros((B, H * W), dtype=bool)
    bi, ai = np.nonzero(fired)
    if len(bi) == 0:
        return beams
    length, width = cfg.beam_length, cfg.beam_width
    flat, reach = beam_reach(cfg.map, cell[bi, ai], orient[bi, ai], length, width)  # (F, w, L)
    f = np.broadcast_to(bi[:, None, None], reach.shape)
    beams[f[reach], flat[reach]] = True
    return beams


def _regrow(
    cfg: CommonsConfig,
    lay: Layout,
    apples: np.ndarray,
    occupied: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Apples (B, H*W) after regrowth: an empty apple cell with no agent on it regrows with
    regrowth_probs[min(n, 3)] * regrowth_scale, n = apples in its 3 x 3 neighbourhood."""
    B = apples.shape[0]
    H, W = lay.shape
    grid = apples.reshape(B, H, W).view(np.uint8)
    rows = grid[:, :-2] + grid[:, 1:-1] + grid[:, 2:]  # (B, H-2, W): 3 x 3 box sum, separably
    n = rows[:, :, :-2] + rows[:, :, 1:-1] + rows[:, :, 2:]  # (B, H-2, W-2), the interior
    cells, inner_cells = _apple_cells(cfg.map)  # (N,) flat in the map, flat in the interior
    n = np.minimum(n.reshape(B, -1)[:, inner_cells], 3)  # (B, N)
    probs = np.minimum(np.asarray(cfg.regrowth_probs) * cfg.regrowth_scale, 1.0)
    has_apple = apples[:, cells]
    grow = ~(has_apple | occupied[:, cells]) & (rng.random(n.shape) < probs[n])
    apples[:, cells] = has_apple | grow
    return apples


@lru_cache(maxsize=16)
def _apple_cells(ascii_map: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices (N,) of the apple cells in the (H, W) map and in its (H-2, W-2) interior
    (the map is walled, so apple cells and their neighbours are inside it)."""
    lay = parse(ascii_map)
    W = lay.shape[1]
    rc = np.argwhere(lay.apple_cells)  # (N, 2)
    cells, inner_cells = rc[:, 0] * W + rc[:, 1], (rc[:, 0] - 1) * (W - 2) + rc[:, 1] - 1
    for a in (cells, inner_cells):
        a.flags.writeable = False
    return cells, inner_cells
