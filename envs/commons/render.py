"""Commons Harvest state -> RGB frames (episodes -> GIF with the shared `envs.render.save_gif`)."""

from __future__ import annotations

import numpy as np

from envs.commons.config import CommonsConfig
from envs.commons.maps import parse
from envs.commons.rules import CommonsState
from envs.grid import AGENT_RGB, APPLE_RGB, BEAM_RGB, WALL_RGB, mark_tokens
from envs.render import check_index, check_scale, grid_frame, save_gif

__all__ = ["render", "save_gif"]


def render(cfg: CommonsConfig, state: CommonsState, index: int = 0, scale: int = 8) -> np.ndarray:
    """The whole map of copy `index`, `scale` pixels per cell.

    Apples green, walls grey, beams fired this step yellow, each agent in its own colour
    (`AGENT_RGB[k % 10]`) with a dark bar on the side it faces and, with talk, a small square
    at its centre in the colour of the token it said (`envs.grid.mark_tokens`); removed agents
    are not drawn.

    Returns:
        (H * scale, W * scale, 3) uint8.
    """
    check_index("commons", index, state.t.shape[0])
    check_scale("commons", scale, 2)
    lay = parse(cfg.map)
    layers = (
        (lay.walls, WALL_RGB),
        (state.apples[index], APPLE_RGB),
        (state.beams[index], BEAM_RGB),
    )
    show = state.removed_for[index] == 0
    frame = grid_frame(
        lay.shape, layers, state.pos[index], state.orient[index], AGENT_RGB, scale, show
    )
    if state.said is None:
        return frame
    return mark_tokens(frame, state.pos[index], state.said[index], scale, show)
