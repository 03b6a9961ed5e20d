"""Does exact match jump with scale while the per-token metric improves smoothly? The numbers
and the plain-words answer of the report.

Schaeffer, Miranda & Koyejo 2023 ("Are Emergent Abilities of Large Language Models a Mirage?",
arXiv:2304.15004) argue that most abilities said to emerge with scale are made by the metric:
if each of the L answer tokens is right with a probability p that improves smoothly with the
parameter count N, an all-or-nothing score such as exact match, about p^L, stays near 0 and
then shoots up, while a per-token score (cross-entropy, edit distance) shows the smooth gain.

A metric's steepness between adjacent sizes i and i + 1 is its share of all the movement
across the sizes, in the direction of its net change, per share of the log-parameter range:

    steepness_i = [s (m_{i+1} - m_i) / sum_j |m_{j+1} - m_j|] / [(ln N_{i+1} - ln N_i) / R],

s = sign(m_last - m_first), R = ln N_last - ln N_first. A metric linear in ln N has
steepness 1 at every step, one that makes its whole change between two of n evenly spaced
sizes has n - 1 there, and a step against the net change is negative. Sharing out the total
movement rather than the net change keeps a noisy metric that hardly moves from looking
steep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_RISE = 0.2
"""Exact match must rise by at least 0.2 (20 points) from the smallest model to the largest
for there to be an ability that emerges; less is noise on 1,000 or so held-out problems or a
task every size solves (or none does) in the budget."""
SHARP = 2.0
"""A metric jumps where one step between adjacent sizes is at least twice as steep as its
average: with five evenly spaced sizes, one of the four steps holds at least half of the
whole change."""
CONTRAST = 2.0
"""Exact match jumps by much more than the continuous metric predicts when, at exact match's
steepest step, it is at least twice as steep as the cross-entropy there; below that both
change together, and the jump is in the model, not only in the metric."""
SOLVED = 0.9
"""A run (one size, one seed) has learnt the task when its exact match is at least 0.9 ..."""
UNSOLVED = 0.2
"""... and has not when it is below 0.2. A size with runs of both is split by the seed: each
run learns the algorithm or not, and the seeds' mean there is a mixture, not a typical run."""
PREDICTION_GAP = 0.1
"""Exact match counts as p^(k+1) (digits right independently, p the per-digit accuracy of the
same greedy answers, per run, then averaged over the seeds) when the two are within 0.1 at
every size."""


@dataclass(frozen=True)
class Point:
    """One size: its parameter count and the seeds' mean of each metric."""

    label: str
    parameters: int
    exact_match: float
    cross_entropy: float
    edit_distance: float
    independent: float
    """The seeds' mean of p^(k+1), p a run's per-digit accuracy of its greedy answers: the
    exact match its digits would give if each were right independently."""


@dataclass(frozen=True)
class Steepness:
    """Where a metric over the sizes changes fastest (see the module docstring)."""

    per_step: tuple[float, ...]
    """Steepness between sizes i and i + 1; (n - 1,)."""
    total: float
    """m_last - m_first."""
    movement: float
    """sum_i |m_{i+1} - m_i|, what the steps share out."""

    @property
    def steepest(self) -> int:
        """i of the steepest step, from size i to i + 1."""
        return max(range(len(self.per_step)), key=self.per_step.__getitem__)

    @property
    def most(self) -> float:
        return self.per_step[self.steepest]


def steepness(parameters: list[int], values: list[float]) -> Steepness | None:
    """Steepness of a metric between adjacent sizes (sorted by parameters); None when it does
    not change from the smallest size to the largest (nothing to share out)."""
    if len(values) < 2:
        return None
    total = values[-1] - values[0]
    moves = [b - a for a, b in zip(values, values[1:], strict=False)]
    movement = sum(abs(m) for m in moves)
    if total == 0 or not math.isfinite(movement):
        return None
    log_n = [math.log(n) for n in parameters]
    span = log_n[-1] - log_n[0]
    sign = math.copysign(1.0, total)
    per_step = tuple(
        (sign * m / movement) / ((log_n[i + 1] - log_n[i]) / span) for i, m in enumerate(moves)
    )
    return Steepness(per_step, total, movement)


@dataclass(frozen=True)
class Verdict:
    """The answer, computed from the numbers."""

    outcome: str
    """'metric' (exact match jumps, the cross-entropy does not: Schaeffer et al.'s mirage),
    'model' (both jump at the same step), 'gradual' (exact match has no jump), 'flat' (exact
    match hardly moves)."""
    text: list[str]
    """Plain-words sentences for the report."""
    exact_match: Steepness | None
    cross_entropy: Steepness | None
    edit_distance: Steepness | None
    prediction_gap: float
    """Largest |exact match - p^(k+1)| over the sizes."""


Runs = dict[str, list[tuple[float, float]]]
"""size label -> (exact match, cross-entropy) of each of its seeds."""


