"""Causal influence of communication and social influence against hand-computed listeners."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from emergent.metrics.influence import (
    action_probs_under_interventions,
    causal_influence_of_communication,
    social_influence,
    social_influence_reward,
)
from envs.messages import SILENT


def random_distributions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


def released_code_cic(action_probs: np.ndarray, message_probs: np.ndarray) -> float:
    """Lowe et al.'s `calc_cic` (measuring-emergent-comm, eval.py) per state, transcribed:
    p(a) = np.mean(p_ac, axis=0), a uniform average of the joint over messages, in bits."""
    values = []
    for p_a_given_do_c, p_c in zip(action_probs, message_probs, strict=True):
        p_ac = p_a_given_do_c * p_c[:, None]
        p_ac = p_ac / p_ac.sum()
        p_a = p_ac.mean(axis=0)
        on = p_ac > 0
        outer = p_c[:, None] * p_a[None, :]
        values.append((p_ac[on] * np.log2(p_ac[on] / outer[on])).sum())
    return float(np.mean(values))


def test_a_listener_that_ignores_messages_has_zero_cic_where_the_released_code_says_log_m():
    rng = np.random.default_rng(0)
    N, M, A = 50, 8, 5
    per_state = random_distributions(rng, (N, A))  # depends on the state, not the message
    action_probs = np.repeat(per_state[:, None], M, axis=1)  # (N, M, A)
    message_probs = random_distributions(rng, (N, M))
    assert causal_influence_of_communication(action_probs, message_probs) == pytest.approx(
        0.0, abs=1e-12
    )
    assert causal_influence_of_communication(action_probs) == pytest.approx(0.0, abs=1e-12)
    assert released_code_cic(action_probs, message_probs) == pytest.approx(np.log2(M))


def test_a_one_to_one_listener_has_cic_log_m_and_the_entropy_of_the_speaker_in_general():
    M = 4
    action_probs = np.broadcast_to(np.eye(M), (3, M, M))  # message m -> action m
    assert causal_influence_of_communication(action_probs) == pytest.approx(np.log2(M))
    p_m = np.array([0.5, 0.25, 0.125, 0.125])  # H = 1.75 bits
    assert causal_influence_of_communication(action_probs, p_m) == pytest.approx(1.75)
    # the released code adds log2 M to the same listener: 2 + 1.75 bits
    p_m_rows = np.broadcast_to(p_m, (3, M))
    assert released_code_cic(action_probs, p_m_rows) == pytest.approx(1.75 + np.log2(M))


def test_cic_by_hand_and_per_state_speaker_probabilities():
    # do(m0) -> action 0 surely, do(m1) -> a coin; uniform p(m): the marginal is (3/4, 1/4)
    # and CIC = H(3/4, 1/4) - (0 + 1) / 2 = 0.8113 - 0.5
    one = np.array([[[1.0, 0.0], [0.5, 0.5]]])
    h = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    assert causal_influence_of_communication(one) == pytest.approx(h - 0.5)
    # a state where the speaker always sends m0 contributes 0: the mean is (h - 0.5) / 2
    two = np.concatenate([one, one])
    p_m = np.array([[0.5, 0.5], [1.0, 0.0]])
    assert causal_influence_of_communication(two, p_m) == pytest.approx((h - 0.5) / 2)


def test_cic_refuses_what_is_not_a_distribution():
    with pytest.raises(ValueError, match="action_probs"):
        causal_influence_of_communication(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="axes"):
        causal_influence_of_communication(np.full((3, 4), 0.25))
    with pytest.raises(ValueError, match="message_probs"):
        causal_influence_of_communication(np.full((2, 3, 4), 0.25), np.array([0.5, 0.5, 0.5]))
    assert np.isnan(causal_influence_of_communication(np.zeros((0, 3, 4))))


def listener(observations: np.ndarray, reads_messages: bool):
    """p(a | s, message) for N states: action = first token (a cut channel: uniform), or,
    for a listener that ignores the channel, action = the state's own preference."""

    def probs_fn(messages: np.ndarray) -> np.ndarray:
        token = messages[:, 0] if reads_messages else observations
        probs = np.eye(4)[np.maximum(token, 0)]  # (N, 4)
        return np.where((token == SILENT)[:, None], 0.25, probs)

    return probs_fn


def test_interventions_over_all_messages():
    rng = np.random.default_rng(1)
    observations = rng.integers(0, 4, 10)
    candidates = np.array(list(itertools.product(range(4), repeat=2)))  # (16, 2): V**L
    reads = action_probs_under_interventions(listener(observations, True), candidates, 10)
    assert reads.shape == (10, 16, 4)
    # 16 equally likely messages, the first token decides among 4 actions: 2 bits
    assert causal_influence_of_communication(reads) == pytest.approx(2.0)
    ignores = action_probs_under_interventions(listener(observations, False), candidates, 10)
    assert causal_influence_of_communication(ignores) == pytest.approx(0.0, abs=1e-12)
    # a cut channel (the SILENT message) as one more intervention: uniform over actions
    cut = action_probs_under_interventions(listener(observations, True), [[SILENT] * 2], 10)
    np.testing.assert_allclose(cut[:, 0], 0.25)
    with pytest.raises(ValueError, match="probs_fn"):
        action_probs_under_interventions(lambda m: np.ones((3, 4)) / 4, candidates, 10)


def test_social_influence_of_an_ignored_agent_is_zero():
    rng = np.random.default_rng(2)
    N, Ak, Aj = 20, 3, 5
    p_k = random_distributions(rng, (N, Ak))
    p_j_given_k = np.repeat(random_distributions(rng, (N, Aj))[:, None], Ak, axis=1)
    assert social_influence(p_j_given_k, p_k) == pytest.approx(0.0, abs=1e-12)
    taken = rng.integers(0, Ak, N)
    np.testing.assert_allclose(social_influence_reward(p_j_given_k, p_k, taken), 0.0, atol=1e-12)


def test_social_influence_of_a_copied_agent_is_its_entropy():
    rng = np.random.default_rng(3)
    N, A = 20, 4
    p_k = random_distributions(rng, (N, A))
    copy = np.broadcast_to(np.eye(A), (N, A, A))  # j does what k did
    entropy = -(p_k * np.log2(p_k)).sum(axis=1)
    assert social_influence(copy, p_k) == pytest.approx(entropy.mean())
    # the reward of action a is KL(delta_a || p_k) = -log2 p_k(a) ...
    taken = rng.integers(0, A, N)
    reward = social_influence_reward(copy, p_k, taken)
    np.testing.assert_allclose(reward, -np.log2(p_k[np.arange(N), taken]))
    # ... and its expectation over a ~ p_k is the metric, for any listener
    p_j = random_distributions(rng, (N, A, 3))
    expected = sum(p_k[:, a] * social_influence_reward(p_j, p_k, np.full(N, a)) for a in range(A))
    assert social_influence(p_j, p_k) == pytest.approx(expected.mean())


def test_social_influence_checks_shapes_and_actions():
    p_k = np.full((2, 3), 1 / 3)
    p_j = np.full((2, 3, 4), 0.25)
    with pytest.raises(ValueError, match="p_k"):
        social_influence(p_j, np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="taken"):
        social_influence_reward(p_j, p_k, np.array([0, 3]))
    # a taken action that p_k deems impossible while j reacts to it: infinite surprise
    p_k0 = np.array([[1.0, 0.0, 0.0]])
    react = np.eye(3)[None]  # (1, 3, 3)
    assert social_influence_reward(react, p_k0, np.array([1]))[0] == np.inf
    assert social_influence(react, p_k0) == 0.0
