"""Rendering helpers shared by the worlds: argument checks for every world, the map frame
of the grid worlds, and episodes -> GIF for every world.

Each world's own `render` draws its state as an (H, W, 3) uint8 RGB frame, after
`check_index` and `check_scale`; the grid worlds (Commons, Cleanup, Wolfpack) paint their
cells with `grid_frame`, which draws the agents with `draw_agents`; the particle worlds
(speaker-listener, reference) draw discs with `disc_frame`. `save_gif` writes a
sequence of frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from envs.grid import EMPTY_RGB, RGB

FACING_RGB = (32, 32, 32)  # the bar on the side an agent faces


def check_index(world: str, index: int, batch_size: int) -> None:
    """Raise a one-line ValueError unless 0 <= index < batch_size."""
    if not 0 <= index < batch_size:
        raise ValueError(f"{world}: render index={index}; allowed 0..{batch_size - 1}")


def check_scale(world: str, scale: int, minimum: int, what: str = "scale") -> None:
    """Raise a one-line ValueError unless scale >= minimum (`what` names the argument)."""
    if scale < minimum:
        raise ValueError(f"{world}: render {what}={scale}; must be >= {minimum}")


def grid_frame(
    shape: tuple[int, int],
    layers: Sequence[tuple[Any, RGB]],
    pos: np.ndarray,
    orient: np.ndarray,
    agent_rgb: Sequence[RGB],
    scale: int,
    show: np.ndarray | None = None,
) -> np.ndarray:
    """A grid world's map, `scale` pixels per cell: the floor EMPTY_RGB, each (where, rgb)
    layer painted over it in order (`where` indexes the (H, W) map: a bool mask or a
    (row, col) pair), then the agents (`draw_agents`).

    Args:
        shape: (H, W) of the map.
        layers: the cells to paint, bottom first.
        pos, orient, agent_rgb, show: the agents, as `draw_agents` takes them.
        scale: pixels per cell, >= 2.
    Returns:
        (H * scale, W * scale, 3) uint8.
    """
    cells = np.empty((*shape, 3), dtype=np.uint8)  # (H, W, 3)
    cells[:] = EMPTY_RGB
    for where, rgb in layers:
        cells[where] = rgb
    frame = cells.repeat(scale, axis=0).repeat(scale, axis=1)  # (H*s, W*s, 3)
    return draw_agents(frame, pos, orient, agent_rgb, scale, show)


def draw_agents(
    frame: np.ndarray,
    pos: np.ndarray,
    orient: np.ndarray,
    colours: Sequence[tuple[int, int, int]],
    scale: int,
    show: np.ndarray | None = None,
) -> np.ndarray:
    """Paint agent k as a `scale` x `scale` tile of colours[k % len(colours)] with a dark
    bar (a quarter of the tile, at least one pixel) on the side it faces; in place.

    Args:
        frame: (H * scale, W * scale, 3) uint8, the map upscaled `scale` times.
        pos: (A, 2) (row, col) of the agents.
        orient: (A,) orientations, 0=N 1=E 2=S 3=W.
        colours: the agents' colours, cycled.
        scale: pixels per cell, >= 2.
        show: (A,) bool, the agents to draw (default all).
    Returns:
        `frame`.
    """
    bar = max(1, scale // 4)
    edge = (slice(0, bar), slice(scale - bar, scale), slice(scale - bar, scale), slice(0, bar))
    agents = range(len(pos)) if show is None else np.flatnonzero(show)
    for k in agents:  # at most A agents
        r, c = (int(v) * scale for v in pos[k])
        tile = frame[r : r + scale, c : c + scale]
        tile[:] = colours[k % len(colours)]
        facing = int(orient[k])
        if facing in (0, 2):
            tile[edge[facing], :] = FACING_RGB
        else:
            tile[:, edge[facing]] = FACING_RGB
    return frame


def disc_frame(
    discs: Sequence[tuple[np.ndarray, float, Sequence[int]]],
    size: int,
    outline: Sequence[bool] | None = None,
    tokens: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """The plane seen from above, x to the right and y up, as mpe2 draws it: discs on white,
    painted in order; for the particle worlds (speaker-listener, reference).

    The view is the square [-c, c]^2 with c = max(1, largest |coordinate| + largest radius),
    so every disc stays in the frame.

    Args:
        discs: (centre (2,), radius, rgb) of each disc.
        size: pixels per side, >= 16.
        outline: per disc, whether to give it a black outline (default none).
        tokens: (token, vocabulary size) of each token to show, as strips of V cells
            stacked along the top edge, the token's cell black (SILENT = -1: all empty).
    Returns:
        (size, size, 3) uint8.
    """
    centres = np.array([d[0] for d in discs], dtype=np.float64).reshape(-1, 2)
    reach = max((d[1] for d in discs), default=0.0)
    c = max(1.0, float(np.abs(centres).max(initial=0.0)) + reach)
    pixel = 2 * c / size  # world units per pixel
    axis = (np.arange(size) + 0.5) * pixel - c
    x, y = axis[None, :], axis[::-1, None]  # (1, W) and (H, 1): row 0 is the top
    frame = np.full((size, size, 3), 255, dtype=np.uint8)
    for k, (centre, radius, rgb) in enumerate(discs):
        d2 = (x - centre[0]) ** 2 + (y - centre[1]) ** 2  # (H, W)
        if outline is not None and outline[k]:
            frame[d2 <= radius**2] = 0
            frame[d2 <= max(radius - 1.5 * pixel, 0.0) ** 2] = rgb
        else:
            frame[d2 <= radius**2] = rgb
    top = 0
    for said, vocab_size in tokens:
        cell = max(1, size // (4 * vocab_size))
        rows = frame[top : top + cell, : cell * vocab_size]  # (cell, V cell, 3) view
        strip = rows.reshape(len(rows), vocab_size, cell, 3)
        strip[:] = 200
        strip[1:-1, :, 1:-1] = 255
        if 0 <= said < vocab_size:
            strip[:, said] = 0
        top += cell
    return frame


def save_gif(frames: Sequence[np.ndarray], path: str | Path, fps: int = 10) -> Path:
    """Write RGB frames (each (H, W, 3) uint8) as a looping GIF; return the path.

    Pillow merges identical consecutive frames into one longer frame; playback is unchanged.
    """
    if len(frames) == 0:
        raise ValueError("save_gif: no frames to write")
    if fps <= 0:
        raise ValueError(f"save_gif: fps={fps}; must be > 0")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
    )
    return path
