"""What an agent of a grid world (Commons, Cleanup, Wolfpack) sees: an egocentric RGB window.

The window is (V, V), V = 2r + 1 for view radius r, rotated so that the agent faces up, as in
Leibo et al. 2017 and the sequential social dilemma games. `observe` draws the map's terrain,
the world's layers (apples, beams, prey, ...) and the agents as small integer codes into a
padded grid, gathers every agent's window at once with per-orientation flat offset tables
(`view_offsets`, `view_codes`), and colours the codes through a palette at the end.
`talk_channels` gathers, the same way, the tokens that the agents in view said (cheap talk).
`egocentric_spaces` are the spaces every grid world has.

References:
    Leibo et al. 2017, "Multi-agent reinforcement learning in sequential social dilemmas",
    AAMAS. Vinitsky et al., sequential_social_dilemma_games (`map_env.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import gymnasium
import numpy as np

from envs.grid import DIRS, EMPTY_RGB, RGB, SELF_RGB, WALL_CHAR, WALL_RGB


@lru_cache(maxsize=16)
def view_offsets(radius: int, row_stride: int) -> np.ndarray:
    """(4, V*V) flat offsets, V = 2 * radius + 1, read-only: view cell (i, j) of an agent
    facing o is the map cell (radius - i) steps ahead and (j - radius) steps to its right.

    With `row_stride` the width of a grid padded by `radius`, adding an agent's flat centre
    to row o gathers its whole rotated window in one `np.take` (see `view_codes`).
    """
    steps = np.arange(2 * radius + 1) - radius
    ahead, right = -steps[:, None], steps[None, :]  # (V, 1), (1, V)
    out = np.empty((4, (2 * radius + 1) ** 2), dtype=np.intp)
    for o in range(4):
        d = ahead[..., None] * DIRS[o] + right[..., None] * DIRS[(o + 1) % 4]  # (V, V, 2)
        out[o] = (d[..., 0] * row_stride + d[..., 1]).ravel()
    out.flags.writeable = False
    return out


def view_codes(grid: np.ndarray, pos: np.ndarray, orient: np.ndarray, radius: int) -> np.ndarray:
    """Egocentric windows of cell codes, rotated so that every agent faces up.

    Args:
        grid: (B, H + 2r, W + 2r) cell codes of each copy, the map padded by r = `radius`
            cells on every side (so that no window leaves the array).
        pos: (B, A, 2) (row, col) of the agents in the unpadded map.
        orient: (B, A) orientations.
        radius: r.
    Returns:
        (B, A, V*V) codes, V = 2r + 1, row-major over the (V, V) window: the agent at the
        centre (index V*V // 2), its front at the top.
    """
    B, Hp, Wp = grid.shape
    centre = (pos[..., 0].astype(np.intp) + radius) * Wp + pos[..., 1] + radius  # (B, A)
    centre += (np.arange(B) * (Hp * Wp))[:, None]
    idx = view_offsets(radius, Wp)[orient.astype(np.intp)]  # (B, A, V*V)
    idx += centre[..., None]
    return np.take(grid.ravel(), idx)


def egocentric_spaces(
    view_size: int, num_actions: int, talk_vocab: int = 0
) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Discrete]:
    """One agent's spaces in a grid world: a (V, V, 3 + talk_vocab) uint8 window (RGB, then
    one channel per token, `talk_channels`) and Discrete actions."""
    V = view_size
    box = gymnasium.spaces.Box(0, 255, (V, V, 3 + talk_vocab), np.uint8)
    return box, gymnasium.spaces.Discrete(num_actions)


def talk_channels(
    shape: tuple[int, int],
    radius: int,
    pos: np.ndarray,
    orient: np.ndarray,
    heard: np.ndarray,
    vocab: int,
    on_map: np.ndarray,
) -> np.ndarray:
    """The tokens each agent hears, laid over its egocentric window: channel k of a view cell
    is 255 where an agent on the map stands there and was heard saying token k this step.

    An agent hears every other agent within its window ("heard by all within its view"), not
    itself: its own cell, the centre, is always 0, so a cut channel leaves no trace of any
    message in the observation. Agents off the map neither are heard nor hear (all zeros).

    Args:
        shape: (H, W) of the map.
        radius: r; the window is S x S, S = 2r + 1.
        pos: (B, A, 2) (row, col) of the agents.
        orient: (B, A) their orientations.
        heard: (B, A) int, the token heard from each agent in [0, vocab), or SILENT (-1).
        vocab: V >= 1, the number of channels.
        on_map: (B, A) bool, the agents in the game.
    Returns:
        (B, A, S, S, V) uint8, 0 or 255.
    """
    B, A = orient.shape
    H, W = shape
    r, S = radius, 2 * radius + 1
    grid = np.zeros((B, H + 2 * r, W + 2 * r), dtype=np.int16)  # token + 1 where said, else 0
    bi, ai = np.nonzero(on_map & (heard >= 0))
    grid[bi, pos[bi, ai, 0] + r, pos[bi, ai, 1] + r] = heard[bi, ai] + 1
    codes = view_codes(grid, pos, orient, r)  # (B, A, S*S)
    codes[..., (S * S) // 2] = 0  # not oneself
    codes[~on_map] = 0
    hot = codes[..., None] == np.arange(1, vocab + 1, dtype=np.int16)  # (B, A, S*S, V)
    return (hot.view(np.uint8) * np.uint8(255)).reshape(B, A, S, S, vocab)


def observe(
    ascii_map: tuple[str, ...],
    radius: int,
    pos: np.ndarray,
    orient: np.ndarray,
    layers: Sequence[tuple[Any, RGB]],
    agent_rgb: Sequence[RGB],
    terrain: tuple[tuple[str, RGB], ...] = (),
    on_map: np.ndarray | None = None,
) -> np.ndarray:
    """Egocentric RGB windows, rotated so that every agent faces up.

    Drawn from the bottom up: the floor EMPTY_RGB, walls and the outside of the map
    WALL_RGB, the map characters of each `terrain` entry in its colour; then the `layers` in
    order; then the agents on the map (agent k in agent_rgb[k % len(agent_rgb)]), each seeing
    itself at the centre (row r, col r) in SELF_RGB. Agents off the map see all zeros (the
    empty colour is black). Cells are drawn as codes into a padded grid, gathered with
    per-orientation offset tables (`view_codes`) and coloured through a palette at the end.

    Args:
        ascii_map: the world's map ('@' walls).
        radius: r; the window is V x V, V = 2r + 1.
        pos: (B, A, 2) (row, col) of the agents.
        orient: (B, A) their orientations.
        layers: (where, rgb) pairs; `where` indexes the (B, H, W) map: a bool mask or a tuple
            (copy, row, col) of index arrays.
        agent_rgb: the agents' colours, cycled.
        terrain: (characters, rgb) pairs, static cells of the map in their colour.
        on_map: (B, A) bool, the agents in the game (default all).
    Returns:
        (B, A, V, V, 3) uint8.
    """
    B, A = orient.shape
    H, W = len(ascii_map), len(ascii_map[0])
    r, V = radius, 2 * radius + 1
    grid = np.repeat(_terrain_codes(ascii_map, r, tuple(c for c, _ in terrain))[None], B, axis=0)
    inner = grid[:, r : r + H, r : r + W]  # (B, H, W) view of the padded (B, H+2r, W+2r)
    first_layer = 2 + len(terrain)  # codes: 0 empty, 1 wall, terrain, layers, self, agents
    for code, (where, _) in enumerate(layers, start=first_layer):
        inner[where] = code
    self_code = first_layer + len(layers)
    on_map = np.ones((B, A), dtype=bool) if on_map is None else on_map
    bi, ai = np.nonzero(on_map)
    inner[bi, pos[bi, ai, 0], pos[bi, ai, 1]] = self_code + 1 + ai

    codes = view_codes(grid, pos, orient, r)  # (B, A, V*V) uint8
    codes[..., (V * V) // 2] = self_code
    codes[~on_map] = 0
    colours = (EMPTY_RGB, WALL_RGB, *(c for _, c in terrain), *(c for _, c in layers))
    palette = _palette(colours, tuple(agent_rgb), A)
    return np.take(palette, codes, axis=0).reshape(B, A, V, V, 3)


@lru_cache(maxsize=32)
def _palette(colours: tuple[RGB, ...], agent_rgb: tuple[RGB, ...], num_agents: int) -> np.ndarray:
    """(len(colours) + 1 + A, 3) uint8, read-only: the colour of each cell code of `observe`."""
    agents = [agent_rgb[k % len(agent_rgb)] for k in range(num_agents)]
    palette = np.array([*colours, SELF_RGB, *agents], dtype=np.uint8)
    palette.flags.writeable = False
    return palette


@lru_cache(maxsize=32)
def _terrain_codes(ascii_map: tuple[str, ...], pad: int, terrain: tuple[str, ...]) -> np.ndarray:
    """(H+2p, W+2p) uint8, read-only: 1 on walls and outside, 2 + i on the characters of
    terrain[i], 0 elsewhere."""
    chars = np.array([list(row) for row in ascii_map])  # (H, W) str
    codes = np.zeros(chars.shape, dtype=np.uint8)
    for i, legend in enumerate(terrain):
        codes[np.isin(chars, list(legend))] = 2 + i
    codes[chars == WALL_CHAR] = 1
    codes = np.pad(codes, pad, constant_values=1)
    codes.flags.writeable = False
    return codes
