"""Communication metrics against hand-computed cases and signalling-game episode logs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

import envs
from emergent.metrics.communication import (
    _spearman,
    bag_of_symbols_disentanglement,
    communication_summary,
    edit_distances,
    message_entropy,
    messages_and_meanings,
    mutual_information,
    positional_disentanglement,
    positive_signalling,
    success_rate,
    topographic_similarity,
)
from emergent.rollout import random_policy, run_episodes
from envs.messages import SILENT
from envs.signalling.rules import obs_slices

OBJECTS = np.array(list(itertools.product(range(4), range(4))))  # (16, 2): all meanings


def levenshtein(a, b) -> int:
    """Textbook O(len(a) len(b)) dynamic programme, one pair at a time."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def test_edit_distances_match_the_textbook_dynamic_programme():
    assert edit_distances(np.array([list("kitten")]), np.array([list("sitting")])).tolist() == [3]
    rng = np.random.default_rng(0)
    for la, lb in [(1, 1), (3, 3), (4, 2), (2, 5)]:
        a, b = rng.integers(0, 3, (200, la)), rng.integers(0, 3, (200, lb))
        assert edit_distances(a, b).tolist() == [
            levenshtein(x, y) for x, y in zip(a, b, strict=True)
        ]


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 4, 300), rng.integers(0, 5, 300) + rng.integers(0, 4, 300)
    assert _spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)


def test_identity_protocol_is_perfectly_compositional():
    messages = OBJECTS.copy()  # token i names the value of attribute i
    assert topographic_similarity(OBJECTS, messages) == pytest.approx(1.0)
    assert mutual_information(OBJECTS, messages) == pytest.approx(4.0)  # log2 16
    assert message_entropy(messages) == pytest.approx(4.0)


def test_constant_message_carries_no_information():
    messages = np.zeros((16, 2), dtype=int)
    assert mutual_information(OBJECTS, messages) == 0.0
    assert message_entropy(messages) == 0.0
    assert np.isnan(topographic_similarity(OBJECTS, messages))


