"""What each world's report measures and says: its emergence metrics, their meaning, and the
literature its trends are compared with, one file per world with its thresholds named.

The RL kind calls `analysis(env).summarize(rewards, events)` on every evaluation's episode log
(the scalars go to metrics.jsonl); the report plots `metrics` over training and against a
swept value, and writes `verdict(rows)`, a paragraph computed from the measured numbers.
A world without an entry gets returns and per-event counts only (`PLAIN`).
"""

from __future__ import annotations

from emergent.worlds import (
    cleanup,
    commons,
    reference,
    signalling,
    speaker_listener,
    spread,
    wolfpack,
)
from emergent.worlds.base import PLAIN, WorldAnalysis, eval_rows, final_rows

WORLDS: dict[str, WorldAnalysis] = {
    "commons": commons.ANALYSIS,
    "cleanup": cleanup.ANALYSIS,
    "wolfpack": wolfpack.ANALYSIS,
    "spread": spread.ANALYSIS,
    "signalling": signalling.ANALYSIS,
    "speaker_listener": speaker_listener.ANALYSIS,
    "reference": reference.ANALYSIS,
}


def analysis(env_name: str) -> WorldAnalysis:
    """The world's analysis, or returns and event counts only for a world without one."""
    return WORLDS.get(env_name, PLAIN)


__all__ = ["PLAIN", "WORLDS", "WorldAnalysis", "analysis", "eval_rows", "final_rows"]
