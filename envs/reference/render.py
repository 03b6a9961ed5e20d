"""Reference state -> RGB frames: landmarks and agents as discs, and the tokens heard."""

from __future__ import annotations

import numpy as np

from envs.reference.config import ReferenceConfig
from envs.reference.rules import (
    AGENT_SIZE,
    LANDMARK_COLOURS,
    LANDMARK_SIZE,
    OTHER,
    VOCAB_SIZE,
    ReferenceState,
)
from envs.render import check_index, check_scale, disc_frame


def render(
    cfg: ReferenceConfig, state: ReferenceState, index: int = 0, size: int = 256
) -> np.ndarray:
    """Copy `index` seen from above (`envs.render.disc_frame`): the landmarks in their colours,
    each agent, outlined, in the colour of its own target (the landmark the other agent knows,
    as mpe2 colours them); along the top edge the tokens agents 0 and 1 hear, one strip of 10
    cells each, the heard token black.

    Returns:
        (size, size, 3) uint8.
    """
    check_index("reference", index, len(state.t))
    check_scale("reference", size, 16, what="size")
    landmark_rgb = (LANDMARK_COLOURS * 255).astype(np.uint8)
    target_rgb = landmark_rgb[state.goal[index, OTHER]]  # (2, 3) agent i's target is g_j
    discs = [
        (q, LANDMARK_SIZE, rgb) for q, rgb in zip(state.landmarks[index], landmark_rgb, strict=True)
    ]
    discs += [(p, AGENT_SIZE, rgb) for p, rgb in zip(state.pos[index], target_rgb, strict=True)]
    outline = [False] * (len(discs) - 2) + [True, True]
    heard = state.heard[index, OTHER]  # what agent 0 and agent 1 hear
    return disc_frame(discs, size, outline, tokens=[(int(h), VOCAB_SIZE) for h in heard])
