"""Aggregation across seeds (Agarwal et al. 2021): hand cases, scipy cross-checks, coverage."""

import numpy as np
import pytest
from scipy import stats

from emergent.metrics.aggregate import (
    aggregate_curves,
    difference_of_means,
    iqm,
    mean,
    median,
    optimality_gap,
    performance_profile,
    probability_of_improvement,
    probability_of_improvement_ci,
    stratified_bootstrap_ci,
    stratified_resample,
    summarize_across_seeds,
)


def test_iqm_is_the_mean_of_the_middle_half():
    assert iqm(np.arange(1, 9)) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    # Pooled over runs and tasks: the 8 scores 1..8 spread over a (4, 2) matrix, shuffled.
    assert iqm(np.array([[8, 1], [3, 6], [2, 7], [5, 4]])) == pytest.approx(4.5)
    # An outlier in the trimmed quarter does not move it; fewer than 4 scores trim nothing.
    assert iqm([1, 2, 3, 1000]) == pytest.approx(2.5)
    assert iqm([1.0, 2.0, 6.0]) == pytest.approx(3.0)


@pytest.mark.parametrize("shape", [(5, 3), (7, 1), (10, 4), (3, 2)])
def test_iqm_equals_scipy_trim_mean_and_batches(shape):
    x = np.random.default_rng(0).normal(size=(6, *shape))
    want = [stats.trim_mean(b, 0.25, axis=None) for b in x]
    np.testing.assert_allclose(iqm(x), want)  # leading batch axis: one IQM per matrix
    assert iqm(x[0]) == pytest.approx(want[0])


def test_mean_median_optimality_gap_follow_rliable():
    x = np.array([[0.0, 1.0, 4.0], [2.0, 3.0, 0.0]])  # (N=2, M=3): task means 1, 2, 2
    assert mean(x) == pytest.approx(5 / 3)
    assert median(x) == pytest.approx(2.0)
    # min(x, 1) = [[0, 1, 1], [1, 1, 0]] -> mean 4/6; gap 1 - 2/3.
    assert optimality_gap(x) == pytest.approx(1 / 3)
    assert optimality_gap(x, gamma=2.0) == pytest.approx(2 - 7 / 6)


@pytest.mark.parametrize(
    "bad", [np.array([]), np.zeros((0, 3)), np.array([1.0, np.nan]), np.float64(1.0)]
)
def test_bad_scores_are_refused(bad):
    with pytest.raises(ValueError):
        iqm(bad)
    with pytest.raises(ValueError):
        stratified_bootstrap_ci(bad, reps=10)


def test_bad_ci_arguments_are_refused():
    with pytest.raises(ValueError, match="reps"):
        stratified_bootstrap_ci(np.ones(4), reps=0)
    with pytest.raises(ValueError, match="confidence"):
        stratified_bootstrap_ci(np.ones(4), confidence=1.0)
    with pytest.raises(ValueError, match="statistic"):
        aggregate_curves(np.ones((3, 4)), statistic="max")
    with pytest.raises(ValueError, match="agree"):
        probability_of_improvement(np.ones((3, 2)), np.ones((3, 3)))


def test_stratified_resample_keeps_each_tasks_runs_within_the_task():
    # Task m holds the values 100 m + 0..N-1, so a value names its task and run.
    n_runs, n_tasks = 5, 3
    x = 100 * np.arange(n_tasks)[None, :] + np.arange(n_runs)[:, None]  # (N, M)
    res = stratified_resample(x, reps=400, rng=1)
    assert res.shape == (400, n_runs, n_tasks)  # every task keeps its N runs
    np.testing.assert_array_equal(res // 100, np.broadcast_to(np.arange(n_tasks), res.shape))
    # Each task is resampled independently: its run draws are not those of the other tasks.
    runs = res % 100
    assert not np.array_equal(runs[..., 0], runs[..., 1])
    # Every run of every task is drawn about equally often (1/N each): 4 binomial std errors.
    freq = np.stack([(runs[..., m] == i).mean() for m in range(n_tasks) for i in range(n_runs)])
    p, draws = 1 / n_runs, runs[..., 0].size
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(p * (1 - p) / draws))


def test_stratified_resample_draws_whole_curves():
    curves = np.arange(6)[:, None, None] * np.ones((1, 2, 4))  # (N=6, M=2, T=4), run n is n
    res = stratified_resample(curves, reps=50, rng=2)  # (R, N, M, T)
    np.testing.assert_array_equal(res, np.broadcast_to(res[..., :1], res.shape))