def verdict(points: list[Point], digits: int, runs: Runs | None = None) -> Verdict:
    """Judge the sizes' means (sorted by parameters, at least two) on k-digit addition; with
    each seed's numbers (`runs`), also say where the seeds split into runs that learnt the
    task and runs that did not."""
    n = [p.parameters for p in points]
    em = [p.exact_match for p in points]
    s_em = steepness(n, em)
    s_ce = steepness(n, [p.cross_entropy for p in points])
    s_ed = steepness(n, [p.edit_distance for p in points])
    gaps = [abs(p.exact_match - p.independent) for p in points]
    first, last = points[0], points[-1]
    ce_words = describe(s_ce, "per-token cross-entropy", points, "cross_entropy", "nats")
    ed_words = describe(s_ed, "edit distance", points, "edit_distance", "tokens")
    rise = em[-1] - em[0]
    if s_em is None or rise < MIN_RISE:
        level = "near 0" if max(em) < 0.5 else "high"
        outcome = "flat"
        text = [
            f"Exact match moves only from {em[0]:.2f} ({first.label}) to {em[-1]:.2f} "
            f"({last.label}), less than {MIN_RISE:g}, and stays {level}: no ability emerges "
            "across these sizes in this budget, so there is no jump to explain.",
            ce_words,
        ]
    elif s_em.most < SHARP:
        outcome = "gradual"
        text = [
            f"Exact match rises from {em[0]:.2f} to {em[-1]:.2f} gradually: its steepest step "
            f"is only {s_em.most:.1f}× its average slope per log-parameter (a jump needs "
            f"{SHARP:g}×). Nothing looks emergent here, even on the all-or-nothing metric.",
            ce_words,
            ed_words,
        ]
    else:
        i = s_em.steepest
        a, b = points[i], points[i + 1]
        at_step = s_ce.per_step[i] if s_ce is not None else 0.0
        contrast = s_em.most / at_step if at_step > 0 else math.inf
        jump = (
            f"Exact match jumps between {a.label} ({a.parameters:,} parameters) and {b.label} "
            f"({b.parameters:,}): from {a.exact_match:.2f} to {b.exact_match:.2f}, "
            f"{(b.exact_match - a.exact_match) / s_em.movement:.0%} of all its movement "
            "across the sizes, "
            f"{s_em.most:.1f}× as steep as its average per log-parameter."
        )
        ce_there = (
            f"Over the same step the per-token cross-entropy goes from {a.cross_entropy:.3f} "
            f"to {b.cross_entropy:.3f} nats, "
            + (f"{at_step:.1f}× its average slope" if at_step > 0 else "no better")
        )
        if contrast >= CONTRAST:
            outcome = "metric"
            text = [
                jump,
                f"{ce_there}: exact match moves {contrast:.1f}× more steeply than the "
                f"continuous metric at that step. {ce_words}",
                ed_words,
                "**The jump is the metric's, as Schaeffer et al. argue**: the models' "
                "per-token skill improves steadily with size, and exact match, which needs all "
                f"{digits + 1} answer digits right at once, turns that steady gain into a "
                "sudden one.",
            ]
        else:
            outcome = "model"
            text = [
                jump,
                f"{ce_there}: the continuous metric drops about as sharply "
                f"(exact match only {contrast:.1f}× as steep, below {CONTRAST:g}×). "
                f"{ce_words}",
                ed_words,
                "**The jump is in the models, not only in the metric**: the per-token loss "
                "changes as suddenly as exact match, so the all-or-nothing score does not "
                "explain it away here.",
            ]
    text += split_words(runs or {})
    worst = max(range(len(points)), key=gaps.__getitem__)
    if gaps[worst] <= PREDICTION_GAP:
        text.append(
            f"Exact match is within {gaps[worst]:.2f} of p^{digits + 1} at every size (p a "
            "run's per-digit accuracy of the same greedy answers, averaged over the seeds): it "
            "is what digits right independently with probability p give"
            + {
                "metric": ", so the power alone turns p's steady gain into the jump.",
                "model": "; here p itself jumps, and the power only sharpens that jump.",
            }.get(outcome, ".")
        )
    else:
        p = points[worst]
        predicted = p.independent
        why = (
            "errors cluster in the same problems (a missed carry spoils several digits)"
            if p.exact_match > predicted
            else "errors are spread over more problems than independent digits would give"
        )
        text.append(
            f"Exact match departs from p^{digits + 1} by up to {gaps[worst]:.2f} "
            f"({p.label}: {p.exact_match:.2f} measured, {predicted:.2f} from the per-digit "
            f"accuracy p): the digits are not right independently; {why}."
        )
    return Verdict(outcome, text, s_em, s_ce, s_ed, gaps[worst])


def describe(s: Steepness | None, name: str, points: list[Point], key: str, unit: str) -> str:
    """One sentence on a continuous metric: its whole change and its steepest step."""
    first, last = getattr(points[0], key), getattr(points[-1], key)
    if s is None or s.total > 0:
        return f"The {name} does not fall with size ({first:.3f} to {last:.3f} {unit})."
    i = s.steepest
    shape = "smoothly" if s.most < SHARP else "with a jump"
    return (
        f"Across all sizes the {name} falls {shape}, from {first:.3f} to {last:.3f} {unit}; "
        f"its steepest step ({points[i].label} to {points[i + 1].label}) is {s.most:.1f}× "
        "its average slope."
    )


def split_words(runs: Runs) -> list[str]:
    """A sentence on the sizes whose seeds split into runs that learnt the task (exact match
    >= `SOLVED`) and runs that did not (< `UNSOLVED`), with each group's cross-entropy."""
    split = [
        label
        for label, mine in runs.items()
        if any(em >= SOLVED for em, _ in mine) and any(em < UNSOLVED for em, _ in mine)
    ]
    if not split:
        return []
    mine = [run for label in split for run in runs[label]]
    learnt = [ce for em, ce in mine if em >= SOLVED]
    not_learnt = [ce for em, ce in mine if em < UNSOLVED]
    return [
        f"At {', '.join(split)} the seeds split: some runs learnt the task (exact match ≥ "
        f"{SOLVED:g}, cross-entropy {sum(learnt) / len(learnt):.3f} nats on average) and others "
        f"did not (< {UNSOLVED:g}, {sum(not_learnt) / len(not_learnt):.3f} nats). Each run "
        "learns the addition algorithm or not within the budget, on both metrics at once, "
        "and the means at those sizes mix the two kinds of run."
    ]
