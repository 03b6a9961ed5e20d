"""Rendering helpers shared by the worlds: argument checks for every world, the map frame
of the grid worlds, and episodes -> GIF for every world.

Each world's own `render` draws its state as an (H, W, 3) uint8 RGB frame, after
`check_index` and `check_scale`; the grid worlds (Commons, Cleanup, Wolfpack) paint their
cells with `grid_frame`, which draws the agents with `draw_agents`. `save_gif` writes a
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
