"""Rendering helpers shared by the worlds: oriented agent tiles for the grid worlds, and
episodes -> GIF for every world.

Each world's own `render` draws its state as an (H, W, 3) uint8 RGB frame; `save_gif` writes
a sequence of such frames, and `draw_agents` paints the agents of Commons, Cleanup and
Wolfpack onto an upscaled map.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

FACING_RGB = (32, 32, 32)  # the bar on the side an agent faces


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
