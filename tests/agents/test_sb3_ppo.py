"""SB3 PPO over the batched core: the VecEnv shell, learning, save/load, exact resume, NaN."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import agents
import envs
from agents.sb3_policy import build_policy
from agents.sb3_ppo import SB3Policy
from agents.sb3_ppo_config import SB3PPOConfig
from emergent.rollout import random_policy, run_episodes
from envs.adapters.sb3 import SB3VecEnv
from envs.core import StepResult
from generative.train import NonFiniteLoss
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
    with pytest.raises(ValueError, match=r"seed=4294967296; must lie in \[0, 2\*\*32\)"):
        agents.make("sb3_ppo", seed=2**32)


SMALL = {
    "n_steps": 30,  # 30 ∤ 40: rollouts end mid-episode
    "batch_size": 60,
    "n_epochs": 2,
    "conv_channels": (4,),
    "hidden_size": 16,
    "head_size": 8,
}


class StopHooks(QuietHooks):
    """Records every step's (agent-steps, mean return) and every update; stops at `stop_at`."""

    def __init__(self, stop_at: int | None = None) -> None:
        super().__init__()
        self.stop_at = stop_at
        self.steps: list[tuple[int, float | None]] = []
        self.stats: list[dict[str, float]] = []

    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        self.steps.append((agent_steps, mean_return))
        return self.stop_at is None or agent_steps < self.stop_at

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        super().on_update(agent_steps, stats)
        self.stats.append(stats)


def small_env(**settings) -> envs.BatchedEnv:
    return envs.make("commons", batch_size=2, seed=0, **{**TINY, **settings})


def parameters(trainer) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in trainer.model.policy.parameters()])


@pytest.mark.usefixtures("one_torch_thread")
def test_checkpoint_then_resume_equals_training_straight_through(tmp_path):
    straight = agents.make("sb3_ppo", seed=0, device="cpu", **SMALL)
    full = StopHooks()
    straight.train(small_env(), 600, full)

    first = agents.make("sb3_ppo", seed=0, device="cpu", **SMALL)
    first.train(small_env(), 600, StopHooks(stop_at=260))  # stops mid-rollout, mid-episode
    assert first.agent_steps == 260
    first.save_checkpoint(tmp_path / "ckpt.pt")
    second = agents.make("sb3_ppo", seed=0, device="cpu", **SMALL)
    assert second.load_checkpoint(tmp_path / "ckpt.pt", small_env()) == 240  # the rollout start
    assert second.agent_steps == 240
    resumed = StopHooks()
    second.train(small_env(), 600, resumed)

    assert second.agent_steps == straight.agent_steps == 600
    assert torch.equal(parameters(second), parameters(straight))
    assert resumed.steps == [s for s in full.steps if s[0] > 240]  # returns SB3 averages too
    assert resumed.updates == [s for s in full.updates if s > 240] == [360, 480]
    assert resumed.stats == full.stats[-len(resumed.stats) :]  # the same losses


@pytest.mark.usefixtures("one_torch_thread")
def test_resume_works_at_any_step_count(tmp_path):
    """Regression: the resumed seed was built from the step count and passed NumPy's 2**32
    limit past ~4,300 agent-steps ("Seed must be between 0 and 2**32 - 1")."""
    trainer = agents.make("sb3_ppo", seed=0, device="cpu", **SMALL)
    trainer.train(small_env(), 120, QuietHooks())
    trainer.save_checkpoint(tmp_path / "ckpt.pt")
    data = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    far = 5 * 2**32  # far past where the old seed overflowed
    torch.save({**data, "agent_steps": far}, tmp_path / "far.pt")

    resumed = agents.make("sb3_ppo", seed=0, device="cpu", **SMALL)
    assert resumed.load_checkpoint(tmp_path / "far.pt") == far
    hooks = StopHooks()
    resumed.train(small_env(), far + 240, hooks)
    assert hooks.steps[0][0] == far + 4  # continues the count: B·A = 4 agent-steps a step
    assert resumed.agent_steps == far + 240 and hooks.updates == [far + 120]


@pytest.mark.usefixtures("one_torch_thread")
def test_a_nan_reward_stops_training_with_one_line_naming_the_step():
    env = small_env()
    step = env.step

    def nan_rewards(actions: np.ndarray) -> StepResult:
        result = step(actions)
        return result._replace(rewards=np.full_like(result.rewards, np.nan))

    env.step = nan_rewards
    trainer = agents.make("sb3_ppo", seed=0, device="cpu", **SMALL)
    hooks = QuietHooks()
    with pytest.raises(NonFiniteLoss) as err:
        trainer.train(env, 480, hooks)
    assert str(err.value) == (
        "sb3_ppo: the gradient of the loss became nan at agent-step 120 (update 1); "
        "lower agent.learning_rate or check the rewards"
    )
    assert hooks.updates == []  # stopped before the update, so before any checkpoint
    assert all(p.isfinite().all() for p in trainer.model.policy.parameters())


@pytest.mark.usefixtures("one_torch_thread")
def test_a_huge_learning_rate_stops_training_with_one_line_naming_the_step():
    trainer = agents.make("sb3_ppo", seed=0, device="cpu", **{**SMALL, "learning_rate": 1e30})
    with pytest.raises(NonFiniteLoss) as err:
        trainer.train(small_env(), 480, QuietHooks())
    assert str(err.value) == (
        "sb3_ppo: the policy's parameters became inf at agent-step 120 (update 1); "
        "lower agent.learning_rate or check the rewards"
    )


def test_action_probabilities_are_the_categorical_that_act_takes_the_argmax_of():
    env = envs.make("commons", batch_size=2, seed=0, **TINY)
    options = SB3PPOConfig(conv_channels=(4,), hidden_size=8, head_size=0)
    module = build_policy(env.observation_space, env.action_space, options)
    with torch.no_grad():
        module.action_net.weight.mul_(300.0)  # far from uniform
    policy = SB3Policy(module, options, env.observation_space.shape)
    obs = env.reset(seed=3).reshape(4, 5, 5, 3)
    probs = policy.action_probabilities(obs)
    assert probs.dtype == np.float64 and probs.shape == (4, env.action_space.n)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(probs.argmax(axis=1), policy.act(obs, deterministic=True))
