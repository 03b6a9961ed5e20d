"""Division-of-labour metrics on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import envs
from emergent.metrics.labour import (
    cleaners,
    correlation,
    labour_summary,
    labour_totals,
    shares,
    specialisation,
)
from emergent.rollout import random_policy, run_episodes


def log_from_totals(cleaned, eaten, steps: int = 4):
    """Episodes (B, T, A) whose per-agent totals are `cleaned` and `eaten` (B, A), spread over
    `steps` steps (the remainder on the first step), with reward 1 per apple."""
    cleaned, eaten = np.atleast_2d(cleaned), np.atleast_2d(eaten)

    def spread(totals):
        per_step = np.repeat((totals // steps)[:, None, :], steps, axis=1)
        per_step[:, 0] += totals % steps
        return per_step.astype(np.int32)

    events = {"cleaned": spread(cleaned), "apples": spread(eaten)}
    return events["apples"].astype(np.float32), events


def test_totals_and_shares():
    rewards, events = log_from_totals([[6, 2, 0]], [[1, 1, 3]])
    c, e = labour_totals(events)
    assert c.tolist() == [[6, 2, 0]] and e.tolist() == [[1, 1, 3]]
    np.testing.assert_allclose(shares(c), [[0.75, 0.25, 0.0]])
    assert np.isnan(shares(np.zeros((1, 3)))).all()
    with pytest.raises(KeyError, match="cleaned"):
        labour_totals({"apples": events["apples"]})


def test_everyone_doing_both_equally_is_no_specialisation():
    c = np.array([[5, 5, 5, 5]])
    e = np.array([[2, 2, 2, 2]])  # units differ from cleaning: shares are what count
    assert specialisation(c, e)[0] == pytest.approx(0.0, abs=1e-12)
    assert cleaners(c, e)[0] == 0
    assert np.isnan(correlation(c, e)[0])  # nobody differs from anybody
    summary = labour_summary(*log_from_totals(c, e))
    assert summary["specialisation"] == pytest.approx(0.0, abs=1e-12)
    assert summary["top_cleaner_share"] == pytest.approx(0.25)
    assert summary["cleaners"] == 0 and summary["waste_cleaned_per_agent"] == pytest.approx(5.0)


def test_half_clean_only_and_half_eat_only_is_complete_specialisation():
    c = np.array([[7, 3, 0, 0]])  # unequal amounts within each group do not matter
    e = np.array([[0, 0, 4, 9]])
    assert specialisation(c, e)[0] == pytest.approx(1.0)
    assert cleaners(c, e)[0] == 2
    assert correlation(np.array([[4, 4, 0, 0]]), np.array([[0, 0, 9, 9]]))[0] == pytest.approx(-1)
    summary = labour_summary(*log_from_totals(c, e))
    assert summary["specialisation"] == pytest.approx(1.0)
    assert summary["top_cleaner_share"] == pytest.approx(0.7)
    assert summary["cleaners"] == 2
    # rewards are the apples, so the two cleaners earned nothing: cleaning and return oppose
    assert summary["clean_return_correlation"] < -0.5


def test_partial_specialisation_by_hand():
    # shares s = (3/4, 1/4), t = (1/4, 3/4), m = (1/2, 1/2):
    # D = 1/2 [3/4 log2(3/2) + 1/4 log2(1/2)] * 2 = 1 - H2(1/4), H2 the binary entropy.
    c, e = np.array([[3, 1]]), np.array([[1, 3]])
    h = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    assert specialisation(c, e)[0] == pytest.approx(1 - h)
    assert correlation(c, e)[0] == pytest.approx(-1.0)
    assert cleaners(c, e)[0] == 1


def test_correlation_matches_numpy_and_handles_batches():
    rng = np.random.default_rng(0)
    x, y = rng.random((5, 6)), rng.random((5, 6))
    expected = [np.corrcoef(x[b], y[b])[0, 1] for b in range(5)]
    np.testing.assert_allclose(correlation(x, y), expected)
    assert np.isnan(correlation(np.full((1, 3), 0.1), [[1.0, 2.0, 3.0]])[0])


def test_undefined_episodes_are_left_out_of_the_summary():
    c = np.array([[0, 0], [2, 0]])  # nobody cleaned in episode 0
    e = np.array([[3, 1], [0, 2]])
    assert np.isnan(specialisation(c, e)[0]) and specialisation(c, e)[1] == pytest.approx(1.0)
    summary = labour_summary(*log_from_totals(c, e))
    assert summary["specialisation"] == pytest.approx(1.0)
    assert summary["top_cleaner_share"] == pytest.approx(1.0)
    assert summary["waste_cleaned_per_agent"] == pytest.approx(0.5)  # (0 + 1) / 2 episodes
    nothing = labour_summary(*log_from_totals(np.zeros((2, 3), int), np.zeros((2, 3), int)))
    assert math.isnan(nothing["specialisation"]) and nothing["cleaners"] == 0


def test_summary_reads_a_real_cleanup_log():
    env = envs.make("cleanup", batch_size=2, seed=0, max_steps=60)
    log = run_episodes(env, random_policy(env.action_space, np.random.default_rng(0)), seed=0)
    summary = labour_summary(log.rewards, log.events)
    assert set(summary) == {
        "top_cleaner_share",
        "cleaners",
        "specialisation",
        "clean_eat_correlation",
        "clean_return_correlation",
        "waste_cleaned_per_agent",
    }
    assert all(isinstance(v, float) for v in summary.values())
    expected = log.events["cleaned"].sum() / (2 * env.num_agents)
    assert summary["waste_cleaned_per_agent"] == pytest.approx(expected) and expected > 0
