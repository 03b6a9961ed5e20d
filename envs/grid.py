"""Mechanics shared by the grid worlds (Commons, Cleanup, Wolfpack).

All three are 2-D gridworlds in the style of Leibo et al. 2017 and the sequential social
dilemma games: agents face one of four orientations, move and turn relative to it, bump into
walls and into each other, and see an egocentric window rotated so that they face up.
Commons and Cleanup also respawn agents at spawn points and fire beams. This module holds
those pieces once:

- orientations (`DIRS`), the seven movement actions and their move / turn tables
  (`movement_tables`);
- move-conflict resolution (`resolve_moves`) and spawning at free spawn points (`spawn`);
- beams: offset tables (`beam_offsets`) and the cells a beam reaches (`beam_reach`);
- the colours the worlds share in observations and rendering;
- cheap talk (Commons, Cleanup): joint move x token actions (`split_talk`), what every agent
  says and hears in a step (`speak`), the token marks of rendered frames (`mark_tokens`) and
  the checks of the talk settings (`check_talk`);
- map checks (`valid_map`) and the bounds of the grid worlds' sizes (`MAX_MAP_SIDE`,
  `MAX_VIEW_RADIUS`, `MAX_BEAM_LENGTH`, `MAX_BEAM_WIDTH`, `MAX_TALK_VOCAB`).

What the agents see, their egocentric windows, is `envs.grid_view`.

Cells are addressed by flat index row * W + col into an (H, W) map, so that a batch of moves
is integer arithmetic. Orientation o is 0=N 1=E 2=S 3=W; turning right adds 1 (mod 4).
Every function is pure and batched; the only Python loops are bounded by the number of agents
(collision passes) or run over constants.

References:
    Leibo et al. 2017, "Multi-agent reinforcement learning in sequential social dilemmas",
    AAMAS. Vinitsky et al., sequential_social_dilemma_games (`map_env.py`, `agent.py`).
    Lowe et al. 2017, "Multi-agent actor-critic for mixed cooperative-competitive
    environments" (NeurIPS; MPE `simple_reference`, whose move x token actions are flattened
    the same way). Lowe et al. 2019, "On the pitfalls of measuring emergent communication"
    (AAMAS; the cut and scrambled channels of `envs.messages`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from envs.checks import check_int
from envs.messages import SILENT, check_channel, heard

WALL_CHAR = "@"  # the wall character of every grid world's ASCII maps

MAX_MAP_SIDE = 256
"""Rows and columns of a map. A copy's state holds a few (H, W) layers and a step several more
(B, H*W) arrays; the shipped maps are at most 38 cells wide."""
MAX_VIEW_RADIUS = 32
"""An observation is (2r + 1)^2 RGB cells per agent: 65 x 65 x 3 bytes at r = 32, against
15 x 15 at the shipped r = 7."""
MAX_BEAM_LENGTH = 64
"""Cells a beam reaches ahead: every shot covers width x length cells each step; 64 is a
quarter of the largest map side and 13 times the ssd beam of 5."""
MAX_BEAM_WIDTH = 63
"""Lanes of a beam (odd, centred on the shooter): the largest odd width within 64 cells."""
MAX_TALK_VOCAB = 64
"""Tokens of the cheap-talk channel: an observation cell holds 3 + V bytes (67 at the bound,
against 3 without talk) and an agent has 8 x V or 9 x V actions."""

RGB = tuple[int, int, int]

# Orientations N, E, S, W as (drow, dcol); DIRS[(o + 1) % 4] is the right-hand side of o.
DIRS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int32)
DIRS.flags.writeable = False

MOVE_ACTIONS: tuple[str, ...] = (
    "forward",
    "backward",
    "step_left",
    "step_right",
    "turn_left",
    "turn_right",
    "stay",
)  # the first seven actions of every grid world; worlds append their own (fire, clean)
FORWARD, BACKWARD, STEP_LEFT, STEP_RIGHT, TURN_LEFT, TURN_RIGHT, STAY = range(7)

# Colours (RGB) shared by observations and rendering.
EMPTY_RGB = (0, 0, 0)
WALL_RGB = (128, 128, 128)
SELF_RGB = (0, 0, 255)  # the observing agent, at the centre of its own view
APPLE_RGB = (0, 200, 0)  # Commons and Cleanup
BEAM_RGB = (255, 255, 0)  # the tagging beam of Commons and Cleanup
AGENT_RGB = (
    (230, 25, 75),
    (245, 130, 48),
    (145, 30, 180),
    (240, 50, 230),
    (70, 240, 240),
    (170, 110, 40),
    (250, 190, 212),
    (128, 0, 0),
    (0, 128, 128),
    (255, 215, 180),
)  # agent k of Commons and Cleanup has colour AGENT_RGB[k % 10]
TOKEN_RGB = (
    (255, 255, 255),
    (0, 0, 0),
    (255, 0, 0),
    (0, 0, 255),
    (255, 255, 0),
    (0, 255, 0),
    (255, 0, 255),
    (0, 255, 255),
)  # the mark of token k in rendered frames is TOKEN_RGB[k % 8]


def movement_tables(num_actions: int) -> tuple[np.ndarray, np.ndarray]:
    """Move and turn tables for a world whose actions are `MOVE_ACTIONS` plus
    num_actions - 7 more that neither move nor turn (fire, clean).

    Moves are relative to the orientation, as in ssd and Melting Pot: forward goes DIRS[o],
    backward DIRS[o + 2], step left DIRS[o + 3], step right DIRS[o + 1] (mod 4). Indexing
    the tables with (orient, action) arrays moves and turns a whole batch at once.

    Returns:
        move_delta (4, num_actions, 2) int32: (drow, dcol) of action a when facing o;
        turn (4, num_actions) int8: the orientation after action a when facing o.
        Both read-only.
    """
    if num_actions < len(MOVE_ACTIONS):
        raise ValueError(f"movement_tables: num_actions={num_actions}; must be >= 7")
    move_delta = np.zeros((4, num_actions, 2), dtype=np.int32)
    turn = np.repeat(np.arange(4, dtype=np.int8)[:, None], num_actions, axis=1)
    for o in range(4):
        for a, quarter_turns in ((FORWARD, 0), (BACKWARD, 2), (STEP_LEFT, 3), (STEP_RIGHT, 1)):
            move_delta[o, a] = DIRS[(o + quarter_turns) % 4]
        turn[o, TURN_LEFT], turn[o, TURN_RIGHT] = (o + 3) % 4, (o + 1) % 4
    move_delta.flags.writeable = False
    turn.flags.writeable = False
    return move_delta, turn


def resolve_moves(
    here: np.ndarray, there: np.ndarray, active: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Flat cells (B, A) after moving, with no two active agents in one cell.

    Two agents trading cells both stay. Otherwise, among agents heading for one cell, one
    already standing there keeps it, else the one with the highest random priority enters;
    losers stay put, which can block others in turn (at most A passes). Draws one (B, A)
    batch of priorities from `rng` whatever the moves, so a seeded run's later draws do not
    depend on whether anyone collided.

    Args:
        here: (B, A) flat cells now.
        there: (B, A) flat cells each agent tries to enter (walls already ruled out).
        active: (B, A) bool; inactive agents neither block nor are blocked.
        rng: the source of the priorities.
    """
    B, A = here.shape
    priority = rng.random((B, A))
    pair = active[:, :, None] & active[:, None, :] & ~np.eye(A, dtype=bool)  # (B, A, A)
    outranked = priority[:, None, :] > priority[:, :, None]  # [b, i, j]: j beats i
    moving = there != here
    swap = (
        pair
        & (there[:, :, None] == here[:, None, :])
        & (there[:, None, :] == here[:, :, None])
        & moving[:, :, None]
        & moving[:, None, :]
    )
    cell = np.where(swap.any(axis=2), here, there)
    for _ in range(A):
        stays = cell == here
        clash = pair & (cell[:, :, None] == cell[:, None, :])
        loses = (clash & (stays[:, None, :] | outranked)).any(axis=2) & ~stays
        if not loses.any():
            break
        cell = np.where(loses, here, cell)
    return cell


