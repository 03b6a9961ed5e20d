"""Wolfpack state -> RGB frames (episodes -> GIF with `save_gif`, shared with Commons)."""

from __future__ import annotations

import numpy as np

from envs.commons.render import save_gif
from envs.wolfpack.config import WolfpackConfig
from envs.wolfpack.rules import EMPTY_RGB, PREY_RGB, WALL_RGB, WOLF_RGB, WolfpackState, _walls

RADIUS_RGB = (40, 40, 0)  # floor within the capture radius of the prey (render only)


def render(cfg: WolfpackConfig, state: WolfpackState, index: int = 0, scale: int = 8) -> np.ndarray:
    """The whole map of copy `index`, `scale` pixels per cell.

    Walls grey, the prey red, floor within capture_radius of the prey dark olive, each wolf
    in its own colour (`WOLF_RGB[k % 8]`) with a dark bar on the side it faces.

    Returns:
        (H * scale, W * scale, 3) uint8.
    """
    if not 0 <= index < state.t.shape[0]:
        raise ValueError(f"wolfpack: render index={index}; allowed 0..{state.t.shape[0] - 1}")
    if scale < 2:
        raise ValueError(f"wolfpack: render scale={scale}; must be >= 2")
    walls = _walls(cfg.map)
    H, W = walls.shape
    cells = np.empty((H, W, 3), dtype=np.uint8)
    cells[:] = EMPTY_RGB
    prey_row, prey_col = (int(v) for v in state.prey[index])
    rows, cols = np.ogrid[:H, :W]
    cells[(rows - prey_row) ** 2 + (cols - prey_col) ** 2 <= cfg.capture_radius**2] = RADIUS_RGB
    cells[walls] = WALL_RGB
    cells[prey_row, prey_col] = PREY_RGB
    frame = cells.repeat(scale, axis=0).repeat(scale, axis=1)  # (H*s, W*s, 3)
    bar = max(1, scale // 4)
    edge = (slice(0, bar), slice(scale - bar, scale), slice(scale - bar, scale), slice(0, bar))
    for k in range(state.pos.shape[1]):  # at most A wolves
        r, c = (int(v) * scale for v in state.pos[index, k])
        tile = frame[r : r + scale, c : c + scale]
        tile[:] = WOLF_RGB[k % len(WOLF_RGB)]
        facing = int(state.orient[index, k])  # 0=N 1=E 2=S 3=W
        if facing in (0, 2):
            tile[edge[facing], :] = (32, 32, 32)
        else:
            tile[:, edge[facing]] = (32, 32, 32)
    return frame


__all__ = ["render", "save_gif"]
