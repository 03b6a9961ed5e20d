"""Commons Harvest rules as pure batched functions of (config, state, actions, rng).

One step, in order: moves and turns, eating, beams and tagging, respawns, apple regrowth.
Every function advances all B copies at once; the only Python loops are bounded by the number
of agents (collision passes) or are over constants.

References:
    Perolat et al. 2017, "A multi-agent reinforcement learning model of common-pool resource
    appropriation", NeurIPS. Leibo et al. 2017, "Multi-agent reinforcement learning in
    sequential social dilemmas", AAMAS. Vinitsky et al., sequential_social_dilemma_games
    (`harvest.py`, `map_env.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from envs.commons.config import CommonsConfig
from envs.commons.maps import Layout, parse

ACTIONS: tuple[str, ...] = (
    "forward",
    "backward",
    "step_left",
    "step_right",
    "turn_left",
    "turn_right",
    "stay",
    "fire",
)
FORWARD, BACKWARD, STEP_LEFT, STEP_RIGHT, TURN_LEFT, TURN_RIGHT, STAY, FIRE = range(8)
EVENT_NAMES: tuple[str, ...] = ("apples", "beams", "tagged", "removed")

DIRS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int32)  # N, E, S, W as (drow, dcol)

# (4 orientations, 8 actions, 2): moves relative to the orientation (ssd / Melting Pot).
MOVE_DELTA = np.zeros((4, 8, 2), dtype=np.int32)
# (4 orientations, 8 actions): orientation after the action.
TURN = np.repeat(np.arange(4, dtype=np.int8)[:, None], 8, axis=1)
for _o in range(4):
    for _a, _quarter_turns in ((FORWARD, 0), (BACKWARD, 2), (STEP_LEFT, 3), (STEP_RIGHT, 1)):
        MOVE_DELTA[_o, _a] = DIRS[(_o + _quarter_turns) % 4]
    TURN[_o, TURN_LEFT], TURN[_o, TURN_RIGHT] = (_o + 3) % 4, (_o + 1) % 4

# Colours (RGB) shared by observations and rendering.
EMPTY_RGB = (0, 0, 0)
WALL_RGB = (128, 128, 128)
APPLE_RGB = (0, 200, 0)
BEAM_RGB = (255, 255, 0)
SELF_RGB = (0, 0, 255)
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
)  # agent k has colour AGENT_RGB[k % 10]


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
    """

    pos: np.ndarray
    orient: np.ndarray
    apples: np.ndarray
    removed_for: np.ndarray
    beams: np.ndarray
    t: np.ndarray

    @property
    def active(self) -> np.ndarray:
        """(B, A) bool, agents on the map."""
        return self.removed_for == 0