def test_bootstrap_ci_covers_the_true_mean_at_about_the_nominal_rate():
    rng = np.random.default_rng(3)
    n_exp, true_mean = 300, 1.5
    hits = 0
    for _ in range(n_exp):
        # n = 50: the percentile interval's small-sample shortfall (about 0.94 here) stays
        # well inside the margin.
        sample = rng.normal(true_mean, 2.0, size=50)
        ci = stratified_bootstrap_ci(sample, mean, reps=1000, rng=rng)
        hits += ci.low <= true_mean <= ci.high
    margin = 3 * np.sqrt(0.95 * 0.05 / n_exp)  # 3 binomial standard errors, ~0.038
    assert abs(hits / n_exp - 0.95) <= margin


def test_bootstrap_ci_matches_scipy_percentile_bootstrap_and_shrinks_as_one_over_root_n():
    rng = np.random.default_rng(4)
    big = rng.normal(size=400)
    ci = stratified_bootstrap_ci(big, mean, reps=4000, rng=5)
    ref = stats.bootstrap((big,), np.mean, n_resamples=4000, method="percentile", rng=6)
    se = big.std() / np.sqrt(big.size)
    assert ci.point == pytest.approx(big.mean())
    assert ci.low == pytest.approx(ref.confidence_interval.low, abs=0.1 * se)
    assert ci.high == pytest.approx(ref.confidence_interval.high, abs=0.1 * se)
    small = stratified_bootstrap_ci(big[:25], mean, reps=4000, rng=5)
    ratio = (small.high - small.low) / (ci.high - ci.low)
    assert 3.0 < ratio < 5.0  # sqrt(400 / 25) = 4


def test_bootstrap_ci_of_a_vector_statistic_and_a_loop_statistic_agree():
    x = np.random.default_rng(7).normal(size=(8, 3))
    vec = stratified_bootstrap_ci(x, iqm, reps=300, rng=8)
    loop = stratified_bootstrap_ci(
        x, lambda s: stats.trim_mean(s, 0.25, axis=None), reps=300, rng=8, vectorized=False
    )
    np.testing.assert_allclose(vec, loop)  # same draws, same statistic
    assert vec.low <= vec.point <= vec.high


def test_performance_profile_is_the_fraction_of_runs_above_tau():
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    prof = performance_profile(x, [-1.0, 0.0, 1.5, 3.0], reps=200, rng=0)
    np.testing.assert_allclose(prof.point, [1.0, 0.75, 0.5, 0.0])


def test_performance_profile_and_its_bands_are_monotone_and_ordered():
    x = np.random.default_rng(9).normal(size=(10, 5))
    taus = np.linspace(-3, 3, 41)
    prof = performance_profile(x, taus, reps=500, rng=10)
    for curve in prof:
        assert np.all(np.diff(curve) <= 0)
    assert np.all(prof.low <= prof.point) and np.all(prof.point <= prof.high)
    assert prof.low[0] == prof.high[0] == 1.0 and prof.high[-1] == 0.0


def test_probability_of_improvement():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(6, 3))
    assert probability_of_improvement(x, x) == pytest.approx(0.5)
    assert probability_of_improvement(x + 10, x) == pytest.approx(1.0)
    assert probability_of_improvement(x - 10, x) == pytest.approx(0.0)
    # Per task Mann-Whitney U / (N_x N_y), with ties, averaged over tasks.
    a, b = rng.integers(0, 4, size=(5, 3)), rng.integers(0, 4, size=(7, 3))
    want = np.mean([stats.mannwhitneyu(a[:, m], b[:, m]).statistic / (5 * 7) for m in range(3)])
    assert probability_of_improvement(a, b) == pytest.approx(want)
    assert probability_of_improvement(a, b) + probability_of_improvement(b, a) == pytest.approx(1)


def test_probability_of_improvement_ci():
    rng = np.random.default_rng(12)
    x, y = rng.normal(1.0, 1.0, size=(10, 2)), rng.normal(0.0, 1.0, size=(8, 2))
    ci = probability_of_improvement_ci(x, y, reps=500, rng=13)
    assert 0.5 < ci.low <= ci.point <= ci.high <= 1.0
    dominated = probability_of_improvement_ci(x + 100, y, reps=100, rng=13)
    assert dominated.low == dominated.high == 1.0


