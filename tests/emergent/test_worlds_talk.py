"""What the analysis of Commons and Cleanup says of cheap talk (`emergent.worlds.social.talk`),
on real episode logs and on hand-made ones where the answer is known."""

from __future__ import annotations

import numpy as np
import pytest

import envs
from emergent import worlds
from emergent.rollout import random_policy, run_episodes
from emergent.worlds.social import talk


@pytest.mark.parametrize("name", ["commons", "cleanup"])
def test_random_talk_is_uniform_babble_that_says_nothing(name):
    env = envs.make(name, batch_size=2, seed=0, max_steps=100, talk_vocab=4)
    log = run_episodes(env, random_policy(env.action_space, np.random.default_rng(0)), seed=1)
    summary = worlds.analysis(name).summarize(log.rewards, log.events)
    said = int((log.events["token"] > 0).sum())  # about 2 x 100 x 5 tokens
    assert abs(summary["token_entropy"] - 2.0) < 0.05  # log2 4 bits
    assert 0 <= summary["token_information"] < 4 * 4 / said  # plug-in bias only
    assert "token" not in worlds.analysis(name).counted_events  # a code, not a count


@pytest.mark.parametrize("name", ["commons", "cleanup"])
def test_without_talk_nothing_is_said_of_tokens(name):
    env = envs.make(name, batch_size=1, seed=0, max_steps=20)
    log = run_episodes(env, random_policy(env.action_space, np.random.default_rng(0)), seed=1)
    summary = worlds.analysis(name).summarize(log.rewards, log.events)
    assert not {"token_entropy", "token_information"} & set(summary)


def test_a_token_that_names_the_event_carries_its_whole_entropy():
    rng = np.random.default_rng(0)
    ate = rng.random((4, 50, 3)) < 0.25  # (B, T, A)
    silent = rng.random((4, 50, 3)) < 0.1  # removed: said nothing
    token = np.where(silent, 0, np.where(ate, 2, 1))  # token + 1: 1 when eating, else 0
    out = talk({"token": token, "apples": ate.astype(np.int32)}, "apples")
    p = ate[~silent].mean()
    entropy = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    assert out["token_entropy"] == pytest.approx(entropy)
    assert out["token_information"] == pytest.approx(entropy)  # the token is the event
    nobody = talk({"token": np.zeros((1, 5, 2)), "apples": np.zeros((1, 5, 2))}, "apples")
    assert all(np.isnan(v) for v in nobody.values())
