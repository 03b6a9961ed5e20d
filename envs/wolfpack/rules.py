"""Wolfpack rules as pure batched functions of (config, state, actions, rng).

One step, in order: the wolves move and turn, the scripted prey moves, captures are scored,
the caught prey respawns. Every function advances all B copies at once; the only Python loops
are the collision passes (bounded by the number of wolves) and loops over constants.

Movement, turning, collisions (`envs.grid`) and egocentric views (`envs.grid_view`) are the
grid worlds' shared mechanics, as in Commons Harvest; the wolves have no beam.

References:
    Leibo et al. 2017, "Multi-agent reinforcement learning in sequential social dilemmas",
    AAMAS (arXiv:1702.03037), the Wolfpack game.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import gymnasium
import numpy as np

from envs import grid_view
from envs.grid import (
    BACKWARD,
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
    movement_tables,
    resolve_moves,
)
from envs.wolfpack.config import WALL, WolfpackConfig

ACTIONS: tuple[str, ...] = MOVE_ACTIONS  # the seven movement actions, indices FORWARD..STAY
EVENT_NAMES: tuple[str, ...] = ("captures", "team_captures", "lone_captures", "near_prey")

# (4 orientations, 7 actions, 2) moves and (4, 7) orientations after each action.
MOVE_DELTA, TURN = movement_tables(len(ACTIONS))

__all__ = [
    "ACTIONS",
    "BACKWARD",
    "EMPTY_RGB",
    "EVENT_NAMES",
    "FORWARD",
    "MOVE_DELTA",
    "PREY_MOVES",
    "PREY_RGB",
    "SELF_RGB",
    "STAY",
    "STEP_LEFT",
    "STEP_RIGHT",
    "TURN",
    "TURN_LEFT",
    "TURN_RIGHT",
    "WALL_RGB",
    "WOLF_RGB",
    "WolfpackState",
    "event_names",
    "observe",
    "reset",
    "spaces",
    "step",
]

# The prey's options: stay, north, east, south, west as (drow, dcol); it has no orientation.
PREY_MOVES = np.array([[0, 0], [-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.intp)
PREY_MOVES.flags.writeable = False

# Colours (RGB) shared by observations and rendering, besides `envs.grid`'s empty, wall, self.
PREY_RGB = (255, 0, 0)
WOLF_RGB = (
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (60, 180, 75),
    (170, 110, 40),
    (250, 190, 212),
    (0, 128, 128),
)  # wolf k has colour WOLF_RGB[k % 8]; none is the prey's red, the self blue or wall grey


@dataclass(frozen=True)
class WolfpackState:
    """All B copies of the world at one step.

    Attributes:
        pos: (B, A, 2) int32 (row, col) of the wolves.
        orient: (B, A) int8, 0=N 1=E 2=S 3=W.
        prey: (B, 2) int32 (row, col) of the prey.
        t: (B,) int32, steps taken since reset.
    """

    pos: np.ndarray
    orient: np.ndarray
    prey: np.ndarray
    t: np.ndarray


def reset(cfg: WolfpackConfig, batch_size: int, rng: np.random.Generator) -> WolfpackState:
    """Wolves on distinct random free cells facing random ways; the prey on a random free
    cell not next to a wolf (see `_spawn_prey`)."""
    walls = _walls(cfg.map)
    B, A = batch_size, cfg.num_wolves
    W = walls.shape[1]
    score = rng.random((B, walls.size)) + 2.0 * walls.ravel()  # walls sort last
    cell = np.argsort(score, axis=1)[:, :A]  # (B, A) distinct free cells
    prey = _spawn_prey(walls, cell, rng)  # (B,)
    return WolfpackState(
        pos=np.stack([cell // W, cell % W], axis=-1).astype(np.int32),
        orient=rng.integers(0, 4, size=(B, A), dtype=np.int8),
        prey=np.stack([prey // W, prey % W], axis=-1).astype(np.int32),
        t=np.zeros(B, dtype=np.int32),
    )


def step(
    cfg: WolfpackConfig, state: WolfpackState, actions: np.ndarray, rng: np.random.Generator
) -> tuple[WolfpackState, np.ndarray, dict[str, np.ndarray]]:
    """Advance every copy by one step.

    1. Wolves move and turn (walls and the prey's cell block; collisions as in Commons).
    2. The prey moves (`_prey_move`).
    3. Capture: a wolf orthogonally next to the prey touches it. If any wolf does, every
       wolf within Euclidean distance capture_radius of the prey is rewarded; with n such
       wolves each receives r_lone if n = 1, else r_team * n / 2.
    4. A caught prey respawns (`_spawn_prey`).

    Args:
        cfg: the game settings.
        state: the current state of B copies.
        actions: (B, A) integers in [0, 7), see `ACTIONS`.
        rng: the source of collision priorities, prey moves and respawn cells.
    Returns:
        The new state, rewards (B, A) float32 and events, each (B, A) int32: "captures"
        (touched the prey), "team_captures" (rewarded in a capture with n >= 2),
        "lone_captures" (rewarded alone, n = 1), "near_prey" (within capture_radius of the
        prey after the moves, whether or not it was caught).
    """
    walls = _walls(cfg.map)
    B, A = actions.shape
    W = walls.shape[1]

    # 1. Wolves.
    orient = state.orient.astype(np.intp)
    here = state.pos[..., 0].astype(np.intp) * W + state.pos[..., 1]  # (B, A) flat cell
    prey = state.prey[:, 0].astype(np.intp) * W + state.prey[:, 1]  # (B,)
    delta = MOVE_DELTA[orient, actions]  # (B, A, 2)
    there = here + delta[..., 0] * W + delta[..., 1]
    there = np.where(walls.ravel()[there] | (there == prey[:, None]), here, there)
    cell = resolve_moves(here, there, np.ones((B, A), dtype=bool), rng)
    orient = TURN[orient, actions]  # (B, A) int8

    # 2. Prey.
    prey = _prey_move(cfg, walls, cell, prey, rng)

    # 3. Capture.
    d_row = cell // W - (prey // W)[:, None]  # (B, A)
    d_col = cell % W - (prey % W)[:, None]
    touch = np.abs(d_row) + np.abs(d_col) == 1
    near = d_row**2 + d_col**2 <= cfg.capture_radius**2
    captured = touch.any(axis=1)  # (B,)
    n = near.sum(axis=1)  # (B,) >= 1 wherever captured: the toucher is at distance 1
    rewarded = near & captured[:, None]
    per_wolf = np.where(n >= 2, cfg.r_team * n / 2, cfg.r_lone)  # (B,)
    rewards = (rewarded * per_wolf[:, None]).astype(np.float32)

    # 4. Respawn.
    caught = np.flatnonzero(captured)
    if len(caught):
        prey[caught] = _spawn_prey(walls, cell[caught], rng)

    new = WolfpackState(
        pos=np.stack([cell // W, cell % W], axis=-1).astype(np.int32),
        orient=orient.astype(np.int8),
        prey=np.stack([prey // W, prey % W], axis=-1).astype(np.int32),
        t=state.t + 1,
    )
    events = {
        "captures": touch.astype(np.int32),
        "team_captures": (rewarded & (n >= 2)[:, None]).astype(np.int32),
        "lone_captures": (rewarded & (n == 1)[:, None]).astype(np.int32),
        "near_prey": near.astype(np.int32),
    }
    return new, rewards, events


def observe(cfg: WolfpackConfig, state: WolfpackState) -> np.ndarray:
    """Egocentric RGB windows, rotated so that every wolf faces up (`envs.grid_view.observe`).

    The wolf sits at the centre (row r, col r) in SELF_RGB; the prey is PREY_RGB, other wolves
    WOLF_RGB[k % 8], walls and the outside of the map WALL_RGB, floor black.

    Returns:
        (B, A, V, V, 3) uint8 with V = 2 * view_radius + 1.
    """
    prey = (np.arange(state.prey.shape[0]), state.prey[:, 0], state.prey[:, 1])
    layers = ((prey, PREY_RGB),)
    return grid_view.observe(cfg.map, cfg.view_radius, state.pos, state.orient, layers, WOLF_RGB)


def spaces(cfg: WolfpackConfig) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Discrete]:
    """One wolf's spaces: a (V, V, 3) uint8 window and Discrete(7) `ACTIONS`."""
    return grid_view.egocentric_spaces(cfg.view_size, len(ACTIONS))


def event_names(cfg: WolfpackConfig) -> tuple[str, ...]:
    """The keys of `step`'s events, the same for every config."""
    return EVENT_NAMES


def _prey_move(
    cfg: WolfpackConfig,
    walls: np.ndarray,
    wolves: np.ndarray,
    prey: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Flat prey cells (B,) after its move among stay / N / E / S / W into a free cell.

    With probability prey_flee_prob it flees: it takes the option that maximises the
    Manhattan distance to the nearest wolf (walls ignored in the distance), ties broken at
    random. Otherwise it takes a uniformly random free option (staying included).
    """
    B = prey.shape[0]
    W = walls.shape[1]
    cand = prey[:, None] + PREY_MOVES[:, 0] * W + PREY_MOVES[:, 1]  # (B, 5)
    free = ~walls.ravel()[cand] & ~(cand[:, :, None] == wolves[:, None, :]).any(axis=2)
    dist = np.abs(cand[:, :, None] // W - wolves[:, None, :] // W) + np.abs(
        cand[:, :, None] % W - wolves[:, None, :] % W
    )  # (B, 5, A)
    flees = rng.random(B) < cfg.prey_flee_prob  # (B,)
    score = np.where(flees[:, None], dist.min(axis=2), 0) + 0.5 * rng.random((B, 5))
    score = np.where(free, score, -np.inf)  # staying is always free: wolves cannot enter
    return cand[np.arange(B), np.argmax(score, axis=1)]


def _spawn_prey(walls: np.ndarray, wolves: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat cells (B,): a uniformly random floor cell at Manhattan distance >= 2 from every
    wolf; if none exists, a random floor cell without a wolf."""
    B = wolves.shape[0]
    W = walls.shape[1]
    cells = np.arange(walls.size)  # (H*W,)
    dist = np.abs(cells // W - wolves[:, :, None] // W) + np.abs(
        cells % W - wolves[:, :, None] % W
    )  # (B, A, H*W)
    penalty = 4.0 * walls.ravel() + 2.0 * (dist == 0).any(axis=1) + (dist == 1).any(axis=1)
    return np.argmin(rng.random((B, walls.size)) + penalty, axis=1)


@lru_cache(maxsize=16)
def _walls(ascii_map: tuple[str, ...]) -> np.ndarray:
    """(H, W) bool, read-only: the map's walls and obstacles."""
    walls = np.array([[ch == WALL for ch in row] for row in ascii_map])
    walls.flags.writeable = False
    return walls
