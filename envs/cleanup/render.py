"""Cleanup state -> RGB frames (episodes -> GIF with the shared `envs.render.save_gif`)."""

from __future__ import annotations

import numpy as np

from envs.cleanup.config import CleanupConfig
from envs.cleanup.maps import parse
from envs.cleanup.rules import CLEAN_BEAM_RGB, RIVER_RGB, WASTE_RGB, CleanupState
from envs.grid import AGENT_RGB, APPLE_RGB, BEAM_RGB, EMPTY_RGB, WALL_RGB
from envs.render import draw_agents, save_gif

__all__ = ["render", "save_gif"]


def render(cfg: CleanupConfig, state: CleanupState, index: int = 0, scale: int = 8) -> np.ndarray:
    """The whole map of copy `index`, `scale` pixels per cell.

    Walls grey, clean river and stream grey-blue, waste brown, apples green, cleaning beams
    cyan and tagging beams yellow (those fired this step), each agent in its own colour
    (`AGENT_RGB[k % 10]`) with a dark bar on the side it faces; removed agents are not drawn.

    Returns:
        (H * scale, W * scale, 3) uint8.
    """
    if not 0 <= index < state.t.shape[0]:
        raise ValueError(f"cleanup: render index={index}; allowed 0..{state.t.shape[0] - 1}")
    if scale < 2:
        raise ValueError(f"cleanup: render scale={scale}; must be >= 2")
    lay = parse(cfg.map)
    cells = np.empty(lay.shape + (3,), dtype=np.uint8)  # (H, W, 3)
    cells[:] = EMPTY_RGB
    cells[lay.walls] = WALL_RGB
    cells[lay.river | lay.stream] = RIVER_RGB
    cells[state.waste[index]] = WASTE_RGB
    cells[state.apples[index]] = APPLE_RGB
    cells[state.clean_beams[index]] = CLEAN_BEAM_RGB
    cells[state.beams[index]] = BEAM_RGB
    frame = cells.repeat(scale, axis=0).repeat(scale, axis=1)  # (H*s, W*s, 3)
    show = state.removed_for[index] == 0
    return draw_agents(frame, state.pos[index], state.orient[index], AGENT_RGB, scale, show)
