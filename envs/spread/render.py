"""Spread state -> RGB frames: landmarks and agents as discs on a white canvas."""

from __future__ import annotations

import numpy as np

from envs.render import check_index, check_scale
from envs.spread.config import SpreadConfig
from envs.spread.rules import AGENT_SIZE, LANDMARK_SIZE, SpreadState

AGENT_RGB = np.array(
    [
        (89, 89, 217),  # mpe2's agent colour (0.35, 0.35, 0.85) * 255
        (217, 89, 89),
        (89, 179, 89),
        (217, 166, 64),
        (153, 89, 204),
        (64, 179, 191),
        (204, 102, 166),
        (128, 128, 64),
    ],
    dtype=np.uint8,
)  # agent k: AGENT_RGB[k % 8]
LANDMARK_RGB = np.array((64, 64, 64), dtype=np.uint8)  # mpe2's (0.25, 0.25, 0.25) * 255
OUTLINE_RGB = np.array((0, 0, 0), dtype=np.uint8)


def render(cfg: SpreadConfig, state: SpreadState, index: int = 0, size: int = 256) -> np.ndarray:
    """Copy `index` seen from above, x to the right and y up, as mpe2 draws it (the frame
    depends on the state alone; `cfg` keeps the form every world's render has).

    The view is the square [-c, c]^2 with c = max(1, largest |coordinate| + agent size), so
    every entity stays in the frame; agents have radius 0.15 with a black outline, landmarks
    are grey discs of radius 0.05.

    Returns:
        (size, size, 3) uint8.
    """
    check_index("spread", index, state.pos.shape[0])
    check_scale("spread", size, 16, what="size")
    pos, landmarks = state.pos[index], state.landmarks[index]  # (N, 2) each
    c = max(1.0, float(np.abs(np.concatenate([pos, landmarks])).max()) + AGENT_SIZE)
    pixel = 2 * c / size  # world units per pixel
    centres = (np.arange(size) + 0.5) * pixel - c
    x, y = centres[None, :], centres[::-1, None]  # (1, W) and (H, 1): row 0 is the top
    frame = np.full((size, size, 3), 255, dtype=np.uint8)
    for q in landmarks:
        frame[(x - q[0]) ** 2 + (y - q[1]) ** 2 <= LANDMARK_SIZE**2] = LANDMARK_RGB
    for k, p in enumerate(pos):
        d2 = (x - p[0]) ** 2 + (y - p[1]) ** 2  # (H, W)
        frame[d2 <= AGENT_SIZE**2] = OUTLINE_RGB
        frame[d2 <= (AGENT_SIZE - 1.5 * pixel) ** 2] = AGENT_RGB[k % len(AGENT_RGB)]
    return frame
