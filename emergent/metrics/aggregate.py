"""Aggregate results across seeds: robust point estimates with stratified bootstrap intervals.

Ref: Agarwal, Schwarzer, Castro, Courville & Bellemare 2021, "Deep Reinforcement Learning at
the Edge of the Statistical Precipice" (NeurIPS), arXiv:2108.13264; the definitions follow its
reference implementation, `rliable` (`rliable/metrics.py`, `rliable/library.py`). Whether two
settings differ: `difference_of_means`, a bootstrap interval and a permutation test (Efron &
Tibshirani 1993, "An Introduction to the Bootstrap", ch. 15).

Scores are a matrix (N, M): N runs (seeds) of M tasks (environments, or groups such as one
setting of a swept parameter); x_{n,m} is run n's score on task m. A 1-D array (N,) is one
task. Every aggregate also takes leading batch axes (..., N, M) and returns (...), so the
bootstrap evaluates all its replicates in one call.

NaN is refused with a ValueError by every function here except `summarize_across_seeds`, which
drops undefined seeds (a metric such as sustainability is NaN where nobody was rewarded) and
counts them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import NamedTuple

import numpy as np
from scipy import stats as scipy_stats

RngLike = np.random.Generator | int | None
_BLOCK = 1 << 22  # elements per vectorised bootstrap block, bounds memory to ~32 MiB of float64


class BootstrapCI(NamedTuple):
    """A point estimate and its percentile confidence interval, all of one shape."""

    point: np.ndarray
    low: np.ndarray
    high: np.ndarray


class SeedSummary(NamedTuple):
    """One row of `summarize_across_seeds`: the per-seed values of one parameter setting."""

    param: Hashable
    n: int  # seeds with a defined (non-NaN) value
    n_nan: int  # seeds dropped because their value was NaN
    mean: float
    ci_low: float  # percentile bootstrap interval of the mean
    ci_high: float
    iqm: float
    iqm_low: float  # percentile bootstrap interval of the IQM
    iqm_high: float


class Difference(NamedTuple):
    """One setting's per-seed values against a reference setting's (`difference_of_means`)."""

    n_reference: int  # defined (non-NaN) seeds of the reference
    n: int  # defined seeds of the setting
    difference: float  # mean(setting) - mean(reference)
    ci_low: float  # percentile bootstrap interval of the difference
    ci_high: float
    p_value: float  # two-sided permutation test of "both are draws of one distribution"


def _scores(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    """float64 view of a score array, (N,) promoted to (N, 1); refuses 0-d, empty and NaN."""
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError(f"{name} must be an array of runs, got a scalar")
    if x.size == 0:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    if np.isnan(x).any():
        raise ValueError(f"{name} contains NaN; drop undefined runs first")
    return x[:, None] if x.ndim == 1 else x


def _rng(rng: RngLike) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_ci_args(reps: int, confidence: float) -> None:
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


# ---------------------------------------------------------------------------------------------
# Aggregate metrics (rliable/metrics.py)


def mean(scores: np.ndarray) -> np.ndarray:
    """Mean of the per-task mean scores: (1/M) sum_m (1/N) sum_n x_{n,m}.

    Args:
        scores: (..., N, M), or (N,) for one task.
    Returns:
        (...,).
    """
    return _scores(scores).mean(axis=(-2, -1))


def median(scores: np.ndarray) -> np.ndarray:
    """Median over tasks of the per-task mean scores: median_m (1/N) sum_n x_{n,m}.

    Args:
        scores: (..., N, M), or (N,) for one task.
    Returns:
        (...,).
    """
    return np.median(_scores(scores).mean(axis=-2), axis=-1)


def iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50 % of all N * M scores pooled.

    With the L = N * M pooled scores sorted, x_(1) <= ... <= x_(L), and k = floor(L / 4):
        IQM = (1 / (L - 2k)) sum_{i=k+1}^{L-k} x_(i)
    which is `scipy.stats.trim_mean(scores, 0.25, axis=None)` (rliable's `aggregate_iqm`).
    Fewer than 4 scores trim nothing (the plain mean).

    Args:
        scores: (..., N, M), or (N,) for one task.
    Returns:
        (...,).
    """
    x = _scores(scores)
    flat = x.reshape(*x.shape[:-2], -1)  # (..., L)
    n = flat.shape[-1]
    k = n // 4
    if k == 0:
        return flat.mean(axis=-1)
    # Partitioning at k and n-k-1 puts exactly the middle order statistics in [k, n-k).
    part = np.partition(flat, (k, n - k - 1), axis=-1)
    return part[..., k : n - k].mean(axis=-1)


