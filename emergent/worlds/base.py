"""What a world's report measures and says: the record each world's analysis fills in, and the
helpers its verdicts share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emergent.metrics import transitions

Summary = Callable[[np.ndarray, dict[str, np.ndarray]], dict[str, float]]


@dataclass(frozen=True)
class MessageIntervention:
    """How to set the message a listener hears, for interventional measures of communication
    (causal influence of communication, Lowe et al. 2019): who listens when, which messages
    could be heard, and how a message is written into an observation.

    `emergent.worlds.interventions` holds one per world with a channel and the CIC it gives.
    """

    listeners: Callable[[Any, int], np.ndarray]
    """(world config, step t) -> indices (K,) of the agents acting on a heard message at step
    t of an episode (empty where nobody does)."""
    messages: Callable[[Any, np.random.Generator], np.ndarray]
    """(world config, rng) -> the M candidate messages (M, L) int64, each once: all of them
    where there are at most `interventions.MAX_MESSAGES`, else a uniform sample of that many."""
    intervene: Callable[[np.ndarray, np.ndarray, Any], np.ndarray]
    """(listener observations (N, D), messages (N, L), world config) -> the observations (N, D)
    with row i hearing message i and nothing else changed."""
    outcome: Callable[[np.ndarray, Any], np.ndarray] | None = None
    """(action probabilities (N, n), world config) -> probabilities (N, n') of what the action
    does (e.g. the choice a mod K, or the move with an unused token summed out), so that CIC
    does not count differences between actions with the same effect; None: the actions."""


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
    peaks: tuple[str, ...] = ()
    """Curves whose rise and collapse is the story (the return in a commons): the Emergence
    section looks for a peak that declines ('return' is the training return)."""
    pairs: tuple[tuple[str, str], ...] = ()
    """(all-or-nothing metric, continuous metric of the same evaluations): a transition of
    the first is shown beside the second (Schaeffer et al. 2023)."""
    intervene: MessageIntervention | None = None
    """How to intervene on the message listeners hear (worlds with a channel); with it the RL
    kind logs the causal influence of communication of the learned listeners."""


def eval_rows(rows: list[dict], policy: str) -> list[dict]:
    """Evaluation rows of one policy ('learned', 'random', or a channel ablation such as
    'learned_channel_cut'), by step."""
    found = [r for r in rows if r.get("kind") == "eval" and r.get("policy") == policy]
    return sorted(found, key=lambda r: r["step"])


CHANNEL_ABLATIONS = ("cut", "scrambled")
"""Channel modes (`envs.messages.CHANNELS`) the final evaluation of a world with an open
channel also plays, with the same learned policy and evaluation seeds."""


def channel_label(mode: str) -> str:
    """The evaluation rows' policy label of a channel ablation: 'learned_channel_cut', ..."""
    return f"learned_channel_{mode}"


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


def when_it_changed(rows: list[dict], metric: str, what: str) -> str:
    """'Games won: a sharp rise between agent-steps 80,000 and 150,000 (from 0.2 to 0.6).': the
    learned agents' largest transition of `metric` over their evaluations
    (`metrics.transitions`), or ''."""
    points = [(r["step"], r[metric]) for r in eval_rows(rows, "learned")
              if isinstance(r.get(metric), float)]  # fmt: skip
    if len(points) < transitions.MIN_POINTS:
        return ""
    x, y = (np.asarray(v, dtype=np.float64) for v in zip(*points, strict=True))
    found = transitions.main_transition(x, y)
    if found is None:
        return ""
    way = "rise" if found.direction > 0 else "fall"
    return (
        f"{what}: a sharp {way} between agent-steps {found.onset:,.0f} and {found.end:,.0f} "
        f"(from {found.before:.2f} to {found.after:.2f})."
    )
