"""Lewis signalling game state -> RGB frames."""

from __future__ import annotations

import colorsys
from functools import lru_cache

import numpy as np

from envs.render import check_index, check_scale
from envs.signalling.config import SignallingConfig
from envs.signalling.rules import SignallingState

BACKGROUND_RGB = (16, 16, 16)
TILE_RGB = (48, 48, 48)
UNSPOKEN_RGB = (80, 80, 80)
TARGET_RGB = (255, 255, 255)
RIGHT_RGB = (0, 220, 0)
WRONG_RGB = (230, 0, 0)


def render(
    cfg: SignallingConfig, state: SignallingState, index: int = 0, scale: int = 8
) -> np.ndarray:
    """One panel per speaker/listener pair of copy `index`, stacked top to bottom.

    A panel shows the message on top, token v as a square of hue v / V (grey while not yet
    spoken), and below it the K candidates in the listener's order: attribute i of a
    candidate is a bar of hue i / n_attributes whose height and brightness grow with its value.
    A white line marks the target; once the listener has chosen, its pick is framed in green
    (right) or red (wrong).

    Returns:
        (H, W, 3) uint8; W = scale * (1 + max(K * (n_attributes + 2), 2.5 L)), H grows with P.
    """
    check_index("signalling", index, state.t.shape[0])
    check_scale("signalling", scale, 4)
    panels = [_panel(cfg, state, index, p, scale) for p in range(cfg.pairs)]
    line = np.full((2, panels[0].shape[1], 3), UNSPOKEN_RGB, dtype=np.uint8)
    stacked = [panels[0]]
    for panel in panels[1:]:
        stacked += [line, panel]
    return np.concatenate(stacked, axis=0)


def _panel(cfg: SignallingConfig, state: SignallingState, b: int, p: int, s: int) -> np.ndarray:
    """(H, W, 3) uint8 picture of pair `p` of copy `b` with unit `s` pixels."""
    L, K, n_attr, n_val = cfg.message_length, cfg.num_candidates, cfg.n_attributes, cfg.n_values
    square, gap = 2 * s, s // 2
    tile_w, bar_h = (n_attr + 1) * s, 4 * s
    width = s + max(K * (tile_w + s), L * (square + gap))
    height = s + square + s + bar_h + s + s // 2 + s
    frame = np.full((height, width, 3), BACKGROUND_RGB, dtype=np.uint8)

    tokens = _hues(cfg.vocab_size)
    for j, token in enumerate(state.message[b, p]):  # L squares
        x = s + j * (square + gap)
        frame[s : s + square, x : x + square] = UNSPOKEN_RGB if token < 0 else tokens[token]

    top = s + square + s
    bars = _hues(n_attr)  # (n_attr, 3)
    for k in range(K):
        x = s + k * (tile_w + s)
        tile = frame[top : top + bar_h, x : x + tile_w]
        tile[:] = TILE_RGB
        for i, value in enumerate(state.candidates[b, p, k]):
            h = max(1, round((int(value) + 1) * (bar_h - 2) / n_val))
            shade = 0.35 + 0.65 * (int(value) + 1) / n_val
            left = s // 2 + i * s
            tile[bar_h - 1 - h : bar_h - 1, left + 1 : left + s - 1] = bars[i] * shade
        if k == state.target[b, p]:
            frame[top + bar_h + 2 : top + bar_h + 2 + s // 2, x : x + tile_w] = TARGET_RGB
        if k == state.choice[b, p]:
            colour = RIGHT_RGB if k == state.target[b, p] else WRONG_RGB
            y0, y1, x0, x1 = top - 3, top + bar_h + 1, x - 3, x + tile_w + 1
            frame[y0 : y0 + 2, x0 : x1 + 2] = frame[y1 : y1 + 2, x0 : x1 + 2] = colour
            frame[y0 : y1 + 2, x0 : x0 + 2] = frame[y0 : y1 + 2, x1 : x1 + 2] = colour
    return frame


@lru_cache(maxsize=32)
def _hues(n: int) -> np.ndarray:
    """(n, 3) uint8: n saturated colours evenly spread around the hue circle."""
    rgb = [colorsys.hsv_to_rgb(i / n, 0.85, 1.0) for i in range(n)]
    out = np.round(np.array(rgb) * 255).astype(np.uint8)
    out.flags.writeable = False
    return out
