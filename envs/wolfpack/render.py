"""Wolfpack state -> RGB frames (episodes -> GIF with the shared `envs.render.save_gif`)."""

from __future__ import annotations

import numpy as np

from envs.grid import EMPTY_RGB, WALL_RGB
from envs.render import draw_agents, save_gif
from envs.wolfpack.config import WolfpackConfig
from envs.wolfpack.rules import PREY_RGB, WOLF_RGB, WolfpackState, _walls

__all__ = ["render", "save_gif"]

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
    return draw_agents(frame, state.pos[index], state.orient[index], WOLF_RGB, scale)
