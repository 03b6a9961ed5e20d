"""Speaker-listener state -> RGB frames: landmarks, speaker and listener as discs, and the
token the listener hears."""

from __future__ import annotations

import numpy as np

from envs.render import check_index, check_scale, disc_frame
from envs.speaker_listener.config import SpeakerListenerConfig
from envs.speaker_listener.rules import (
    AGENT_SIZE,
    LANDMARK_COLOURS,
    LANDMARK_SIZE,
    LISTENER,
    SPEAKER,
    VOCAB_SIZE,
    SpeakerListenerState,
)

SPEAKER_RGB = (64, 64, 64)  # mpe2's (0.25, 0.25, 0.25)
GOAL_TINT = 0.45  # mpe2 colours the listener as its goal landmark + 0.45


def render(
    cfg: SpeakerListenerConfig, state: SpeakerListenerState, index: int = 0, size: int = 256
) -> np.ndarray:
    """Copy `index` seen from above (`envs.render.disc_frame`): the landmarks in their colours,
    the speaker grey and the listener in its goal's colour lightened (as mpe2 draws them),
    agents outlined; along the top edge the token the listener hears (3 cells, the heard one
    black; none before the first step or on a cut channel).

    Returns:
        (size, size, 3) uint8.
    """
    check_index("speaker_listener", index, len(state.t))
    check_scale("speaker_listener", size, 16, what="size")
    landmark_rgb = (LANDMARK_COLOURS * 255).astype(np.uint8)
    listener_rgb = (np.minimum(LANDMARK_COLOURS[state.goal[index]] + GOAL_TINT, 1) * 255).astype(
        np.uint8
    )
    discs = [
        (q, LANDMARK_SIZE, rgb) for q, rgb in zip(state.landmarks[index], landmark_rgb, strict=True)
    ]
    discs.append((state.pos[index, SPEAKER], AGENT_SIZE, SPEAKER_RGB))
    discs.append((state.pos[index, LISTENER], AGENT_SIZE, listener_rgb))
    outline = [False] * (len(discs) - 2) + [True, True]
    return disc_frame(discs, size, outline, tokens=[(int(state.heard[index]), VOCAB_SIZE)])