def reset(cfg: CommonsConfig, batch_size: int, rng: np.random.Generator) -> CommonsState:
    """Agents at distinct random spawn points facing random ways; every apple cell full."""
    lay = parse(cfg.map)
    B, A = batch_size, cfg.num_agents
    H, W = lay.shape
    none = np.zeros((B, A), dtype=bool)
    flat = _spawn(lay, np.zeros((B, A), np.intp), ~none, none, rng)  # (B, A)
    return CommonsState(
        pos=np.stack([flat // W, flat % W], axis=-1).astype(np.int32),
        orient=rng.integers(0, 4, size=(B, A), dtype=np.int8),
        apples=np.repeat(lay.apple_cells[None], B, axis=0),
        removed_for=np.zeros((B, A), dtype=np.int32),
        beams=np.zeros((B, H, W), dtype=bool),
        t=np.zeros(B, dtype=np.int32),
    )


def step(
    cfg: CommonsConfig, state: CommonsState, actions: np.ndarray, rng: np.random.Generator
) -> tuple[CommonsState, np.ndarray, dict[str, np.ndarray]]:
    """Advance every copy by one step.

    Args:
        cfg: the game settings.
        state: the current state of B copies.
        actions: (B, A) integers in [0, 8), see `ACTIONS`; removed agents' actions are ignored.
        rng: the source of collision priorities, respawn points and regrowth.
    Returns:
        The new state, rewards (B, A) float32 (+1 per apple, minus beam_cost per shot and
        tag_penalty per hit) and events {"apples", "beams", "tagged", "removed"}, each (B, A)
        int32; "removed" is 1 while the agent is off the map at the end of the step.
    """
    lay = parse(cfg.map)
    B, A = actions.shape
    H, W = lay.shape
    rows = np.arange(B)[:, None]  # (B, 1)
    active = state.removed_for == 0  # (B, A)
    act = np.where(active, actions, STAY)
    orient = state.orient.astype(np.intp)

    # 1. Moves and turns.
    here = state.pos[..., 0].astype(np.intp) * W + state.pos[..., 1]  # (B, A) flat cell
    delta = MOVE_DELTA[orient, act]  # (B, A, 2)
    there = here + delta[..., 0] * W + delta[..., 1]
    there = np.where(lay.walls.ravel()[there], here, there)
    cell = _resolve_moves(here, there, active, rng)
    orient = TURN[orient, act]  # (B, A) int8

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
        cell = np.where(back, _spawn(lay, cell, back, on_map, rng), cell)
        orient = np.where(back, rng.integers(0, 4, size=(B, A), dtype=np.int8), orient)

    # 5. Regrowth on empty apple cells with no agent on them.
    on_map = removed_for == 0
    occupied = np.zeros((B, H * W), dtype=bool)
    occupied[np.nonzero(on_map)[0], cell[on_map]] = True
    apples = _regrow(cfg, lay, apples, occupied, rng)

    new = CommonsState(
        pos=np.stack([cell // W, cell % W], axis=-1).astype(np.int32),
        orient=orient.astype(np.int8),
        apples=apples.reshape(B, H, W),
        removed_for=removed_for,
        beams=beams.reshape(B, H, W),
        t=state.t + 1,
    )
    rewards = ate - cfg.beam_cost * fired - cfg.tag_penalty * tagged
    events = {
        "apples": ate.astype(np.int32),
        "beams": fired.astype(np.int32),
        "tagged": tagged.astype(np.int32),
        "removed": (removed_for > 0).astype(np.int32),
    }
    return new, rewards.astype(np.float32), events


def observe(cfg: CommonsConfig, state: CommonsState) -> np.ndarray:
    """Egocentric RGB windows, rotated so that every agent faces up.

    The agent sits at the centre (row r, col r) in SELF_RGB; outside the map looks like wall;
    removed agents see all zeros. Cells are drawn as codes into a padded grid, gathered with
    per-orientation offset tables and coloured through a palette at the end.

    Returns:
        (B, A, V, V, 3) uint8 with V = 2 * view_radius + 1.
    """
    lay = parse(cfg.map)
    B, A = state.orient.shape
    H, W = lay.shape
    r, V = cfg.view_radius, cfg.view_size
    base = _padded_codes(cfg.map, r)  # (H+2r, W+2r) uint8
    grid = np.repeat(base[None], B, axis=0)  # (B, H+2r, W+2r)
    inner = grid[:, r : r + H, r : r + W]
    inner[state.apples] = _APPLE
    inner[state.beams] = _BEAM
    on_map = state.removed_for == 0
    bi, ai = np.nonzero(on_map)
    inner[bi, state.pos[bi, ai, 0], state.pos[bi, ai, 1]] = _FIRST_AGENT + ai

    Wp = W + 2 * r
    centre = (state.pos[..., 0].astype(np.intp) + r) * Wp + state.pos[..., 1] + r  # (B, A)
    centre += (np.arange(B) * base.size)[:, None]
    idx = _view_offsets(r, Wp)[state.orient.astype(np.intp)]  # (B, A, V*V)
    idx += centre[..., None]
    codes = np.take(grid.ravel(), idx)  # (B, A, V*V) uint8
    codes[..., (V * V) // 2] = _SELF
    codes[~on_map] = _EMPTY  # the empty colour is black: all zeros
    return np.take(_palette(A), codes, axis=0).reshape(B, A, V, V, 3)


def _resolve_moves(
    here: np.ndarray, there: np.ndarray, active: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Cells (B, A) after moving, with no two active agents in one cell.

    Two agents trading cells both stay. Otherwise, among agents heading for one cell, one
    already standing there keeps it, else the one with the highest random priority enters;
    losers stay put, which can block others in turn (at most A passes).
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


def _spawn(
    lay: Layout,
    cell: np.ndarray,
    placing: np.ndarray,
    on_map: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Flat cells (B, A): agents in `placing` get distinct random spawn points not held by
    agents in `on_map`; the others keep `cell`."""
    B, A = placing.shape
    W = lay.shape[1]
    spawn_cells = lay.spawns[:, 0].astype(np.intp) * W + lay.spawns[:, 1]  # (S,)
    held = ((cell[:, :, None] == spawn_cells) & on_map[:, :, None]).any(axis=1)  # (B, S)
    score = rng.random((B, len(spawn_cells))) + held  # held points sort last
    order = np.argsort(score, axis=1)  # (B, S)
    rank = np.cumsum(placing, axis=1) - 1  # k-th placed agent takes the k-th free point
    chosen = spawn_cells[order[np.arange(B)[:, None], np.maximum(rank, 0)]]
    return np.where(placing, chosen, cell)


def _beam_cells(
    cfg: CommonsConfig, lay: Layout, cell: np.ndarray, orient: np.ndarray, fired: np.ndarray
) -> np.ndarray:
    """(B, H*W) bool: cells covered by the beams of agents in `fired`, lanes stopped by walls."""
    B = cell.shape[0]
    H, W = lay.shape
    beams = np.zeros((B, H * W), dtype=bool)
    bi, ai = np.nonzero(fired)
    if len(bi) == 0:
        return beams
    pad = cfg.beam_length + cfg.beam_width // 2
    walls = _padded_walls(cfg.map, pad)
    offsets = _beam_offsets(cfg.beam_length, cfg.beam_width)  # (4, lanes, L, 2)
    shooter = cell[bi, ai]
    rc = np.stack([shooter // W, shooter % W], axis=-1)[:, None, None, :]  # (F, 1, 1, 2)
    lanes = rc + offsets[orient[bi, ai]]  # (F, lanes, L, 2)
    clear = np.logical_and.accumulate(~walls[lanes[..., 0] + pad, lanes[..., 1] + pad], axis=-1)
    f = np.broadcast_to(bi[:, None, None], clear.shape)
    beams[f[clear], lanes[..., 0][clear] * W + lanes[..., 1][clear]] = True
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


_EMPTY, _WALL, _APPLE, _BEAM, _SELF, _FIRST_AGENT = range(6)  # cell codes in observe


@lru_cache(maxsize=16)
def _palette(num_agents: int) -> np.ndarray:
    """(6 + A - 1, 3) uint8: the colour of each cell code."""
    fixed = [EMPTY_RGB, WALL_RGB, APPLE_RGB, BEAM_RGB, SELF_RGB]
    agents = [AGENT_RGB[k % len(AGENT_RGB)] for k in range(num_agents)]
    palette = np.array(fixed + agents, dtype=np.uint8)
    palette.flags.writeable = False
    return palette


@lru_cache(maxsize=16)
def _padded_codes(ascii_map: tuple[str, ...], pad: int) -> np.ndarray:
    """(H+2p, W+2p) uint8: walls and the outside _WALL, everything else _EMPTY."""
    codes = np.where(_padded_walls(ascii_map, pad), _WALL, _EMPTY).astype(np.uint8)
    codes.flags.writeable = False
    return codes


@lru_cache(maxsize=16)
def _padded_walls(ascii_map: tuple[str, ...], pad: int) -> np.ndarray:
    """(H+2p, W+2p) bool: the map's walls with `pad` cells of wall around it."""
    walls = np.pad(parse(ascii_map).walls, pad, constant_values=True)
    walls.flags.writeable = False
    return walls


@lru_cache(maxsize=16)
def _view_offsets(radius: int, row_stride: int) -> np.ndarray:
    """(4, V*V) flat offsets: view cell (i, j) of an agent facing o is the map cell
    (radius - i) steps ahead and (j - radius) steps to its right."""
    steps = np.arange(2 * radius + 1) - radius
    ahead, right = -steps[:, None], steps[None, :]  # (V, 1), (1, V)
    out = np.empty((4, (2 * radius + 1) ** 2), dtype=np.intp)
    for o in range(4):
        d = ahead[..., None] * DIRS[o] + right[..., None] * DIRS[(o + 1) % 4]  # (V, V, 2)
        out[o] = (d[..., 0] * row_stride + d[..., 1]).ravel()
    out.flags.writeable = False
    return out


@lru_cache(maxsize=16)
def _beam_offsets(length: int, width: int) -> np.ndarray:
    """(4, width, length, 2): lane l, step d of a beam fired facing o is d+1 cells ahead and
    l - width//2 cells to the right of the shooter."""
    ahead = np.arange(1, length + 1)[None, :, None]  # (1, L, 1)
    side = (np.arange(width) - width // 2)[:, None, None]  # (w, 1, 1)
    out = np.stack([ahead * DIRS[o] + side * DIRS[(o + 1) % 4] for o in range(4)])
    out = out.astype(np.intp)
    out.flags.writeable = False
    return out


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