def move_agents(
    pos: np.ndarray,
    orient: np.ndarray,
    act: np.ndarray,
    active: np.ndarray,
    walls: np.ndarray,
    move_delta: np.ndarray,
    turn: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """One step of relative moves and turns: walls block, conflicts by `resolve_moves`.

    Args:
        pos: (B, A, 2) (row, col) now.
        orient: (B, A) facing (index into DIRS).
        act: (B, A) actions (inactive agents should hold STAY).
        active: (B, A) bool, agents on the map.
        walls: (H, W) bool.
        move_delta, turn: the world's tables from `movement_tables`.
        rng: the source of `resolve_moves`' priorities.
    Returns:
        Flat cells (B, A) after the move, and the new orientations (B, A) int8.
    """
    W = walls.shape[1]
    o = orient.astype(np.intp)
    here = pos[..., 0].astype(np.intp) * W + pos[..., 1]  # (B, A) flat cell
    delta = move_delta[o, act]  # (B, A, 2)
    there = here + delta[..., 0] * W + delta[..., 1]
    there = np.where(walls.ravel()[there], here, there)
    return resolve_moves(here, there, active, rng), turn[o, act]


def spawn(
    spawns: np.ndarray,
    width: int,
    cell: np.ndarray,
    placing: np.ndarray,
    on_map: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Flat cells (B, A): agents in `placing` get distinct random spawn points not held by
    agents in `on_map`; the others keep `cell`.

    The spawn points are shuffled per copy (held ones sorted last) and the k-th placed agent
    takes the k-th point, so no two newcomers share one. Draws one (B, S) batch from `rng`.

    Args:
        spawns: (S, 2) (row, col) of the map's spawn points.
        width: W, the map's width, for flat indices.
        cell: (B, A) flat cells now.
        placing: (B, A) bool, the agents to place.
        on_map: (B, A) bool, the agents whose cells are taken.
        rng: the source of the shuffle.
    """
    B, A = placing.shape
    spawn_cells = spawns[:, 0].astype(np.intp) * width + spawns[:, 1]  # (S,)
    held = ((cell[:, :, None] == spawn_cells) & on_map[:, :, None]).any(axis=1)  # (B, S)
    score = rng.random((B, len(spawn_cells))) + held  # held points sort last
    order = np.argsort(score, axis=1)  # (B, S)
    rank = np.cumsum(placing, axis=1) - 1  # k-th placed agent takes the k-th free point
    chosen = spawn_cells[order[np.arange(B)[:, None], np.maximum(rank, 0)]]
    return np.where(placing, chosen, cell)


@lru_cache(maxsize=16)
def beam_offsets(length: int, width: int) -> np.ndarray:
    """(4, width, length, 2) (drow, dcol), read-only: lane l, step d of a beam fired facing o
    is d+1 cells ahead and l - width//2 cells to the right of the shooter."""
    ahead = np.arange(1, length + 1)[None, :, None]  # (1, L, 1)
    side = (np.arange(width) - width // 2)[:, None, None]  # (w, 1, 1)
    out = np.stack([ahead * DIRS[o] + side * DIRS[(o + 1) % 4] for o in range(4)])
    out = out.astype(np.intp)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=16)
def padded_walls(ascii_map: tuple[str, ...], pad: int) -> np.ndarray:
    """(H+2p, W+2p) bool, read-only: the map's walls ('@') with `pad` cells of wall around."""
    walls = np.array([[ch == WALL_CHAR for ch in row] for row in ascii_map])
    walls = np.pad(walls, pad, constant_values=True)
    walls.flags.writeable = False
    return walls


def beam_reach(
    ascii_map: tuple[str, ...], shooter: np.ndarray, orient: np.ndarray, length: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """The cells covered by F beams: a width x length block ahead of each shooter
    (`beam_offsets`), every lane stopped by the first wall on it.

    Args:
        ascii_map: the map; its walls block beams, and so does the outside.
        shooter: (F,) flat cells of the shooters.
        orient: (F,) their orientations.
        length, width: the beam's reach ahead and its number of lanes.
    Returns:
        flat (F, width, length) intp, the flat cell of each lane step (0 where not reached),
        and reach (F, width, length) bool, whether the beam gets there.
    """
    W = len(ascii_map[0])
    pad = length + width // 2
    walls = padded_walls(ascii_map, pad)
    rc = np.stack([shooter // W, shooter % W], axis=-1)[:, None, None, :]  # (F, 1, 1, 2)
    lanes = rc + beam_offsets(length, width)[orient]  # (F, width, length, 2)
    reach = np.logical_and.accumulate(~walls[lanes[..., 0] + pad, lanes[..., 1] + pad], axis=-1)
    flat = np.where(reach, lanes[..., 0] * W + lanes[..., 1], 0)
    return flat, reach


def valid_map(world: str, ascii_map: Sequence[str], allowed: str) -> tuple[str, ...]:
    """The map as a tuple of rows (YAML gives lists); a one-line ValueError unless it is a
    rectangle of 3 x 3 to MAX_MAP_SIDE x MAX_MAP_SIDE `allowed` characters closed by walls on
    every border cell.

    Args:
        world: the world's name, the prefix of the error messages.
        ascii_map: one string per row.
        allowed: the characters the world's maps may hold, in the order of its legend.
    """
    if isinstance(ascii_map, list):
        ascii_map = tuple(ascii_map)
    if not isinstance(ascii_map, tuple) or not all(isinstance(r, str) for r in ascii_map):
        raise ValueError(f"{world}: map must be a tuple of strings (one per row)")
    if len(ascii_map) < 3 or len({len(r) for r in ascii_map}) != 1 or len(ascii_map[0]) < 3:
        raise ValueError(f"{world}: map must be a rectangle of at least 3 x 3 characters")
    H, W = len(ascii_map), len(ascii_map[0])
    if max(H, W) > MAX_MAP_SIDE:
        raise ValueError(
            f"{world}: map is {H} x {W} cells; each side must be from 3 to {MAX_MAP_SIDE}"
            " (the state holds (H, W) layers per copy)"
        )
    bad = set("".join(ascii_map)) - set(allowed)
    if bad:
        legend = ", ".join(repr(c) for c in allowed)
        raise ValueError(f"{world}: map has characters {sorted(bad)}; allowed: {legend}")
    border = ascii_map[0] + ascii_map[-1] + "".join(r[0] + r[-1] for r in ascii_map)
    if set(border) != {WALL_CHAR}:
        raise ValueError(f"{world}: map must be closed by '@' walls on every border cell")
    return ascii_map


def check_beam(
    world: str, length_name: str, length: object, width_name: str, width: object
) -> None:
    """One-line ValueErrors unless a beam's length is in 1..MAX_BEAM_LENGTH and its width is
    odd (lanes centred on the shooter) in 1..MAX_BEAM_WIDTH; the settings are named."""
    check_int(world, length_name, length, 1, MAX_BEAM_LENGTH, "cells ahead of the shooter")
    if (
        isinstance(width, bool)
        or not isinstance(width, int)
        or not 1 <= width <= MAX_BEAM_WIDTH
        or width % 2 == 0
    ):
        raise ValueError(
            f"{world}: {width_name}={width!r}; must be an odd integer from 1 to "
            f"{MAX_BEAM_WIDTH} (lanes centred on the shooter)"
        )


def check_talk(world: str, vocab: object, channel: object) -> None:
    """One-line ValueErrors unless the cheap-talk vocabulary is an int in 0..MAX_TALK_VOCAB
    (0: no channel) and `channel` is one of `envs.messages.CHANNELS`."""
    check_int(world, "talk_vocab", vocab, 0, MAX_TALK_VOCAB, "0 = no channel; V extra channels")
    check_channel(world, channel)


def split_talk(actions: np.ndarray, num_moves: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """Joint actions a = move + num_moves * token (MPE `simple_reference`'s flattening) ->
    (move, token), each of `actions`' shape; with vocab 0 (no channel) the actions are moves
    and every token is SILENT."""
    if vocab == 0:
        return actions, np.full(actions.shape, SILENT, dtype=np.int64)
    return actions % num_moves, (actions // num_moves).astype(np.int64)


def speak(
    token: np.ndarray, active: np.ndarray, channel: str, vocab: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """What every agent says this step and what its listeners get.

    Agents off the map at the start of the step say nothing (SILENT). The heard tokens go
    through `envs.messages.heard` on `channel`: one draw per speaker, so all listeners of a
    speaker hear the same token; an open channel draws nothing from `rng`, so a world with an
    open channel takes the same random draws as without one.

    Args:
        token: (B, A) tokens in [0, vocab) chosen with the move.
        active: (B, A) bool, agents on the map at the start of the step.
        channel: "open", "cut" or "scrambled".
        vocab: V >= 1.
        rng: the source of scrambled tokens.
    Returns:
        said and heard, each (B, A) int64 in [0, V) or SILENT.
    """
    said = np.where(active, token, SILENT).astype(np.int64)
    return said, heard(channel, said, vocab, rng)


def mark_tokens(
    frame: np.ndarray, pos: np.ndarray, tokens: np.ndarray, scale: int, show: np.ndarray
) -> np.ndarray:
    """Paint a square of TOKEN_RGB[k % 8], a third of the tile (at least one pixel), at the
    centre of the tile of every shown agent that said token k; in place.

    Args:
        frame: (H * scale, W * scale, 3) uint8, a grid world's rendered map.
        pos: (A, 2) (row, col) of the agents.
        tokens: (A,) tokens said, SILENT where none.
        scale: pixels per cell.
        show: (A,) bool, the agents drawn on the frame.
    Returns:
        `frame`.
    """
    side = max(1, scale // 3)
    start = (scale - side) // 2
    for k in np.flatnonzero(show & (tokens >= 0)):  # at most A agents
        r, c = (int(v) * scale + start for v in pos[k])
        frame[r : r + side, c : c + side] = TOKEN_RGB[int(tokens[k]) % len(TOKEN_RGB)]
    return frame
