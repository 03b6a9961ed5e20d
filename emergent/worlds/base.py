"""What a world's report measures and says: the record each world's analysis fills in, and the
helpers its verdicts share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Summary = Callable[[np.ndarray, dict[str, np.ndarray]], dict[str, float]]


@dataclass(frozen=True)
class WorldAnalysis:
    """How one world's emergent behaviour is measured and described."""

    heading: str
    """Title of the report's metric section, with its reference."""
    explanation: str
    """The metrics' definitions (formulas), shown above the table."""
    metrics: tuple[str, ...]
    """Keys of `summarize`'s output plotted over training and against a swept value."""
    labels: dict[str, str]
    """Axis label of each metric."""
    summarize: Summary
    """(rewards (B, T, A), events {name: (B, T, A)}) -> scalar metrics of the episodes."""
    learned: str = "learned"
    """Verb phrase for a clear improvement over random ('learned to harvest')."""
    verdict: Callable[[list[dict]], str] | None = None
    """A paragraph on the emergent behaviour, from the metrics rows (may be empty)."""
    literature: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)
    """Swept key -> metric -> (expected sign of the trend as the value grows, the claim)."""
    per_agent: dict[str, str] = field(default_factory=dict)
    """Bar title -> event: per-agent episode totals plotted for the final evaluation (roles)."""
    counted_events: tuple[str, ...] | None = None
    """Events whose per-agent episode totals are logged (None: all; codes such as tokens are
    not counts)."""


def eval_rows(rows: list[dict], policy: str) -> list[dict]:
    """Evaluation rows of one policy ('learned' or 'random'), by step."""
    found = [r for r in rows if r.get("kind") == "eval" and r.get("policy") == policy]
    return sorted(found, key=lambda r: r["step"])


def final_rows(rows: list[dict]) -> tuple[dict, dict]:
    """The last evaluation row of the learned policy and of random play ({} if none)."""
    learned, randoms = eval_rows(rows, "learned"), eval_rows(rows, "random")
    return (learned[-1] if learned else {}), (randoms[-1] if randoms else {})


def fmt_or_dash(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


PLAIN = WorldAnalysis(
    heading="Metrics",
    explanation="Returns and per-agent event counts of the evaluation episodes.",
    metrics=(),
    labels={},
    summarize=lambda rewards, events: {},
)
