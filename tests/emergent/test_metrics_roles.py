"""Roles and behavioural diversity: SND against optimal transport, fingerprints of world logs,
and role detection on planted groups and on identical agents."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import envs
from emergent.metrics.aggregate import summarize_across_seeds
from emergent.metrics.labour import specialisation
from emergent.metrics.roles import (
    IDLE_ROLE,
    ONE_ROLE,
    SILHOUETTE_MIN,
    SILHOUETTE_WEAK,
    Roles,
    exchangeable_p,
    fingerprint_specialisation,
    fingerprints,
    roles,
    roles_across_seeds,
    roles_from_episodes,
    snd_categorical,
    snd_gaussian,
)
from emergent.rollout import random_policy, run_episodes

NAMES = ("cleaned", "apples", "beams")


def w2_by_linprog(p: np.ndarray, q: np.ndarray) -> float:
    """W2 between two distributions on the one-hot vertices of R^n, by solving the transport
    linear programme min sum_ab gamma_ab ||e_a - e_b||^2 over couplings gamma of p and q."""
    n = len(p)
    vertices = np.eye(n)
    cost = ((vertices[:, None] - vertices[None]) ** 2).sum(axis=-1)  # (n, n), 2 off-diagonal
    rows = np.kron(np.eye(n), np.ones(n))  # sum_b gamma_ab = p_a
    cols = np.kron(np.ones(n), np.eye(n))  # sum_a gamma_ab = q_b
    res = linprog(cost.ravel(), A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([p, q]))
    assert res.success
    return math.sqrt(max(res.fun, 0.0))


def snd_by_pairs(probs: np.ndarray) -> float:
    """SND from its definition: mean over pairs i < j and observations of the LP W2."""
    A, N, _ = probs.shape
    pairs = [(i, j) for i in range(A) for j in range(i + 1, A)]
    return float(
        np.mean(
            [np.mean([w2_by_linprog(probs[i, o], probs[j, o]) for o in range(N)]) for i, j in pairs]
        )
    )


def random_probs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


# ---------------------------------------------------------------------------------------------
# System Neural Diversity


def test_snd_is_zero_for_identical_policies():
    rng = np.random.default_rng(0)
    probs = np.repeat(random_probs(rng, (1, 5, 4)), 3, axis=0)  # (A=3, N=5, n=4)
    means = np.repeat(rng.normal(size=(1, 5, 2)), 3, axis=0)
    stds = np.repeat(rng.uniform(0.1, 1.0, size=(1, 5, 2)), 3, axis=0)
    assert snd_categorical(probs) == 0.0
    assert snd_gaussian(means, stds) == 0.0


@pytest.mark.parametrize("A, n", [(2, 2), (2, 5), (3, 3), (4, 6)])
def test_snd_categorical_equals_optimal_transport(A, n):
    rng = np.random.default_rng(A * 10 + n)
    for _ in range(3):
        probs = random_probs(rng, (A, 2, n))
        probs[0, 0] = np.eye(n)[0]  # a deterministic policy among them
        assert snd_categorical(probs) == pytest.approx(snd_by_pairs(probs), abs=1e-7)


def test_snd_categorical_range():
    deterministic = np.eye(3)[:, None, :]  # three agents, each its own action: (3, 1, 3)
    assert snd_categorical(deterministic) == pytest.approx(math.sqrt(2))
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.0, 0.5])  # TV = 1/2
    assert snd_categorical(np.stack([p, q])[:, None]) == pytest.approx(1.0)


def test_snd_gaussian_hand_example():
    # Agents 0 and 1 differ on observation 0: |dmu| = 3, |dsigma| = 4, W2 = 5; alike on obs 1.
    means = np.array([[[0.0, 0.0], [1.0, 1.0]], [[3.0, 0.0], [1.0, 1.0]]])  # (A=2, N=2, d=2)
    stds = np.array([[[1.0, 1.0], [0.5, 0.5]], [[1.0, 5.0], [0.5, 0.5]]])
    assert snd_gaussian(means, stds) == pytest.approx(2.5)
    # A third agent equal to agent 0: pairs (0,1) 2.5, (0,2) 0, (1,2) 2.5.
    three_means, three_stds = np.concatenate([means, means[:1]]), np.concatenate([stds, stds[:1]])
    assert snd_gaussian(three_means, three_stds) == pytest.approx(5 / 3)


def test_snd_batch_axes():
    rng = np.random.default_rng(1)
    probs = random_probs(rng, (2, 3, 4, 5, 3))  # (B1, B2, A, N, n)
    out = snd_categorical(probs)
    assert out.shape == (2, 3)
    assert out[1, 2] == pytest.approx(snd_categorical(probs[1, 2]))
    means, stds = rng.normal(size=(2, 3, 4, 2)), rng.uniform(size=(2, 3, 4, 2))
    assert snd_gaussian(means, stds)[1] == pytest.approx(snd_gaussian(means[1], stds[1]))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    A=st.integers(2, 5),
    N=st.integers(1, 4),
    n=st.integers(2, 5),
)
def test_snd_symmetric_order_invariant_and_positive(seed, A, N, n):
    rng = np.random.default_rng(seed)
    probs = random_probs(rng, (A, N, n))
    order = rng.permutation(A)
    assert snd_categorical(probs[order]) == pytest.approx(snd_categorical(probs), abs=1e-12)
    pair = probs[:2]
    assert snd_categorical(pair) == pytest.approx(snd_categorical(pair[::-1]), abs=1e-12)
    assert (snd_categorical(pair) > 0) == (not np.allclose(pair[0], pair[1], atol=0, rtol=0))
    means, stds = rng.normal(size=(A, N, 2)), rng.uniform(0.1, 1.0, size=(A, N, 2))
    assert snd_gaussian(means[order], stds[order]) == pytest.approx(snd_gaussian(means, stds))
    assert snd_gaussian(means[:2], stds[:2]) > 0


# ---------------------------------------------------------------------------------------------
# Fingerprints


def test_fingerprints_are_per_event_shares_over_episodes():
    cleaned = np.zeros((2, 3, 4), dtype=np.int32)  # (B, T, A)
    cleaned[0, 0] = [3, 1, 0, 0]
    cleaned[1, 2] = [1, 3, 0, 0]
    token = np.zeros((2, 3, 4), dtype=np.int32)  # token said + 1: agent 2 speaks twice, 3 once
    token[0, :2, 2] = [5, 1]
    token[1, 0, 3] = 7
    events = {"cleaned": cleaned, "token": token, "apples": np.zeros_like(cleaned)}
    f = fingerprints(events, ["cleaned", "token", "apples"])
    np.testing.assert_allclose(f[:, 0], [0.5, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(f[:, 1], [0.0, 0.0, 2 / 3, 1 / 3])
    np.testing.assert_allclose(f[:, 2], 0.25)  # nobody ate: equal shares
    many = {k: np.stack([v, v, v]) for k, v in events.items()}  # (3, B, T, A)
    np.testing.assert_allclose(fingerprints(many, ["cleaned", "token", "apples"]), f)


def test_fingerprints_take_cleanup_logs_directly():
    env = envs.make("cleanup", batch_size=2, seed=0, max_steps=40)
    log = run_episodes(env, random_policy(env.action_space, np.random.default_rng(0)), seed=0)
    f = fingerprints(log.events, ["cleaned", "apples", "beams", "tagged"])
    assert f.shape == (env.num_agents, 4)
    np.testing.assert_allclose(f.sum(axis=0), 1.0)
    assert roles(f).labels.shape == (env.num_agents,)


def test_fingerprint_specialisation_generalises_labour():
    rng = np.random.default_rng(2)
    cleaned, eaten = rng.integers(0, 10, size=(6, 5)), rng.integers(1, 10, size=(6, 5))
    cleaned[:, 0] += 1
    shares = np.stack(
        [cleaned / cleaned.sum(-1, keepdims=True), eaten / eaten.sum(-1, keepdims=True)]
    )
    f = np.moveaxis(shares, 0, -1)  # (6 episodes, A=5, E=2)
    np.testing.assert_allclose(fingerprint_specialisation(f), specialisation(cleaned, eaten))
    assert fingerprint_specialisation(np.full((4, 3), 0.25)) == pytest.approx(0.0)
    assert fingerprint_specialisation(np.eye(3)) == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# Roles


def poisson_events(rates: np.ndarray, seed: int, episodes: int = 4, steps: int = 100) -> dict:
    """Per-step Poisson counters {event: (B, T, A)} with agent a doing event e at rates[a, e]."""
    rng = np.random.default_rng(seed)
    return {
        name: rng.poisson(rates[:, e], size=(episodes, steps, len(rates)))
        for e, name in enumerate(NAMES)
    }


def test_two_groups_are_cleaners_and_eaters():
    cleaner, eater = [0.4, 0.05, 0.1], [0.05, 0.4, 0.1]
    order = [0, 1, 0, 1, 1, 0]  # agents 0, 2, 5 clean; 1, 3, 4 eat
    rates = np.array([[cleaner, eater][g] for g in order])
    found = roles(fingerprints(poisson_events(rates, seed=3), NAMES))
    assert found.k == 2
    assert found.labels.tolist() == order
    assert found.describe(NAMES) == ["cleaners", "eaters"]
    assert found.silhouette > 0.5 and found.separation > 0.5
    assert found.centroids.shape == (2, 3)


def test_roles_do_not_depend_on_agent_order():
    rates = np.array([[0.4, 0.05, 0.1]] * 3 + [[0.05, 0.4, 0.1]] * 3 + [[0.1, 0.1, 0.4]] * 2)
    f = fingerprints(poisson_events(rates, seed=4), NAMES)
    found = roles(f)
    assert found.k == 3 and found.describe(NAMES) == ["cleaners", "eaters", "taggers"]
    order = np.random.default_rng(0).permutation(len(f))
    shuffled = roles(f[order])
    same = found.labels[order]  # the partition, relabelled by first appearance
    _, first = np.unique(same, return_index=True)
    relabel = np.argsort(np.argsort(first))
    assert shuffled.labels.tolist() == relabel[same].tolist()


def test_identical_agents_give_one_role():
    rates = np.tile([0.3, 0.2, 0.2], (6, 1))
    ks = [roles(fingerprints(poisson_events(rates, seed), NAMES)).k for seed in range(50)]
    assert np.mean(np.array(ks) == 1) >= 0.95


def test_describe_names():
    one = Roles(1, np.zeros(3, dtype=int), np.ones((1, 2)), float("nan"), float("nan"))
    assert one.describe(["apples", "beams"]) == [ONE_ROLE]
    three = Roles(3, np.arange(3), np.array([[2.0, 0.5], [1.5, 0.5], [0.8, 0.9]]), 0.7, 0.6)
    assert three.describe(["apples", "removed"]) == ["eaters 1", "eaters 2", IDLE_ROLE]
    assert three.describe(["x", "y"], nouns={}) == ["x 1", "x 2", IDLE_ROLE]


def test_roles_edge_cases():
    assert roles(np.full((4, 2), 0.25)).k == 1  # all alike: nothing to cluster
    assert roles(np.array([[1.0, 0.0], [0.0, 1.0]])).k == 1  # two agents: no silhouette
    assert roles(np.eye(4)[:, :2] + 0.0, max_roles=1).k == 1


def test_permutation_test_finds_groups_and_holds_its_level_for_identical_agents():
    groups = np.array([[0.4, 0.05, 0.1]] * 3 + [[0.05, 0.4, 0.1]] * 3)
    assert exchangeable_p(poisson_events(groups, seed=1), NAMES) == pytest.approx(0.001)
    alike = np.tile([0.3, 0.2, 0.2], (6, 1))
    p = np.array([exchangeable_p(poisson_events(alike, s), NAMES, rng=s) for s in range(100)])
    assert np.mean(p < 0.05) <= 0.1  # a valid test: about 5 % below its level
    assert 0.4 < p.mean() < 0.6  # and p roughly uniform under the null
    assert ((p > 0) & (p <= 1)).all()


def test_one_episode_cannot_reject_exchangeable_agents():
    groups = np.array([[0.4, 0.05, 0.1]] * 3 + [[0.05, 0.4, 0.1]] * 3)
    assert exchangeable_p(poisson_events(groups, seed=1, episodes=1), NAMES) == 1.0


def test_a_few_events_per_agent_make_no_roles():
    # Random play's regime: identical agents with a handful of events each per episode. Chance
    # shares can pass roles()'s silhouette and separation; the test keeps its level.
    alike = np.tile([0.01, 0.01, 0.01], (5, 1))
    logs = [poisson_events(alike, s, episodes=8) for s in range(100)]
    tested = [roles_from_episodes(log, NAMES, permutations=199).k for log in logs]
    assert np.mean(np.array(tested) > 1) <= 0.1


def test_a_weak_but_consistent_split_is_two_roles_once_tested():
    # Four cleaners along a continuum and one eater, as Cleanup's seed 0 ends at 2M steps:
    # a weak structure (silhouette 0.26-0.5) that repeats in every episode.
    relative = np.array([[1.66, 0.65, 1], [1.52, 0.06, 1], [0.53, 1.28, 1], [1.06, 0.09, 1],
                         [0.23, 2.92, 1]])  # fmt: skip
    log = poisson_events(relative * [0.1, 0.02, 0.05], seed=0, episodes=8, steps=200)
    untested = roles(fingerprints(log, NAMES))
    assert untested.k == 1 and SILHOUETTE_WEAK < untested.silhouette < SILHOUETTE_MIN
    found = roles_from_episodes(log, NAMES)
    assert found.k == 2 and found.labels.tolist() == [0, 0, 0, 0, 1]
    assert found.describe(NAMES) == ["cleaners", "eaters"]
    assert found.p_value == pytest.approx(0.001) and found.structure == "weak"


def test_structure_words_follow_kaufman_and_rousseeuw():
    def structure(s: float) -> str:
        return Roles(1, np.zeros(3, dtype=int), np.ones((1, 2)), s, 1.0).structure

    assert [structure(s) for s in (0.8, 0.6, 0.4, 0.1, float("nan"))] == [
        "strong", "reasonable", "weak", "no substantial", "no substantial"]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Across seeds


def test_roles_across_seeds():
    split = np.array([[0.5, 0.0], [0.5, 0.0], [0.0, 0.5], [0.0, 0.5]])  # 2 cleaners, 2 eaters
    alike = np.full((4, 2), 0.25)
    snd = [0.3, 0.5, 0.4, float("nan")]
    out = roles_across_seeds([split, alike, roles(split), alike], snd=snd, reps=200)
    assert out.n_roles.tolist() == [2, 1, 2, 1]
    assert out.multi_role_fraction == pytest.approx(0.5)
    expected = summarize_across_seeds({"snd": np.array(snd)}, reps=200)[0]
    assert out.snd is not None and out.snd.n == 3 and out.snd.n_nan == 1
    assert out.snd.mean == pytest.approx(expected.mean)
    assert out.snd.ci_low <= out.snd.mean <= out.snd.ci_high
    assert roles_across_seeds([alike]).snd is None


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "call",
    [
        lambda: snd_categorical(np.full((1, 2, 3), 1 / 3)),  # one agent
        lambda: snd_categorical(np.full((2, 3), 1 / 3)),  # no observation axis
        lambda: snd_categorical(np.full((2, 2, 3), 0.5)),  # not distributions
        lambda: snd_gaussian(np.zeros((2, 3, 1)), np.ones((2, 3, 2))),
        lambda: snd_gaussian(np.zeros((2, 3, 1)), -np.ones((2, 3, 1))),
        lambda: fingerprints({"a": np.zeros((2, 3)), "b": np.zeros((2, 4))}, ["a", "b"]),
        lambda: fingerprints({"a": np.zeros(3)}, ["a"]),
        lambda: fingerprints({"a": np.zeros((2, 3))}, []),
        lambda: fingerprint_specialisation(np.full((3, 1), 1 / 3)),
        lambda: roles(np.zeros(4)),
        lambda: roles(-np.ones((3, 2))),
        lambda: roles(np.ones((3, 2)), max_roles=0),
        lambda: roles(np.eye(3)).describe(["a"]),
        lambda: roles_across_seeds([]),
        lambda: exchangeable_p({"a": np.zeros((2, 3, 4))}, ["a"], permutations=0),
        lambda: roles_across_seeds([np.eye(3)], snd=[0.1, 0.2]),
    ],
)
def test_bad_input_is_a_one_line_value_error(call):
    with pytest.raises(ValueError) as error:
        call()
    assert "\n" not in str(error.value)


def test_missing_event_is_a_key_error():
    with pytest.raises(KeyError, match="cleaned"):
        fingerprints({"apples": np.zeros((2, 3))}, ["cleaned", "apples"])