def optimality_gap(scores: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """Optimality gap: how far scores fall short of gamma, scores above gamma clipped to it.

    OG = gamma - (1 / NM) sum_{n,m} min(x_{n,m}, gamma)

    Args:
        scores: (..., N, M), or (N,) for one task; usually normalised so gamma = 1 is "solved".
        gamma: the target score.
    Returns:
        (...,); lower is better.
    """
    return gamma - np.minimum(_scores(scores), gamma).mean(axis=(-2, -1))


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Probability that a run of X beats a run of Y on a task, averaged over tasks.

    P(X > Y) = (1/M) sum_m (1 / (N_x N_y)) sum_{i,j} S(x_{i,m}, y_{j,m}),
    S(a, b) = 1 if a > b, 1/2 if a = b, 0 otherwise: the Mann-Whitney U statistic of each
    task over N_x N_y (rliable's `probability_of_improvement`). Identical samples give 1/2.

    Args:
        x: (..., N_x, M), or (N_x,) for one task.
        y: (..., N_y, M), same M and leading axes as x.
    Returns:
        (...,) in [0, 1].
    """
    x, y = _scores(x, "x"), _scores(y, "y")
    if x.shape[:-2] != y.shape[:-2] or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"x {x.shape} and y {y.shape} must agree on all but the run axis")
    a, b = x[..., :, None, :], y[..., None, :, :]  # (..., N_x, 1, M), (..., 1, N_y, M)
    s = (a > b).mean(axis=(-3, -2)) + 0.5 * (a == b).mean(axis=(-3, -2))  # (..., M)
    return s.mean(axis=-1)


AGGREGATES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "iqm": iqm,
    "mean": mean,
    "median": median,
}


# ---------------------------------------------------------------------------------------------
# Stratified bootstrap (rliable/library.py, StratifiedBootstrap with task_bootstrap=False)


def _blocks(reps: int, per_rep: int) -> Iterator[int]:
    """Replicate counts of successive blocks holding at most ~_BLOCK elements each."""
    size = max(1, _BLOCK // max(per_rep, 1))
    for start in range(0, reps, size):
        yield min(size, reps - start)


def stratified_resample(scores: np.ndarray, reps: int, rng: RngLike = 0) -> np.ndarray:
    """Draw `reps` stratified bootstrap resamples: runs resampled within each task.

    For each replicate r and task m, N run indices i_{r,1..N,m} are drawn uniformly with
    replacement from that task's N runs: X*_{r,n,m,...} = x_{i_{r,n,m}, m, ...}. Each task
    keeps its run count, tasks never mix, and a run is drawn whole, so trailing axes (a
    learning curve's steps) stay together.

    Args:
        scores: (N, M, ...) or (N,).
        reps: R, the number of resamples.
        rng: a Generator, or a seed for one.
    Returns:
        (R, N, M, ...).
    """
    x = _scores(scores)
    n_runs, n_tasks = x.shape[:2]
    idx = _rng(rng).integers(0, n_runs, size=(reps, n_runs, n_tasks))  # (R, N, M)
    return x[idx, np.arange(n_tasks)]


def _bootstrap_stats(
    scores: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    reps: int,
    rng: np.random.Generator,
    per_rep: int,
) -> np.ndarray:
    """statistic over `reps` stratified resamples, evaluated in memory-bounded blocks."""
    return np.concatenate(
        [np.asarray(statistic(stratified_resample(scores, r, rng))) for r in _blocks(reps, per_rep)]
    )


def _percentile_ci(point: np.ndarray, stats: np.ndarray, confidence: float) -> BootstrapCI:
    alpha = 1.0 - confidence
    low, high = np.quantile(stats, [alpha / 2, 1 - alpha / 2], axis=0)
    return BootstrapCI(np.asarray(point), low, high)


def stratified_bootstrap_ci(
    scores: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray] = iqm,
    reps: int = 2000,
    confidence: float = 0.95,
    rng: RngLike = 0,
    vectorized: bool = True,
) -> BootstrapCI:
    """Point estimate and percentile stratified-bootstrap confidence interval of a statistic.

    The statistic is evaluated on R stratified resamples (`stratified_resample`) and the
    interval is their alpha/2 and 1 - alpha/2 quantiles (linear interpolation),
    alpha = 1 - confidence: the `percentile` method, rliable's default. BCa is not offered;
    with few runs the percentile interval covers a little less than nominally (about 0.94
    for a 95 % interval of the mean of 50 normal runs, see the tests).

    Args:
        scores: (N, M, ...) or (N,); every task must have the same number of runs N.
        statistic: if `vectorized`, maps (R, N, M, ...) to (R, ...) (every aggregate above
            does); otherwise maps one (N, M, ...) array to (...), called once per replicate.
        reps: number of bootstrap replicates R (rliable uses 2,000 for profiles, 50,000 for
            final intervals).
        confidence: the interval's nominal coverage.
        rng: a Generator, or a seed for one (the default seed 0 makes reports reproducible).
        vectorized: whether `statistic` takes a leading replicate axis.
    Returns:
        BootstrapCI(point, low, high), each of the statistic's output shape.
    """
    _check_ci_args(reps, confidence)
    x = _scores(scores)
    gen = _rng(rng)
    if vectorized:
        point = np.asarray(statistic(x[None]))[0]
        stats = _bootstrap_stats(x, statistic, reps, gen, x.size)
    else:
        point = np.asarray(statistic(x))
        blocks = (stratified_resample(x, r, gen) for r in _blocks(reps, x.size))
        stats = np.stack([np.asarray(statistic(s)) for block in blocks for s in block])
    return _percentile_ci(point, stats, confidence)


def performance_profile(
    scores: np.ndarray,
    taus: np.ndarray,
    reps: int = 2000,
    confidence: float = 0.95,
    rng: RngLike = 0,
) -> BootstrapCI:
    """Run-score distribution with stratified-bootstrap confidence bands.

    F(tau) = (1 / NM) sum_{n,m} 1[x_{n,m} > tau]: the fraction of all runs scoring above
    tau (rliable's `create_performance_profile` with `use_score_distribution=True`). F is
    non-increasing in tau, and so are its percentile bands (each resample's profile is).

    Args:
        scores: (N, M) or (N,).
        taus: (K,) thresholds.
    Returns:
        BootstrapCI of shape (K,) each.
    """
    _check_ci_args(reps, confidence)
    x = _scores(scores)
    if x.ndim != 2:
        raise ValueError(f"scores must be (N, M) or (N,), got {x.shape}")
    t = np.asarray(taus, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or np.isnan(t).any():
        raise ValueError(f"taus must be a non-empty 1-D array without NaN, got shape {t.shape}")

    def profile(s: np.ndarray) -> np.ndarray:  # (R, N, M) -> (R, K)
        return (s.reshape(len(s), -1, 1) > t).mean(axis=1)

    stats = _bootstrap_stats(x, profile, reps, _rng(rng), x.size * t.size)
    return _percentile_ci(profile(x[None])[0], stats, confidence)


def probability_of_improvement_ci(
    x: np.ndarray,
    y: np.ndarray,
    reps: int = 2000,
    confidence: float = 0.95,
    rng: RngLike = 0,
) -> BootstrapCI:
    """`probability_of_improvement` with a percentile interval.

    X and Y are resampled independently, each stratified by task (rliable's
    `StratifiedIndependentBootstrap`), so they may have different run counts.

    Args:
        x: (N_x, M) or (N_x,).
        y: (N_y, M) or (N_y,).
    Returns:
        BootstrapCI of 0-d arrays.
    """
    _check_ci_args(reps, confidence)
    x, y = _scores(x, "x"), _scores(y, "y")
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x {x.shape} and y {y.shape} must be (N_x, M) and (N_y, M)")
    gen = _rng(rng)
    stats = np.concatenate(
        [
            probability_of_improvement(
                stratified_resample(x, r, gen), stratified_resample(y, r, gen)
            )
            for r in _blocks(reps, len(x) * y.size)
        ]
    )
    return _percentile_ci(probability_of_improvement(x, y), stats, confidence)


def aggregate_curves(
    curves: np.ndarray,
    statistic: str = "iqm",
    reps: int = 2000,
    confidence: float = 0.95,
    rng: RngLike = 0,
) -> BootstrapCI:
    """Per-step aggregate of learning curves across seeds, with bootstrap CI bands.

    At each step t the aggregate (IQM, mean or median) of the runs' values x_{n,m,t};
    whole curves are resampled within each task, and the band at t is the percentile
    interval of that step's aggregate (rliable's sample-efficiency curves).

    Args:
        curves: (N, T) runs by steps, or (N, M, T) with tasks.
        statistic: "iqm", "mean" or "median".
    Returns:
        BootstrapCI of shape (T,) each.
    """
    _check_ci_args(reps, confidence)
    if statistic not in AGGREGATES:
        raise ValueError(f"unknown statistic {statistic!r}; choose from {sorted(AGGREGATES)}")
    c = np.asarray(curves, dtype=np.float64)
    if c.ndim not in (2, 3):
        raise ValueError(f"curves must be (N, T) or (N, M, T), got shape {c.shape}")
    c = _scores(c[:, None, :] if c.ndim == 2 else c, "curves")
    agg = AGGREGATES[statistic]

    def per_step(s: np.ndarray) -> np.ndarray:  # (R, N, M, T) -> (R, T)
        return agg(np.moveaxis(s, -1, 1))

    stats = _bootstrap_stats(c, per_step, reps, _rng(rng), c.size)
    return _percentile_ci(per_step(c[None])[0], stats, confidence)


def _mean_and_iqm(s: np.ndarray) -> np.ndarray:  # (R, S, 1) -> (R, 2)
    return np.stack([mean(s), iqm(s)], axis=-1)


def summarize_across_seeds(
    values_by_param: Mapping[Hashable, np.ndarray],
    reps: int = 2000,
    confidence: float = 0.95,
    rng: RngLike = 0,
) -> list[SeedSummary]:
    """Mean and IQM of each parameter setting's per-seed values, with bootstrap intervals.

    What a sweep report shows for a metric against a swept parameter: for each setting p with
    per-seed values v_1..v_n, the mean and IQM of the defined (non-NaN) values and their
    percentile bootstrap intervals (seeds resampled with replacement). NaN seeds are dropped
    and counted in `n_nan`; a setting with no defined value gives a row of NaN with n = 0.

    Args:
        values_by_param: {param: (S,) per-seed values}, rows kept in the mapping's order.
    Returns:
        One SeedSummary per parameter setting (`._asdict()` for a plain dict).
    """
    _check_ci_args(reps, confidence)
    if not values_by_param:
        raise ValueError("values_by_param is empty")
    gen = _rng(rng)
    rows = []
    for param, values in values_by_param.items():
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"values for {param!r} must be a non-empty 1-D array, got {v.shape}")
        defined = v[~np.isnan(v)]
        n, n_nan = defined.size, v.size - defined.size
        if n == 0:
            rows.append(SeedSummary(param, 0, n_nan, *[float("nan")] * 6))
            continue

        (m, q), (m_low, q_low), (m_high, q_high) = (
            a.tolist()
            for a in stratified_bootstrap_ci(defined, _mean_and_iqm, reps, confidence, gen)
        )
        rows.append(SeedSummary(param, n, n_nan, m, m_low, m_high, q, q_low, q_high))
    return rows


def difference_of_means(
    reference: np.ndarray,
    values: np.ndarray,
    reps: int = 2000,
    confidence: float = 0.95,
    rng: RngLike = 0,
    permutations: int = 9999,
) -> Difference:
    """How far a setting's mean lies from a reference setting's, with an interval and a test.

    d = mean(y) - mean(x), x the reference's per-seed values, y the setting's; NaN seeds are
    dropped. The interval is the percentile interval of d over `reps` resamples of x and y,
    each resampled with replacement on its own (the groups are independent seeds).

    The p-value is a two-sided permutation test of d (Efron & Tibshirani 1993, ch. 15): under
    the null hypothesis that the seeds of both settings are draws of one distribution, every
    split of the pooled n_x + n_y values into groups of n_x and n_y is equally likely, and p is
    the share of splits whose |d| is at least the observed one. It is exact (every split
    enumerated, `scipy.stats.permutation_test`) when there are at most `permutations` splits,
    252 for 5 seeds against 5, and a Monte Carlo estimate otherwise. A permutation test rather
    than Welch's t-test because with a handful of seeds a metric's distribution is unknown
    and often skewed or bounded (equality, peace), which the t-test's normal approximation
    ignores, while the permutation test assumes only exchangeable seeds. Its smallest
    attainable p is 2 / C(n_x + n_y, n_x): with 3 seeds against 3 that is 0.1, so no
    difference can be significant at 5 %; with 5 against 5 it is 0.008.

    Args:
        reference: (N_x,) per-seed values of the reference setting.
        values: (N_y,) per-seed values of the compared setting.
        reps: bootstrap resamples of the interval.
        confidence: the interval's nominal coverage.
        rng: a Generator, or a seed for one (both the bootstrap and a Monte Carlo test).
        permutations: most random splits of the test (exact below that many splits).
    Returns:
        Difference; NaN difference, interval and p where either side has no defined seed, and
        NaN p where both have a single seed between them (nothing to permute).
    """
    _check_ci_args(reps, confidence)
    x = np.asarray(reference, dtype=np.float64).ravel()
    y = np.asarray(values, dtype=np.float64).ravel()
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    nan = float("nan")
    if x.size == 0 or y.size == 0:
        return Difference(x.size, y.size, nan, nan, nan, nan)
    gen = _rng(rng)
    d = float(y.mean() - x.mean())
    boot = stratified_resample(y, reps, gen)[..., 0].mean(axis=1) - (
        stratified_resample(x, reps, gen)[..., 0].mean(axis=1)
    )  # (R,)
    low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2])
    if x.size + y.size < 3:
        return Difference(x.size, y.size, d, float(low), float(high), nan)

    def statistic(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
        return np.mean(b, axis=axis) - np.mean(a, axis=axis)

    test = scipy_stats.permutation_test(
        (x, y), statistic, vectorized=True, n_resamples=permutations, rng=gen
    )
    return Difference(x.size, y.size, d, float(low), float(high), float(test.pvalue))