def test_random_permutation_protocol_is_informative_but_not_compositional():
    perm = np.random.default_rng(2).permutation(16)
    messages = np.stack([perm // 4, perm % 4], axis=1)  # a distinct arbitrary name each
    assert mutual_information(OBJECTS, messages) == pytest.approx(4.0)
    assert topographic_similarity(OBJECTS, messages) < 0.5  # identity: 1; chance: ~0 +- 0.1


def test_mutual_information_by_hand():
    # H(S) = 1, H(M) = H(3/4, 1/4) = 0.8113, H(S, M) = H(1/2, 1/4, 1/4) = 1.5
    s, m = np.array([[0], [0], [1], [1]]), np.array([[0], [0], [0], [1]])
    h_m = -(0.75 * np.log2(0.75) + 0.25 * np.log2(0.25))
    assert message_entropy(m) == pytest.approx(h_m)
    assert mutual_information(s, m) == pytest.approx(1 + h_m - 1.5)


def hand_log():
    """B = 2 episodes, T = 3 steps (L = 2), A = 4 (two pairs). Columns: speaker, listener."""
    token = np.zeros((2, 3, 4), dtype=np.int32)
    token[0, :2, 0], token[0, :2, 2] = [1, 2], [3, 3]  # messages (0, 1) and (2, 2)
    token[1, :2, 0], token[1, :2, 2] = [4, 1], [2, 4]  # messages (3, 0) and (1, 3)
    attr_0, attr_1, success = (np.zeros((2, 3, 4), dtype=np.int32) for _ in range(3))
    attr_0[:, 2, ::2] = [[1, 3], [4, 2]]
    attr_1[:, 2, ::2] = [[2, 3], [1, 4]]
    success[0, 2] = [1, 1, 0, 0]
    success[1, 2] = [1, 1, 1, 1]
    events = {"success": success, "token": token, "attr_0": attr_0, "attr_1": attr_1}
    return np.asarray(success, dtype=np.float32), events


def test_messages_and_meanings_read_back_from_events():
    rewards, events = hand_log()
    meanings, messages = messages_and_meanings(events)
    assert meanings.tolist() == [[0, 1], [2, 2], [3, 0], [1, 3]]
    assert messages.tolist() == [[0, 1], [2, 2], [3, 0], [1, 3]]
    assert success_rate(events) == pytest.approx(3 / 4)
    summary = communication_summary(rewards, events)
    assert summary["success_rate"] == pytest.approx(0.75)
    assert summary["reward_per_game"] == pytest.approx(0.75)
    assert summary["mutual_information"] == pytest.approx(2.0)  # 4 games, 4 distinct each
    meanings, messages = messages_and_meanings(events)
    assert summary["posdis"] == pytest.approx(positional_disentanglement(meanings, messages))
    assert summary["bosdis"] == pytest.approx(
        bag_of_symbols_disentanglement(meanings, messages, vocab_size=4)
    )
    with pytest.raises(ValueError, match="attr_0"):
        messages_and_meanings({"token": events["token"]})


def identity_policy(cfg, obs: np.ndarray) -> np.ndarray:
    """Speaker: token t = value of attribute t. Listener: the candidate spelled out."""
    part = obs_slices(cfg)
    t = obs[:, part["phase"]].argmax(-1)
    target = obs[:, part["target"]].reshape(len(obs), -1, cfg.n_values).argmax(-1)
    heard = obs[:, part["message"]].reshape(len(obs), -1, cfg.vocab_size).argmax(-1)
    cand = obs[:, part["candidates"]].reshape(len(obs), cfg.num_candidates, -1, cfg.n_values)
    pick = (cand.argmax(-1) == heard[:, None]).all(-1).argmax(-1)
    speaking = obs[:, part["role"].start] == 1
    return np.where(speaking, target[np.arange(len(obs)), np.minimum(t, 1)], pick)


def test_summary_of_signalling_episodes_with_a_compositional_and_a_random_protocol():
    env = envs.make("signalling", batch_size=512, seed=0, pairs=2)
    log = run_episodes(env, lambda obs: identity_policy(env.cfg, obs), seed=1)
    meanings, messages = messages_and_meanings(log.events)
    assert meanings.shape == messages.shape == (1024, 2)
    np.testing.assert_array_equal(meanings, messages)
    good = communication_summary(log.rewards, log.events)
    assert good["success_rate"] == 1.0 and good["reward_per_game"] == 1.0
    assert good["topographic_similarity"] == pytest.approx(1.0)
    h = mutual_information(meanings, meanings)  # empirical H(S), close to 4 bits
    assert good["mutual_information"] == pytest.approx(h) and h > 3.9
    # position t names attribute t: posdis 1 up to the plug-in I(m_0; a_1) ~ 9 / (2 n ln 2)
    assert good["posdis"] > 0.98
    log = run_episodes(env, random_policy(env.action_space, np.random.default_rng(2)), seed=3)
    chance = communication_summary(log.rewards, log.events)
    n = 1024  # success ~ Binomial(n, 1/4)
    assert abs(chance["success_rate"] - 0.25) < 4 * np.sqrt(0.25 * 0.75 / n)
    assert abs(chance["topographic_similarity"]) < 0.05
    assert chance["message_entropy"] > 3.9  # uniform over 16 messages
    assert chance["mutual_information"] < 0.3  # plug-in bias ~ (15 * 15) / (2 n ln 2) = 0.16


def hand_built_languages() -> dict[str, np.ndarray]:
    """Messages of two symbols for the 16 meanings of OBJECTS (two attributes of 4 values)."""
    rng = np.random.default_rng(0)
    holistic = rng.permutation(16)  # one arbitrary message per meaning: a bijection
    return {
        "compositional": OBJECTS.copy(),  # position i says attribute i
        "swapped": OBJECTS[:, ::-1].copy(),  # the same, in the other order
        "holistic": np.stack([holistic // 4, holistic % 4], axis=1),
        "constant": np.zeros((16, 2), dtype=np.int64),
    }


def test_posdis_is_one_for_a_positional_code_low_for_a_holistic_one_nan_for_a_constant_one():
    languages = hand_built_languages()
    assert positional_disentanglement(OBJECTS, languages["compositional"]) == pytest.approx(1.0)
    assert positional_disentanglement(OBJECTS, languages["swapped"]) == pytest.approx(1.0)
    assert positional_disentanglement(OBJECTS, languages["holistic"]) < 0.5
    assert np.isnan(positional_disentanglement(OBJECTS, languages["constant"]))


def test_posdis_skips_a_constant_position_and_matches_a_hand_computed_gap():
    # position 0 says attribute 0; position 1 is constant (skipped); position 2 says the sum
    # mod 2 of both attributes' low bits: I = 0 with either attribute alone, so its gap is 0
    code = np.stack([OBJECTS[:, 0], np.full(16, 3), (OBJECTS[:, 0] + OBJECTS[:, 1]) % 2], axis=1)
    assert positional_disentanglement(OBJECTS, code) == pytest.approx((1.0 + 0.0) / 2)


def test_bosdis_counts_symbols_wherever_they_stand_and_ignores_symbol_zero():
    # attribute 0 = how many 1s, attribute 1 = how many 2s, in random order, padded with 0s
    rng = np.random.default_rng(1)
    rows = []
    for a, b in OBJECTS:
        row = np.array([1] * a + [2] * b + [0] * (6 - a - b))
        rows.append(rng.permutation(row))
    bag = np.array(rows)
    assert bag_of_symbols_disentanglement(OBJECTS, bag, vocab_size=3) == pytest.approx(1.0)
    assert positional_disentanglement(OBJECTS, bag) < 0.5  # no position carries one attribute
    constant = np.zeros((16, 3), dtype=np.int64)  # only symbol 0: nothing left to count
    assert np.isnan(bag_of_symbols_disentanglement(OBJECTS, constant, vocab_size=3))


def test_disentanglement_needs_two_attributes_and_symbols_inside_the_vocabulary():
    with pytest.raises(ValueError, match="two attributes"):
        positional_disentanglement(OBJECTS[:, :1], OBJECTS)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        bag_of_symbols_disentanglement(OBJECTS, OBJECTS, vocab_size=3)


def egg_topsim(meanings, messages) -> float:
    """EGG's `TopographicSimilarity.compute_topsim` with its defaults, transcribed: scipy's
    hamming between meanings, edit distance / mean length between messages, spearmanr."""
    edit = lambda x, y: levenshtein(x, y) / ((len(x) + len(y)) / 2)  # noqa: E731
    return spearmanr(pdist(meanings, "hamming"), pdist(messages, edit)).correlation


def test_edit_distances_of_ragged_rows_read_the_table_at_the_given_lengths():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 3, (300, 4)), rng.integers(0, 3, (300, 3))
    la, lb = rng.integers(0, 5, 300), rng.integers(0, 4, 300)
    expected = [levenshtein(x[:i], y[:j]) for x, y, i, j in zip(a, b, la, lb, strict=True)]
    assert edit_distances(a, b, la, lb).tolist() == expected
    with pytest.raises(ValueError, match="lengths"):
        edit_distances(a, b, la + 1, lb)


def test_topographic_similarity_is_eggs_on_fixed_length_messages_with_ties():
    rng = np.random.default_rng(4)
    meanings, messages = rng.integers(0, 3, (60, 3)), rng.integers(0, 3, (60, 3))
    messages[:20] = meanings[:20]  # some structure, so rho is not ~0
    assert topographic_similarity(meanings, messages) == pytest.approx(
        egg_topsim(meanings, messages)
    )


def test_topographic_similarity_normalises_edit_distance_by_mean_length():
    # Messages of lengths 1, 1, 4, 4 (SILENT is not said). Pairs AB, AC, AD, BC, BD, CD:
    # edit distances 1, 3, 3, 4, 3, 2; mean lengths 1, 2.5, 2.5, 2.5, 2.5, 4; normalised
    # 1, 1.2, 1.2, 1.6, 1.2, 0.5. Meanings (4 attributes) at Hamming 2, 3, 3, 4, 3, 1: the
    # same order and ties as the normalised distances, so rho = 1. Unnormalised ranks
    # (1, 4, 4, 6, 4, 2) against (2, 4, 4, 6, 4, 1): rho = 14.5 / 15.5 = 29 / 31.
    x = SILENT
    messages = np.array([[1, x, x, x], [2, x, x, x], [1, 1, 1, 1], [1, 1, 2, 2]])
    meanings = np.array([[2, 0, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0], [1, 0, 0, 0]])
    assert topographic_similarity(meanings, messages) == pytest.approx(1.0)
    said = [[1], [2], [1, 1, 1, 1], [1, 1, 2, 2]]
    pairs = list(itertools.combinations(range(4), 2))
    meaning_distance = [np.mean(meanings[i] != meanings[j]) for i, j in pairs]
    egg = [levenshtein(said[i], said[j]) / ((len(said[i]) + len(said[j])) / 2) for i, j in pairs]
    raw = [levenshtein(said[i], said[j]) for i, j in pairs]
    assert spearmanr(meaning_distance, egg).correlation == pytest.approx(1.0)
    assert _spearman(np.array(meaning_distance), np.array(raw)) == pytest.approx(29 / 31)


def test_topographic_similarity_keeps_the_end_token_and_drops_silent_positions():
    # EOS (0) and its padding are symbols, as in EGG: (3, 0, 0) and (3, 3, 0) differ by one
    meanings = np.array([[0, 0], [0, 1], [1, 1]])
    with_eos = np.array([[3, 0, 0], [3, 3, 0], [1, 2, 3]])
    assert topographic_similarity(meanings, with_eos) == pytest.approx(
        egg_topsim(meanings, with_eos)
    )
    # a SILENT position anywhere is not part of the message: (1, -1, 2) is (1, 2)
    gapped = np.array([[1, SILENT, 2], [1, 2, 2], [3, 3, SILENT]])
    said = [[1, 2], [1, 2, 2], [3, 3]]
    pairs = [(0, 1), (0, 2), (1, 2)]
    egg = [levenshtein(said[i], said[j]) / ((len(said[i]) + len(said[j])) / 2) for i, j in pairs]
    hamming = [np.mean(meanings[i] != meanings[j]) for i, j in pairs]
    assert topographic_similarity(meanings, gapped) == pytest.approx(
        spearmanr(hamming, egg).correlation
    )


def test_a_silent_speaker_is_a_constant_language():
    silent = np.full((16, 2), SILENT)  # the speaker never spoke
    assert message_entropy(silent) == 0.0
    assert positive_signalling(OBJECTS, silent) == 0.0
    assert np.isnan(topographic_similarity(OBJECTS, silent))
    assert np.isnan(positional_disentanglement(OBJECTS, silent))
    assert np.isnan(bag_of_symbols_disentanglement(OBJECTS, silent, vocab_size=5))
    # one silent game among spoken ones: the empty message is at distance 2 from the others
    messages = np.array([[SILENT, SILENT], [1, 1], [1, 2]])
    meanings = np.array([[0, 0], [1, 1], [1, 0]])
    expected = spearmanr([1.0, 0.5, 0.5], [2.0, 2.0, 0.5]).correlation
    assert topographic_similarity(meanings, messages) == pytest.approx(expected)


def mi_bits(x: np.ndarray, y: np.ndarray) -> float:
    """I(x; y) in bits from the contingency table of two integer columns, written apart from
    the module's entropy-based estimate."""
    table = np.zeros((x.max() + 1, y.max() + 1))
    np.add.at(table, (x, y), 1)
    p = table / table.sum()
    outer = p.sum(1, keepdims=True) * p.sum(0, keepdims=True)
    on = p > 0
    return float((p[on] * np.log2(p[on] / outer[on])).sum())


HOLISTIC = np.array([2, 11, 3, 10, 0, 4, 7, 5, 14, 12, 6, 9, 13, 8, 1, 15])
"""A fixed bijection of the 16 meanings onto the 16 messages (`default_rng(0).permutation`)."""


def languages_over_vocab_5() -> dict[str, np.ndarray]:
    """Two-token messages over V = 5 for the 16 meanings of OBJECTS; 0 (the end token) is used
    only by the constant language."""
    return {
        "compositional": OBJECTS + 1,  # token i = value of attribute i + 1
        "holistic": np.stack([HOLISTIC // 4 + 1, HOLISTIC % 4 + 1], axis=1),
        "constant": np.zeros((16, 2), dtype=np.int64),
    }


def test_compositional_language_known_values():
    code = languages_over_vocab_5()["compositional"]
    assert topographic_similarity(OBJECTS, code) == pytest.approx(1.0)
    assert positional_disentanglement(OBJECTS, code) == pytest.approx(1.0)
    assert positive_signalling(OBJECTS, code) == pytest.approx(4.0)  # log2 16
    # Both attributes share symbols 1..4, so the count of symbol s, [a_0 = s-1] + [a_1 = s-1],
    # tells the same about either attribute: I(n_s; a_0) = I(n_s; a_1), every gap 0.
    assert bag_of_symbols_disentanglement(OBJECTS, code, vocab_size=5) == pytest.approx(0.0)
    # With one set of symbols per attribute (1..4 and 5..8) each count names one: bosdis 1.
    apart = np.stack([OBJECTS[:, 0] + 1, OBJECTS[:, 1] + 5], axis=1)
    assert bag_of_symbols_disentanglement(OBJECTS, apart, vocab_size=9) == pytest.approx(1.0)


def test_holistic_language_known_values():
    code = languages_over_vocab_5()["holistic"]
    assert positive_signalling(OBJECTS, code) == pytest.approx(4.0)  # a bijection: all of H(S)
    # each position of a bijection shows each symbol 4 times: H(m_j) = 2 bits
    gaps = []
    for m_j in code.T:
        info = sorted((mi_bits(a, m_j) for a in OBJECTS.T), reverse=True)
        gaps.append((info[0] - info[1]) / 2.0)
    posdis = positional_disentanglement(OBJECTS, code)
    assert posdis == pytest.approx(np.mean(gaps))
    # Over 2,000 random bijections posdis has median 0.11 and 99th percentile 0.32 (topsim:
    # median -0.01, 99% within +-0.25); this one is typical.
    assert posdis < 0.32
    assert abs(topographic_similarity(OBJECTS, code)) < 0.25
    assert topographic_similarity(OBJECTS, code) == pytest.approx(egg_topsim(OBJECTS, code))


def test_constant_language_returns_zero_information_and_nan_structure():
    code = languages_over_vocab_5()["constant"]
    assert message_entropy(code) == 0.0
    assert positive_signalling(OBJECTS, code) == 0.0
    assert np.isnan(topographic_similarity(OBJECTS, code))  # Spearman of a constant: NaN
    assert np.isnan(positional_disentanglement(OBJECTS, code))  # no position varies
    assert np.isnan(bag_of_symbols_disentanglement(OBJECTS, code, vocab_size=5))  # only EOS


def test_random_language_has_little_information_and_no_structure():
    rng = np.random.default_rng(0)
    n = 4096
    meanings = OBJECTS[rng.integers(0, 16, n)]
    messages = rng.integers(1, 5, (n, 2))  # independent of the meanings
    # independent S, M: 2 n ln2 I_hat ~ chi2 with (16 - 1)(16 - 1) = 225 degrees of freedom,
    # mean 225 and sd sqrt(450): a bound 5 sd above the mean
    bound = (225 + 5 * np.sqrt(450)) / (2 * n * np.log(2))
    assert positive_signalling(meanings, messages) < bound
    # over the first 1,000 games the null sd of topsim is ~0.0015 (30 fixed-seed draws)
    assert abs(topographic_similarity(meanings, messages)) < 0.01
    assert positional_disentanglement(meanings, messages) < 0.05


def test_topographic_similarity_of_fewer_than_two_games_is_nan():
    assert np.isnan(topographic_similarity(OBJECTS[:1], OBJECTS[:1]))
    assert np.isnan(topographic_similarity(OBJECTS[:0], OBJECTS[:0]))
