"""SB3 PPO over the batched core: the VecEnv shell, learning on a small world, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import agents
import envs
from agents.sb3_ppo import SB3Policy
from emergent.rollout import random_policy, run_episodes
from envs.adapters.sb3 import SB3VecEnv
from tests.conftest import TINY_MAP

TINY = {"num_agents": 2, "map": TINY_MAP, "view_radius": 2, "max_steps": 40}


class QuietHooks:
    def __init__(self) -> None:
        self.updates: list[int] = []

    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        return True

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        self.updates.append(agent_steps)


def test_vec_env_flattens_copies_by_agents_and_resets_the_batch_together():
    env = envs.make("commons", batch_size=3, seed=0, **TINY)
    vec = SB3VecEnv(env, seed=1)
    assert vec.num_envs == 6
    obs = vec.reset()
    assert obs.shape == (6, 5, 5, 3) and obs.dtype == np.uint8
    np.testing.assert_array_equal(
        obs[2 * 2 + 1], envs.make("commons", batch_size=3, seed=0, **TINY).reset(seed=1)[2, 1]
    )
    for t in range(40):
        vec.step_async(np.full(6, 6))  # stay
        obs, rewards, dones, infos = vec.step_wait()
        assert rewards.shape == (6,) and dones.shape == (6,)
        if t < 39:
            assert not dones.any()
    assert dones.all()
    assert all(info["TimeLimit.truncated"] for info in infos)
    assert infos[0]["terminal_observation"].shape == (5, 5, 3)
    assert env.state.t.max() == 0  # the whole batch was reset


def test_ppo_learns_to_harvest_far_better_than_random():
    env = envs.make("commons", batch_size=8, seed=0, **TINY)
    trainer = agents.make(
        "sb3_ppo",
        seed=0,
        device="cpu",
        n_steps=40,
        batch_size=320,
        n_epochs=4,
        conv_channels=(8,),
        hidden_size=32,
        head_size=16,
        learning_rate=1e-3,
    )
    hooks = QuietHooks()
    policy = trainer.train(env, 25_000, hooks)
    assert hooks.updates and trainer.agent_steps >= 25_000

    eval_env = envs.make("commons", batch_size=16, seed=123, **TINY)
    rng = np.random.default_rng(0)
    learned = run_episodes(eval_env, lambda obs: policy.act(obs, rng), seed=5).returns.mean()
    baseline = run_episodes(
        eval_env, random_policy(eval_env.action_space, rng), seed=5
    ).returns.mean()
    assert learned > 1.5 * baseline, (learned, baseline)


def test_policy_save_load_round_trip_gives_the_same_actions(tmp_path):
    env = envs.make("commons", batch_size=2, seed=0, **TINY)
    trainer = agents.make(
        "sb3_ppo",
        seed=0,
        device="cpu",
        n_steps=8,
        batch_size=32,
        conv_channels=(4,),
        hidden_size=8,
        head_size=0,
    )
    policy = trainer.train(env, 64, QuietHooks())
    policy.save(tmp_path / "policy.pt")
    loaded = SB3Policy.load(tmp_path / "policy.pt", device="cpu")
    obs = env.reset(seed=3).reshape(4, 5, 5, 3)
    np.testing.assert_array_equal(
        policy.act(obs, np.random.default_rng(1)), loaded.act(obs, np.random.default_rng(1))
    )
    np.testing.assert_array_equal(
        policy.act(obs, deterministic=True), loaded.act(obs, deterministic=True)
    )


def test_make_rejects_unknown_kind_and_options():
    with pytest.raises(KeyError, match="sb3_ppo"):
        agents.make("dqn")
    with pytest.raises(ValueError, match="lr"):
        agents.make("sb3_ppo", lr=0.1)
