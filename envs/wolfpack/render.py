"""Wolfpack state -> RGB frames (episodes -> GIF with the shared `envs.render.save_gif`)."""

from __future__ import annotations

import numpy as np

from envs.grid import WALL_RGB
from envs.render import check_index, check_scale, grid_frame, save_gif
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
    check_index("wolfpack", index, state.t.shape[0])
    check_scale("wolfpack", scale, 2)
    walls = _walls(cfg.map)
    H, W = walls.shape
    prey = (int(state.prey[index, 0]), int(state.prey[index, 1]))
    rows, cols = np.ogrid[:H, :W]
    near = (rows - prey[0]) ** 2 + (cols - prey[1]) ** 2 <= cfg.capture_radius**2
    layers = ((near, RADIUS_RGB), (walls, WALL_RGB), (prey, PREY_RGB))
    return grid_frame((H, W), layers, state.pos[index], state.orient[index], WOLF_RGB, scale)
