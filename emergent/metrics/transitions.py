"""When did something emerge? Transitions, peaks and their agreement across seeds and metrics.

Pure functions over one logged curve, x the training step (any increasing numbers, unevenly
spaced allowed) and y a metric. NaN points are dropped, repeated x are averaged, and curves with
fewer than `MIN_POINTS` points or no variation give no transition (never an error).

How a transition is found (`detect`):

1. Noise. sigma is estimated from the pseudo-residuals of Gasser, Sroka & Jennen-Steinmetz 1986
   ("Residual variance and residual pattern in nonlinear regression", Biometrika 73:625): each
   interior point minus the straight line through its two neighbours,
       e_i = (y_i - w_i y_{i-1} - (1 - w_i) y_{i+1}) / sqrt(1 + w_i^2 + (1 - w_i)^2),
       w_i = (x_{i+1} - x_i) / (x_{i+1} - x_{i-1}),
   which have variance sigma^2 wherever the curve is locally linear, for any spacing of x. The
   robust scale 1.4826 * MAD(e) ignores the few e_i at kinks and jumps. Unlike first differences
   it is not inflated by a trend. It is floored at `SIGMA_FLOOR` times the range of y so that
   noise-free curves still get a positive penalty.
2. Segmentation. `ruptures.Pelt` (Killick, Fearnhead & Eckley 2012, "Optimal detection of
   changepoints with a linear computational cost", JASA 107:1590) with a piecewise-linear cost:
   each segment is fitted by least squares with x as regressor, y ~ a_k + b_k x, and costs its
   residual sum of squares (ruptures' `CostLinear` with covariates (1, x), computed here in O(1)
   per segment from prefix sums). Piecewise *linear* rather than piecewise constant because
   learning curves trend: a sigmoid becomes flat -> ramp -> flat with breakpoints at its onset
   and end, a step becomes two flat segments, and a straight line, however steep, stays one
   segment. The discontinuous fit is used rather than ruptures' continuous `clinear`, whose
   segments pass through single noisy points instead of being fitted.
3. Penalty. Each extra segment costs `penalty` * sigma^2 with the default
   penalty = `PENALTY_PARAMETERS` * log(n): Schwarz's BIC for a Gaussian curve of known variance,
   counting the breakpoint, intercept and slope that a segment adds. The penalty is in units of
   sigma^2 so it does not depend on the scale of y.
4. Transitions. The fit is a polyline through the ends of its segments (the gaps between
   segments included, which is how a step appears). With slopes measured in the curve's own
   units, (dy / R) / (dx / X), R the range of the fitted curve and X the range of x, a piece is
   steep when its slope is at least `STEEP_PIECE`. A transition is a maximal run of steep pieces
   of one sign; a gap whose rise is below `MIN_JUMP_SIGMAS` * sigma may sit inside a run of either
   sign (the discontinuous fit overshoots at the ends of a ramp and steps back). A run that
   starts or ends in a segment takes in the gap beside it, so that `before` and `after` are the
   neighbouring segments' ends. It is kept only if its rise is at least `MIN_JUMP_SIGMAS` * sigma
   and its sharpness at least `NEIGHBOUR_RATIO` times the slope of the segments on either side
   in its direction. Its midpoint is where the fit first crosses half-way from before to after:
   on sigmoids it is far better determined than onset and end, which depend on how the tails
   were cut into segments.

Onset and end are x values of logged points (a step's width is one logging interval), so their
resolution is the logging interval. The pair-of-metrics check follows Schaeffer, Miranda &
Koyejo 2023 ("Are emergent abilities of large language models a mirage?", NeurIPS,
arXiv:2304.15004): a sharp jump in an all-or-nothing metric with no jump in a continuous metric of
the same runs may be an artefact of the metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import ruptures
from ruptures.base import BaseCost

from emergent.metrics import aggregate
from emergent.metrics.aggregate import BootstrapCI, RngLike

MIN_POINTS = 8
"""Curves with fewer (non-NaN, distinct-x) points have no transition: too short to tell a
transition from noise."""

MIN_SEGMENT = 3
"""Fewest points in a PELT segment: two points are fitted exactly by a line (zero cost)."""

MAX_CANDIDATES = 500
"""Most candidate breakpoints PELT considers; longer curves are searched on every k-th point
(ruptures' `jump`). This bounds the worst case, a curve without change, whose O(candidates^2)
segment costs take about 0.15 s; breakpoints then fall on a grid of 0.2 % of the points."""

SIGMA_FLOOR = 1e-3
"""Least noise level, as a fraction of the range of y, so that a noise-free curve still has a
positive penalty and a finite jump threshold (0.5 % of its range with `MIN_JUMP_SIGMAS` = 5)."""

PENALTY_PARAMETERS = 3.0
"""Parameters one extra segment adds (breakpoint, intercept, slope): the BIC penalty per segment
is PENALTY_PARAMETERS * log(n) * sigma^2."""

STEEP_PIECE = 2.0
"""Least slope of a piece of the fitted curve that can be part of a transition, in the curve's
own units (dy / R) / (dx / X): it would cross the curve's whole range in half the x-range. A
straight line has 1; a logistic whose 10-90 % rise takes 10 % of the x-range is fitted by ramps
of about 2.5 to 10."""

NEIGHBOUR_RATIO = 3.0
"""A transition must be at least this many times steeper than the fitted segments on either
side move in its direction, so that a bend in a steady trend is not a transition."""

MIN_JUMP_SIGMAS = 5.0
"""Least |jump| of a transition in noise standard deviations: a claim of emergence should not be
noise. Measured on 100-point curves with Gaussian noise: pure noise and noisy lines give a
transition in 0.2 % of curves; at SNR = |jump| / sigma = 10 every step and 99 % of logistics 10 %
of the x-range wide are found, at SNR 7 98 % of steps and 83 % of those logistics, at SNR 5 about
half the steps. 4 instead would find 90 % of steps at SNR 5 with 0.9 % false positives."""

PEAK_SIGMAS = 5.0
"""Least rise before a peak and least decline after it, in noise standard deviations, for a
peak to be reported."""

PEAK_WINDOW = 0.1
"""Width of the moving mean that `peak` looks at, as a fraction of the x-range."""

PAIR_TOLERANCE = 0.05
"""Default tolerance of `pair`: midpoints within this fraction of the x-range are the same event
(twice the detector's error in 95 % of curves at SNR 10, see the tests)."""


_EITHER = 2  # label of a gap piece too small to matter: it may sit inside a run of either sign


@dataclass(frozen=True)
class Transition:
    """One sharp change of a curve, in the units of its x and y.

    sharpness = (|jump| / R) / (width / X), R the range of the fitted curve and X the range of x:
    the change's slope when both ranges are 1. A straight line across the whole curve has 1, a
    change over the full range that takes 5 % of the x-range has 20; a step's is bounded by the
    logging interval (width is one interval).
    """

    onset: float  # x where the change starts (last logged point before it)
    end: float  # x where the change is complete
    width: float  # end - onset
    midpoint: float  # x where the fitted curve is half-way from before to after
    before: float  # fitted level at onset
    after: float  # fitted level at end
    jump: float  # after - before, signed
    sharpness: float  # scale-free slope, see above
    direction: int  # +1 rising, -1 falling


@dataclass(frozen=True)
class Peak:
    """The top of a curve that rises and then declines (returns collapsing in a commons)."""

    x: float  # where the moving mean is highest
    height: float  # moving mean there
    rise: float  # height - lowest moving mean before the peak, > 0
    decline: float  # height - lowest moving mean after the peak, > 0
    final: float  # moving mean at the last x (over the last half window)

    @property
    def decline_fraction(self) -> float:
        """decline / rise: the share of the gain lost after the peak (1 = back to the start)."""
        return self.decline / self.rise


@dataclass(frozen=True)
class SeedTransitions:
    """Main transitions of many seeds' curves of one metric (`across_seeds`).

    Every interval is the percentile stratified-bootstrap interval of `aggregate`; locations and
    sizes are the IQM over the seeds that have a transition (NaN where none has).
    """

    transitions: tuple[Transition | None, ...]  # per seed, None where it has none
    fraction: BootstrapCI  # of seeds with a transition (mean of 0/1)
    onset: BootstrapCI
    midpoint: BootstrapCI
    jump: BootstrapCI
    sharpness: BootstrapCI

    @property
    def n_detected(self) -> int:
        """Seeds with a transition."""
        return sum(t is not None for t in self.transitions)


@dataclass(frozen=True)
class Pairing:
    """An all-or-nothing metric's transition beside a continuous metric of the same runs."""

    discrete: Transition | None  # main transition of the all-or-nothing metric
    continuous: Transition | None  # the continuous metric's transition at the same place
    confirmed: bool  # whether the continuous metric jumps there too
    tolerance: float  # largest |midpoint difference| counted as "there", in x units
    description: str  # one sentence for a report


class _PrefixLinearCost(BaseCost):
    """Residual sum of squares of a least-squares line y ~ a + b x on each segment.

    The cost of ruptures' `CostLinear` fitted on columns (y, 1, x), from prefix sums in O(1) per
    segment (CostLinear calls lstsq each time):
        RSS = Syy - Sxy^2 / Sxx, with S.. the centred sums of squares and products.
    """

    model = "linear_prefix"
    min_size = MIN_SEGMENT

    def fit(self, signal: np.ndarray) -> _PrefixLinearCost:
        """signal: (n, 2), columns y and x (scaled to order 1 for precision)."""
        y, x = signal[:, 0], signal[:, 1]
        self.signal = signal
        terms = np.stack([x, x * x, y, x * y, y * y])  # (5, n)
        sums = np.concatenate([np.zeros((5, 1)), np.cumsum(terms, axis=1)], axis=1)
        self._sx, self._sxx, self._sy, self._sxy, self._syy = sums.tolist()  # lists: fast lookup
        return self

    def error(self, start: int, end: int) -> float:
        """RSS of the line fitted to points [start, end)."""
        n = end - start
        sx = self._sx[end] - self._sx[start]
        sy = self._sy[end] - self._sy[start]
        cxx = self._sxx[end] - self._sxx[start] - sx * sx / n
        cxy = self._sxy[end] - self._sxy[start] - sx * sy / n
        cyy = self._syy[end] - self._syy[start] - sy * sy / n
        rss = cyy - cxy * cxy / cxx if cxx > 1e-12 else cyy
        return max(rss, 0.0)


@dataclass(frozen=True)
class _Fit:
    """A curve cleaned and segmented: its points, noise level and fitted polyline."""

    x: np.ndarray  # (n,) increasing, distinct
    y: np.ndarray  # (n,)
    sigma: float
    vx: np.ndarray  # (2K,) x of the polyline's vertices: first and last x of each segment
    vy: np.ndarray  # (2K,) fitted values there


def _clean(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 curve, NaN dropped, sorted by x, values at repeated x averaged."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D of one length, got shapes {x.shape} and {y.shape}")
    keep = ~(np.isnan(x) | np.isnan(y))
    if np.isinf(x[keep]).any() or np.isinf(y[keep]).any():
        raise ValueError("x and y must be finite (NaN points are dropped, infinities are not)")
    x, y = x[keep], y[keep]
    xu, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return xu, np.bincount(inverse, weights=y, minlength=len(xu)) / counts


def noise_sigma(x: np.ndarray, y: np.ndarray) -> float:
    """Robust noise standard deviation of a curve, insensitive to trends and uneven spacing.

    sigma = 1.4826 * median(|e_i - median(e)|) over the pseudo-residuals
        e_i = (y_i - w_i y_{i-1} - (1 - w_i) y_{i+1}) / sqrt(1 + w_i^2 + (1 - w_i)^2),
        w_i = (x_{i+1} - x_i) / (x_{i+1} - x_{i-1})
    (Gasser, Sroka & Jennen-Steinmetz 1986); floored at SIGMA_FLOOR * range(y).

    Args:
        x, y: (n,) one curve; NaN dropped, repeated x averaged.
    Returns:
        sigma >= 0 (0 only for a constant curve); NaN with fewer than 3 points.
    """
    x, y = _clean(x, y)
    if len(x) < 3:
        return float("nan")
    w = (x[2:] - x[1:-1]) / (x[2:] - x[:-2])
    e = (y[1:-1] - w * y[:-2] - (1 - w) * y[2:]) / np.sqrt(1 + w**2 + (1 - w) ** 2)
    mad = 1.4826 * float(np.median(np.abs(e - np.median(e))))
    return max(mad, SIGMA_FLOOR * float(np.ptp(y)))


def _segment(x: np.ndarray, y: np.ndarray, penalty: float | None) -> _Fit | None:
    """PELT segmentation of a cleaned curve; None when too short or constant."""
    n = len(x)
    if n < MIN_POINTS or np.ptp(y) == 0:
        return None
    sigma = noise_sigma(x, y)
    u = (x - x[0]) / (x[-1] - x[0])  # x-range scaled to [0, 1]
    z = (y - y.mean()) / sigma  # noise variance 1, so the penalty is in units of sigma^2
    pen = PENALTY_PARAMETERS * np.log(n) if penalty is None else penalty
    step = -(-n // MAX_CANDIDATES)  # ceil(n / MAX_CANDIDATES)
    algo = ruptures.Pelt(custom_cost=_PrefixLinearCost(), min_size=MIN_SEGMENT, jump=step)
    ends = algo.fit_predict(np.stack([z, u], axis=1), pen=pen)
    starts = [0, *ends[:-1]]
    vx, vy = [], []
    for s, e in zip(starts, ends, strict=True):
        slope, intercept = np.polyfit(x[s:e], y[s:e], 1)
        vx += [x[s], x[e - 1]]
        vy += [intercept + slope * x[s], intercept + slope * x[e - 1]]
    return _Fit(x, y, sigma, np.array(vx), np.array(vy))


def _crossing(vx: np.ndarray, vy: np.ndarray, level: float) -> float:
    """First x where the polyline through (vx, vy) reaches `level` (linear interpolation)."""
    side = np.sign(vy - level)
    i = int(np.flatnonzero(side != side[0])[0])  # first vertex on the other side (or on it)
    if vy[i] == vy[i - 1]:
        return float(vx[i])
    return float(vx[i - 1] + (level - vy[i - 1]) * (vx[i] - vx[i - 1]) / (vy[i] - vy[i - 1]))


def _transitions(fit: _Fit) -> list[Transition]:
    """Steep, significant runs of the fitted polyline (module docstring, step 4)."""
    x_range, y_range = fit.x[-1] - fit.x[0], float(np.ptp(fit.vy))
    if y_range == 0:
        return []
    dx, dy = np.diff(fit.vx), np.diff(fit.vy)  # (2K - 1,) pieces: even = segment, odd = gap
    slope = (dy / y_range) / np.maximum(dx / x_range, 1e-300)
    label = np.where(np.abs(slope) >= STEEP_PIECE, np.sign(dy), 0).astype(int)
    gap = np.arange(len(dy)) % 2 == 1
    label[gap & (np.abs(dy) < MIN_JUMP_SIGMAS * fit.sigma)] = _EITHER
    segment_slope = slope[::2]  # (K,) in the same units
    last = len(label) - 1
    found = []
    p = 0
    while p <= last:
        if label[p] in (0, _EITHER):
            p += 1
            continue
        direction = int(label[p])
        q = p
        while q < last and label[q + 1] in (direction, _EITHER):
            q += 1
        p_next = q + 1
        while label[q] == _EITHER:
            q -= 1
        # A run starting or ending inside a segment takes in the gap beside it, so that its
        # levels are those of the neighbouring segments' ends rather than a ramp's overshoot.
        first = p - 1 if p % 2 == 0 and p > 0 else p
        final = q + 1 if q % 2 == 0 and q < last else q
        onset, end = fit.vx[first], fit.vx[final + 1]
        before, after = fit.vy[first], fit.vy[final + 1]
        jump = after - before
        sharpness = abs(jump) / y_range / ((end - onset) / x_range)
        left, right = (p - 1) // 2, q // 2 + 1  # segments beside the run (-1 or K: none)
        beside = [
            direction * segment_slope[k] for k in (left, right) if 0 <= k < len(segment_slope)
        ]
        if (
            np.sign(jump) == direction
            and abs(jump) >= MIN_JUMP_SIGMAS * fit.sigma
            and all(sharpness >= NEIGHBOUR_RATIO * s for s in beside)
        ):
            vx, vy = fit.vx[first : final + 2], fit.vy[first : final + 2]
            found.append(
                Transition(
                    onset=float(onset),
                    end=float(end),
                    width=float(end - onset),
                    midpoint=_crossing(vx, vy, (before + after) / 2),
                    before=float(before),
                    after=float(after),
                    jump=float(jump),
                    sharpness=float(sharpness),
                    direction=direction,
                )
            )
        p = p_next
    return found


def detect(x: np.ndarray, y: np.ndarray, *, penalty: float | None = None) -> list[Transition]:
    """All transitions of a curve, in order of onset (module docstring for the method).

    Args:
        x: (n,) training steps (any order, uneven spacing allowed).
        y: (n,) the metric; NaN points dropped.
        penalty: cost of one extra PELT segment in units of the noise variance; default
            PENALTY_PARAMETERS * log(n) (BIC). Larger finds fewer, larger changes.
    Returns:
        Transitions sorted by onset; empty for short, constant or transition-free curves.
    """
    if penalty is not None and not penalty > 0:
        raise ValueError(f"penalty={penalty}; it must be positive")
    fit = _segment(*_clean(x, y), penalty)
    return [] if fit is None else _transitions(fit)


def main_transition(
    x: np.ndarray, y: np.ndarray, *, penalty: float | None = None
) -> Transition | None:
    """The transition with the largest |jump| (`detect`), or None."""
    found = detect(x, y, penalty=penalty)
    return max(found, key=lambda t: abs(t.jump)) if found else None


def _moving_mean(x: np.ndarray, y: np.ndarray, half_width: float) -> np.ndarray:
    """Mean of the y_j with |x_j - x_i| <= half_width, for each i (uneven x allowed)."""
    sums = np.concatenate([[0.0], np.cumsum(y)])
    lo = np.searchsorted(x, x - half_width, side="left")
    hi = np.searchsorted(x, x + half_width, side="right")
    return (sums[hi] - sums[lo]) / (hi - lo)


def peak(x: np.ndarray, y: np.ndarray) -> Peak | None:
    """The peak of a curve that rises and then declines, such as returns in a commons that
    collapse once the resource is overharvested (Perolat et al. 2017, "A multi-agent
    reinforcement learning model of common-pool resource appropriation", NeurIPS).

    On the moving mean of y over windows of PEAK_WINDOW of the x-range, m(x_i): the peak is
    argmax m, rise = m(peak) - min of m before it, decline = m(peak) - min of m after it, and
    it is reported only when both are at least PEAK_SIGMAS noise standard deviations
    (`noise_sigma`, of single points: conservative, the mean is less noisy). A moving mean
    rather than the segmentation of `detect` because a gradual hump is fitted by few long
    segments whose ends overshoot; it blurs a sharp peak over the window instead.

    Args:
        x, y: (n,) one curve, as for `detect`.
    Returns:
        Peak, or None for a curve that only rises, only falls, is flat or is too short.
    """
    x, y = _clean(x, y)
    if len(x) < MIN_POINTS or np.ptp(y) == 0:
        return None
    m = _moving_mean(x, y, PEAK_WINDOW * (x[-1] - x[0]) / 2)
    top = int(np.argmax(m))
    height = float(m[top])
    rise, decline = height - float(m[: top + 1].min()), height - float(m[top:].min())
    if min(rise, decline) < PEAK_SIGMAS * noise_sigma(x, y):
        return None
    return Peak(float(x[top]), height, rise, decline, float(m[-1]))


def _ci(values: list[float], statistic, reps: int, confidence: float, rng) -> BootstrapCI:
    """stratified_bootstrap_ci of per-seed values; NaN everywhere when there are none."""
    if not values:
        nan = np.array(np.nan)
        return BootstrapCI(nan, nan, nan)
    return aggregate.stratified_bootstrap_ci(
        np.array(values), statistic, reps=reps, confidence=confidence, rng=rng
    )


def across_seeds(
    curves: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    rng: RngLike = 0,
    penalty: float | None = None,
) -> SeedTransitions:
    """Whether and when a transition happens across seeds, with bootstrap intervals.

    Each seed's `main_transition`; the fraction of seeds with one (mean of 0/1), and the IQM
    (Agarwal et al. 2021, `aggregate.iqm`) of onset, midpoint, jump and sharpness over the seeds
    that have one, each with its percentile bootstrap interval (`aggregate.stratified_bootstrap_ci`,
    seeds resampled with replacement). The IQM because a seed whose largest jump is another event
    should not drag the estimate.

    Args:
        curves: one (x, y) per seed; the x need not agree.
        reps, confidence, rng: of the bootstrap (`aggregate.stratified_bootstrap_ci`).
        penalty: passed to `detect`.
    Returns:
        SeedTransitions.
    """
    if len(curves) == 0:
        raise ValueError("curves is empty; give one (x, y) per seed")
    gen = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    found = tuple(main_transition(x, y, penalty=penalty) for x, y in curves)
    hits = [t for t in found if t is not None]
    fraction = _ci([float(t is not None) for t in found], aggregate.mean, reps, confidence, gen)

    def ci(field: str) -> BootstrapCI:
        return _ci([getattr(t, field) for t in hits], aggregate.iqm, reps, confidence, gen)

    return SeedTransitions(
        found, fraction, ci("onset"), ci("midpoint"), ci("jump"), ci("sharpness")
    )


def _at(x: float) -> str:
    """A step for a sentence: 3,200 from 100 up, 3 significant digits below."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def pair(
    x: np.ndarray,
    discrete_y: np.ndarray,
    continuous_y: np.ndarray,
    *,
    tolerance: float = PAIR_TOLERANCE,
    discrete_name: str = "accuracy",
    continuous_name: str = "loss",
) -> Pairing:
    """Does a continuous metric change where an all-or-nothing metric jumps?

    Schaeffer, Miranda & Koyejo 2023 show that a sharp, unpredictable jump in an all-or-nothing
    metric (accuracy, success, exact match) can come from the metric alone: with per-token
    accuracy p improving smoothly, exact match of L tokens, p^L, still jumps. So a jump is
    confirmed only when a continuous metric of the same runs (loss, edit distance, return) has a
    transition, in either direction (a falling loss has direction -1), at the same place: its
    midpoint within tolerance * (x-range) of the discrete metric's. Midpoints rather than onsets
    because they are the best-determined location (`detect`): a step's midpoint is half a
    logging interval after its onset, while a smooth loss drop's onset depends on where its
    tail was cut; with SNR 10 midpoints are within 2.5 % of the x-range (see the tests).

    Args:
        x: (n,) training steps shared by both metrics.
        discrete_y: (n,) the all-or-nothing metric.
        continuous_y: (n,) the continuous metric.
        tolerance: fraction of the x-range within which midpoints count as the same place.
        discrete_name, continuous_name: names used in `description`.
    Returns:
        Pairing, with a one-sentence description.
    """
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance={tolerance}; it must lie in (0, 1)")
    xc, _ = _clean(x, continuous_y)  # validates the continuous pair too
    x_tol = tolerance * float(xc[-1] - xc[0]) if len(xc) else float("nan")
    discrete = main_transition(x, discrete_y)
    if discrete is None:
        return Pairing(None, None, False, x_tol, f"{discrete_name} shows no transition.")

    def distance(t: Transition) -> float:
        return abs(t.midpoint - discrete.midpoint)

    near = [t for t in detect(x, continuous_y) if distance(t) <= x_tol]
    continuous = min(near, key=distance) if near else None
    moves = "jumps" if discrete.direction > 0 else "drops"
    head = f"{discrete_name} {moves} at step {_at(discrete.midpoint)}"
    if continuous is None:
        sentence = (
            f"{head}; {continuous_name} shows no jump there: the sharpness may be the "
            "metric's (Schaeffer et al. 2023)."
        )
    else:
        turns = "rises" if continuous.direction > 0 else "falls"
        sentence = (
            f"{head}; {continuous_name} also {turns} sharply there (step "
            f"{_at(continuous.midpoint)}): the transition is not an artefact of the metric."
        )
    return Pairing(discrete, continuous, continuous is not None, x_tol, sentence)
