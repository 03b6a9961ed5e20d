"""The house style of every figure, applied with a context rather than at import.

Reports are files, never windows: `styled()` also selects the non-interactive Agg backend, so
a report can be drawn on a headless node or in a Ray worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

STYLE = {
    "figure.dpi": 120,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 10,
}
LEARNED, RANDOM = "#1f5fa8", "#9a9a9a"
"""Colours of the learned policy and of its random-play baseline."""
PALETTE = ("#1f5fa8", "#d1495b", "#2e933c", "#edae49", "#6c4f9c", "#00798c", "#8d6a9f", "#30638e")
"""Colours of several models or settings side by side."""


@contextmanager
def styled() -> Iterator[None]:
    """Figures drawn inside get the house style; matplotlib's settings are restored after."""
    matplotlib.use("Agg")
    with matplotlib.rc_context(STYLE):
        yield
