"""The social-outcome metrics against hand-computed cases (Perolat et al. 2017)."""

import numpy as np
import pytest

from emergent.metrics import efficiency, equality, peace, social_outcomes, sustainability


def episode() -> np.ndarray:
    """T = 4 steps, A = 2 agents. Agent 0 eats at t = 1 and 3, agent 1 at t = 4 (twice)."""
    return np.array([[1, 0], [0, 0], [1, 0], [0, 2]], dtype=float)  # (T, A)


def test_efficiency_is_total_reward_per_step():
    assert efficiency(episode()) == pytest.approx(4 / 4)


def test_equality_is_one_minus_gini():
    # R = (2, 2): perfectly equal.
    assert equality(episode()) == pytest.approx(1.0)
    # R = (3, 1): sum_ij |Ri - Rj| = 4, 2 N sum R = 2 * 2 * 4 = 16 -> E = 1 - 4/16.
    rewards = np.array([[3, 1]], dtype=float)
    assert equality(rewards) == pytest.approx(0.75)
    # One agent takes everything among 4: E = 1 - (2 * 3 * 5) / (2 * 4 * 5) = 1/4 = 1/A.
    assert equality(np.array([[5, 0, 0, 0]], dtype=float)) == pytest.approx(0.25)


def test_equality_of_an_empty_episode_is_perfect():
    assert equality(np.zeros((3, 2))) == 1.0


def test_sustainability_is_mean_time_of_reward():
    # Agent 0: rewarded at t = 1, 3 -> 2; agent 1: t = 4 -> 4. Mean over agents 3.
    assert sustainability(episode()) == pytest.approx(3.0)


def test_sustainability_skips_agents_never_rewarded_and_is_nan_when_nobody_was():
    rewards = np.array([[0, 0], [1, 0]], dtype=float)
    assert sustainability(rewards) == pytest.approx(2.0)
    assert np.isnan(sustainability(np.zeros((3, 2))))


def test_peace_counts_untagged_agent_steps_per_step():
    removed = np.array([[0, 1], [0, 1], [0, 0], [1, 0]])  # 3 tagged agent-steps out of 8
    assert peace(removed) == pytest.approx((2 * 4 - 3) / 4)
    assert peace(np.zeros((5, 3))) == pytest.approx(3.0)


def test_metrics_are_batched_over_leading_dimensions():
    batch = np.stack([episode(), 2 * episode(), np.zeros((4, 2))])  # (B, T, A)
    np.testing.assert_allclose(efficiency(batch), [1.0, 2.0, 0.0])
    np.testing.assert_allclose(equality(batch), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(sustainability(batch)[:2], [3.0, 3.0])
    out = social_outcomes(batch, np.zeros((3, 4, 2)))
    assert out["efficiency"] == pytest.approx(1.0)
    assert out["sustainability"] == pytest.approx(3.0)  # the all-zero episode is skipped
    assert out["peace"] == pytest.approx(2.0)