def test_aggregate_curves_bands_contain_the_per_step_estimate():
    rng = np.random.default_rng(14)
    steps = np.linspace(0, 1, 50)
    curves = steps[None, :] + rng.normal(0, 0.2, size=(10, 50))  # (N, T)
    band = aggregate_curves(curves, reps=500, rng=15)
    assert band.point.shape == band.low.shape == band.high.shape == (50,)
    np.testing.assert_allclose(band.point, iqm(curves.T[..., None]))  # per-step IQM across runs
    assert np.all(band.low <= band.point) and np.all(band.point <= band.high)
    means = aggregate_curves(curves[:, None, :], statistic="mean", reps=500, rng=15)
    np.testing.assert_allclose(means.point, curves.mean(axis=0))
    # Identical seeds leave no uncertainty.
    flat = aggregate_curves(np.tile(steps, (4, 1)), reps=50, rng=0)
    np.testing.assert_allclose(flat.low, steps)
    np.testing.assert_allclose(flat.high, steps)


def test_summarize_across_seeds_rows():
    rng = np.random.default_rng(16)
    values = {
        0.05: rng.normal(1.0, 0.1, size=8),
        0.1: np.array([2.0, 2.0, np.nan, 2.0]),
        0.2: np.array([np.nan, np.nan]),
    }
    rows = summarize_across_seeds(values, reps=500, rng=17)
    assert [r.param for r in rows] == [0.05, 0.1, 0.2]
    first = rows[0]
    assert (first.n, first.n_nan) == (8, 0)
    assert first.mean == pytest.approx(values[0.05].mean())
    assert first.iqm == pytest.approx(stats.trim_mean(values[0.05], 0.25))
    assert first.ci_low < first.mean < first.ci_high and first.iqm_low < first.iqm < first.iqm_high
    second = rows[1]._asdict()
    assert second["n"] == 3 and second["n_nan"] == 1
    assert second["mean"] == second["ci_low"] == second["ci_high"] == 2.0
    assert rows[2].n == 0 and rows[2].n_nan == 2 and np.isnan(rows[2].mean)
    with pytest.raises(ValueError):
        summarize_across_seeds({})
    with pytest.raises(ValueError):
        summarize_across_seeds({1: np.ones((2, 2))})


def test_a_clear_difference_is_significant_and_its_interval_excludes_zero():
    rng = np.random.default_rng(20)
    x, y = rng.normal(0.0, 0.1, size=5), rng.normal(1.0, 0.1, size=5)
    found = difference_of_means(x, y, reps=1000, rng=0)
    assert found.difference == pytest.approx(y.mean() - x.mean())
    assert 0 < found.ci_low < found.difference < found.ci_high
    assert found.p_value == pytest.approx(2 / 252)  # exact: the most extreme of C(10, 5) splits


def test_identical_distributions_are_not_significant():
    rng = np.random.default_rng(21)
    x, y = rng.normal(0.0, 1.0, size=5), rng.normal(0.0, 1.0, size=5)
    found = difference_of_means(x, y, reps=1000, rng=0)
    assert found.p_value > 0.05 and found.ci_low < 0 < found.ci_high
    same = difference_of_means(np.ones(5), np.ones(5))
    assert same.difference == same.ci_low == same.ci_high == 0 and same.p_value == 1


def test_the_permutation_test_keeps_its_level_under_the_null():
    rng = np.random.default_rng(22)
    trials = 300
    p = np.array(
        [difference_of_means(*rng.exponential(size=(2, 5)), reps=10).p_value for _ in range(trials)]
    )  # skewed values, 5 seeds each
    rate = (p < 0.05).mean()
    assert rate < 0.05 + 4 * np.sqrt(0.05 * 0.95 / trials)


def test_three_seeds_against_three_can_never_be_significant_at_five_percent():
    found = difference_of_means(np.zeros(3) + [0, 0.1, 0.2], 10 + np.arange(3.0))
    assert found.p_value == pytest.approx(0.1)  # 2 / C(6, 3), the smallest there is


def test_undefined_seeds_are_dropped_and_an_empty_side_is_nan():
    found = difference_of_means(np.array([1.0, np.nan, 3.0]), np.array([5.0, 7.0]))
    assert (found.n_reference, found.n) == (2, 2) and found.difference == 4.0
    empty = difference_of_means(np.array([np.nan]), np.array([1.0, 2.0]))
    assert empty.n_reference == 0 and np.isnan(empty.difference) and np.isnan(empty.p_value)
