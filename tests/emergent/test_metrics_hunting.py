"""Hunting metrics against hand-computed episodes, and against the Wolfpack env's events."""

import numpy as np
import pytest

import envs
from emergent.metrics.hunting import (
    captures_per_episode,
    hunting_summary,
    team_capture_share,
    wolves_per_capture,
)


def episodes() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """B = 2 episodes, T = 4 steps, A = 3 wolves (r_lone = 1, r_team = 2).

    Episode 0: t = 0 lone capture by wolf 0; t = 2 team capture by wolves 1 and 2 (n = 2,
    2 each); t = 3 team capture by all three (n = 3, 3 each).
    Episode 1: no capture.
    """
    team = np.zeros((2, 4, 3), dtype=np.int32)
    lone = np.zeros((2, 4, 3), dtype=np.int32)
    lone[0, 0, 0] = 1
    team[0, 2, [1, 2]] = 1
    team[0, 3, :] = 1
    rewards = np.zeros((2, 4, 3), dtype=np.float32)
    rewards[0, 0, 0] = 1
    rewards[0, 2, [1, 2]] = 2
    rewards[0, 3, :] = 3
    return rewards, {"team_captures": team, "lone_captures": lone}


def test_captures_count_steps_with_a_capture_not_wolves():
    _, events = episodes()
    assert captures_per_episode(events).tolist() == [3, 0]


def test_team_share_counts_per_capture():
    _, events = episodes()
    share = team_capture_share(events)
    assert share[0] == pytest.approx(2 / 3)  # per wolf it would be 5 / 6
    assert np.isnan(share[1])


def test_wolves_per_capture():
    _, events = episodes()
    w = wolves_per_capture(events)
    assert w[0] == pytest.approx((1 + 2 + 3) / 3) and np.isnan(w[1])


def test_one_episode_without_batch_dimension():
    _, events = episodes()
    one = {k: v[0] for k, v in events.items()}  # (T, A)
    assert captures_per_episode(one) == 3 and team_capture_share(one) == pytest.approx(2 / 3)


def test_summary_pools_captures_over_episodes():
    rewards, events = episodes()
    s = hunting_summary(rewards, events)
    assert s == {
        "captures_per_episode": pytest.approx(1.5),
        "team_captures_per_episode": pytest.approx(1.0),
        "lone_captures_per_episode": pytest.approx(0.5),
        "team_capture_share": pytest.approx(2 / 3),
        "wolves_per_capture": pytest.approx(2.0),
        "reward_per_capture": pytest.approx((1 + 4 + 9) / 3),
    }
    assert all(isinstance(v, float) for v in s.values())


def test_summary_without_captures_is_nan_for_ratios_and_zero_for_counts():
    rewards, events = episodes()
    s = hunting_summary(rewards[1:], {k: v[1:] for k, v in events.items()})
    assert s["captures_per_episode"] == 0.0 and np.isnan(s["team_capture_share"])
    assert np.isnan(s["wolves_per_capture"]) and np.isnan(s["reward_per_capture"])


def test_summary_of_a_wolfpack_rollout_is_consistent():
    env = envs.make(
        "wolfpack", batch_size=16, seed=0, num_wolves=3, max_steps=60, prey_flee_prob=0.0
    )
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps = [env.step(rng.integers(0, 7, (16, 3))) for _ in range(60)]
    rewards = np.stack([s.rewards for s in steps], axis=1)  # (B, T, A)
    events = {k: np.stack([s.events[k] for s in steps], axis=1) for k in env.event_names}
    s = hunting_summary(rewards, events)
    touched = (events["captures"].sum(axis=-1) > 0).sum()  # steps where a wolf touched
    assert s["captures_per_episode"] == pytest.approx(touched / 16) and touched > 0
    assert 1.0 <= s["wolves_per_capture"] <= 3.0
    assert s["reward_per_capture"] >= env.cfg.r_lone
