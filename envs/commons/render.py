"""Commons Harvest state -> RGB frames, and episodes -> GIF."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from envs.commons.config import CommonsConfig
from envs.commons.maps import parse
from envs.commons.rules import AGENT_RGB, APPLE_RGB, BEAM_RGB, EMPTY_RGB, WALL_RGB, CommonsState


def render(cfg: CommonsConfig, state: CommonsState, index: int = 0, scale: int = 8) -> np.ndarray:
    """The whole map of copy `index`, `scale` pixels per cell.

    Apples green, walls grey, beams fired this step yellow, each agent in its own colour
    (`AGENT_RGB[k % 10]`) with a dark bar on the side it faces; removed agents are not drawn.

    Returns:
        (H * scale, W * scale, 3) uint8.
    """
    if not 0 <= index < state.t.shape[0]:
        raise ValueError(f"commons: render index={index}; allowed 0..{state.t.shape[0] - 1}")
    if scale < 2:
        raise ValueError(f"commons: render scale={scale}; must be >= 2")
    lay = parse(cfg.map)
    cells = np.empty(lay.shape + (3,), dtype=np.uint8)  # (H, W, 3)
    cells[:] = EMPTY_RGB
    cells[lay.walls] = WALL_RGB
    cells[state.apples[index]] = APPLE_RGB
    cells[state.beams[index]] = BEAM_RGB
    frame = cells.repeat(scale, axis=0).repeat(scale, axis=1)  # (H*s, W*s, 3)
    bar = max(1, scale // 4)
    for k in np.flatnonzero(state.removed_for[index] == 0):  # at most A agents
        r, c = (int(v) * scale for v in state.pos[index, k])
        tile = frame[r : r + scale, c : c + scale]
        tile[:] = AGENT_RGB[k % len(AGENT_RGB)]
        facing = int(state.orient[index, k])  # 0=N 1=E 2=S 3=W
        edge = (slice(0, bar), slice(scale - bar, scale), slice(scale - bar, scale), slice(0, bar))
        if facing in (0, 2):
            tile[edge[facing], :] = (32, 32, 32)
        else:
            tile[:, edge[facing]] = (32, 32, 32)
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
