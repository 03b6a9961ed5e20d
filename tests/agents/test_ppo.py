"""The batched PPO learner: it learns trivial tasks, is reproducible, resumes exactly."""

from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest
import torch

import agents
import envs
from agents import ppo_config
from agents.ppo import PPO, PPOPolicy
from agents.ppo_buffer import compute_gae
from agents.ppo_networks import log_prob_entropy
from agents.ppo_policy import build_network
from agents.spec import env_spec
from envs.core import BatchedEnv, StepResult
from generative.train import NonFiniteLoss
from tests.conftest import TINY_MAP


class CueEnv(BatchedEnv):
    """Every agent sees a cue in [0, K) (one-hot) and earns 1 for the action equal to it.

    `memory=False`: a fresh cue every step (a contextual bandit). `memory=True`: one cue per
    episode, shown only at t = 0, so acting well later needs memory. The last feature is t/L.
    """

    event_names = ()

    def __init__(self, batch_size: int, memory: bool = False, length: int = 4, seed: int = 0):
        self.batch_size, self.num_agents, self.max_steps, self.K = batch_size, 2, length, 3
        self.memory = memory
        self.observation_space = gymnasium.spaces.Box(0, 1, (self.K + 1,), np.float32)
        self.action_space = gymnasium.spaces.Discrete(self.K)
        self.rng = np.random.default_rng(seed)

    def _observe(self) -> np.ndarray:
        obs = np.zeros((self.batch_size, self.num_agents, self.K + 1), np.float32)
        if not self.memory or self.t == 0:
            np.put_along_axis(obs, self.cue[..., None], 1.0, axis=-1)
        obs[..., -1] = self.t / self.max_steps
        return obs

    def _draw(self) -> None:
        self.cue = self.rng.integers(0, self.K, (self.batch_size, self.num_agents))

    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.t = 0
        self._draw()
        return self._observe()

    def step(self, actions: np.ndarray) -> StepResult:
        rewards = (actions == self.cue).astype(np.float32)
        self.t += 1
        if not self.memory:
            self._draw()
        truncated = np.full(self.batch_size, self.t >= self.max_steps)
        return StepResult(self._observe(), rewards, np.zeros_like(truncated), truncated, {})

    def render(self, index: int = 0) -> np.ndarray:
        return np.zeros((1, 1, 3), np.uint8)


class TargetEnv(CueEnv):
    """Box actions in [-1, 1]^2; the reward is -|a - target|² for a target seen in the obs."""

    def __init__(self, batch_size: int, seed: int = 0):
        super().__init__(batch_size, length=4, seed=seed)
        self.observation_space = gymnasium.spaces.Box(-1, 1, (2,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1, 1, (2,), np.float32)
        self.received: list[np.ndarray] = []

    def _draw(self) -> None:
        self.cue = self.rng.uniform(-0.8, 0.8, (self.batch_size, self.num_agents, 2))

    def _observe(self) -> np.ndarray:
        return self.cue.astype(np.float32)

    def step(self, actions: np.ndarray) -> StepResult:
        self.received.append(actions)
        rewards = -((actions - self.cue) ** 2).sum(-1).astype(np.float32)
        self.t += 1
        self._draw()
        truncated = np.full(self.batch_size, self.t >= self.max_steps)
        return StepResult(self._observe(), rewards, np.zeros_like(truncated), truncated, {})


class Hooks:
    """Records updates; asks to stop once `stop_after` updates are done."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.updates: list[tuple[int, dict[str, float]]] = []
        self.stop_after = stop_after

    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        return self.stop_after is None or len(self.updates) < self.stop_after

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        self.updates.append((agent_steps, stats))


def success(policy: PPOPolicy, env: CueEnv, skip_first: bool = False) -> float:
    """Fraction of rewarded agent-steps over one episode of every copy (sampled actions)."""
    obs, rng, hits = env.reset(seed=99), np.random.default_rng(0), []
    for t in range(env.max_steps):
        actions = policy.act(obs.reshape(-1, *obs.shape[2:]), rng).reshape(env.cue.shape)
        result = env.step(actions)
        if t > 0 or not skip_first:
            hits.append(result.rewards.mean())
        obs = result.obs
    return float(np.mean(hits))


FAST = {"num_steps": 8, "learning_rate": 3e-3, "hidden_sizes": (32,), "update_epochs": 4}


@pytest.mark.parametrize("share", [True, False])
def test_learns_the_cue_bandit_with_shared_and_per_agent_networks(share):
    trainer = agents.make("ppo", seed=0, device="cpu", share_parameters=share, **FAST)
    policy = trainer.train(CueEnv(64), 12_000, Hooks())
    assert success(policy, CueEnv(256, seed=1)) > 0.9


def test_recurrent_core_remembers_a_cue_shown_only_at_the_start():
    options = {**FAST, "num_steps": 16, "recurrent": True, "rnn_size": 32}
    trainer = agents.make("ppo", seed=0, device="cpu", **options)
    policy = trainer.train(CueEnv(64, memory=True), 25_000, Hooks())
    env = CueEnv(256, memory=True, seed=1)
    assert success(policy, env, skip_first=True) > 0.9
    assert success(policy, env, skip_first=True) > 0.9  # state reset for the next episode


def test_box_actions_learn_a_target_and_the_env_gets_clipped_actions():
    options = {**FAST, "hidden_sizes": (64,), "ent_coef": 0.0, "learning_rate": 1e-2}
    trainer = agents.make("ppo", seed=0, device="cpu", **options)
    env = TargetEnv(64)
    policy = trainer.train(env, 15_000, Hooks())
    received = np.concatenate(env.received)
    assert received.min() >= -1 and received.max() <= 1 and received.dtype == np.float32
    test = TargetEnv(256, seed=1)
    obs = test.reset(seed=3)
    actions = policy.act(obs.reshape(-1, 2), deterministic=True)
    assert actions.shape == (512, 2)
    assert np.abs(actions - obs.reshape(-1, 2)).mean() < 0.1


def test_box_action_log_prob_and_entropy_are_the_diagonal_gaussians():
    gen = torch.Generator().manual_seed(0)
    out = torch.randn(16, 2, 3, generator=gen)  # (N, A, D) means
    std = torch.rand(1, 2, 3, generator=gen) + 0.1  # (1, A, D), as `ActorCritic.std()`
    actions = out + std * torch.randn(16, 2, 3, generator=gen)
    log_prob, entropy = log_prob_entropy(out, std, actions)
    z = (actions - out) / std
    expected = (-0.5 * z**2 - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
    torch.testing.assert_close(log_prob, expected)
    expected_entropy = (0.5 + 0.5 * math.log(2 * math.pi) + std.log()).sum(-1).expand(16, 2)
    torch.testing.assert_close(entropy, expected_entropy)


def trained(steps: int, seed: int = 0, **options) -> PPO:
    trainer = agents.make("ppo", seed=seed, device="cpu", **{**FAST, **options})
    trainer.train(CueEnv(4, memory=options.get("recurrent", False), length=5), steps, Hooks())
    return trainer


def parameters(trainer: PPO) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in trainer.session.net.parameters()])


def test_same_seed_gives_identical_parameters_and_another_seed_does_not():
    a, b, c = trained(640), trained(640), trained(640, seed=1)
    assert torch.equal(parameters(a), parameters(b))
    assert not torch.allclose(parameters(a), parameters(c))


@pytest.mark.parametrize("options", [{}, {"recurrent": True, "share_parameters": False}])
def test_checkpoint_then_resume_equals_training_straight_through(tmp_path, options):
    options = {**FAST, "num_steps": 3, "num_minibatches": 2, **options}  # 3 ∤ 5: mid-episode
    memory = options.get("recurrent", False)
    straight = agents.make("ppo", seed=0, device="cpu", **options)
    straight.train(CueEnv(4, memory, length=5), 400, Hooks())

    first = agents.make("ppo", seed=0, device="cpu", **options)
    first.train(CueEnv(4, memory, length=5), 400, Hooks(stop_after=5))  # stops mid-rollout
    assert first.agent_steps == 5 * 24 + 8
    first.save_checkpoint(tmp_path / "ckpt.pt")
    second = agents.make("ppo", seed=0, device="cpu", **options)
    assert second.load_checkpoint(tmp_path / "ckpt.pt") == 5 * 24  # the rollout is redone
    second.train(CueEnv(4, memory, length=5, seed=7), 400, Hooks())
    assert second.agent_steps == straight.agent_steps
    assert torch.equal(parameters(second), parameters(straight))


class NanRewards(CueEnv):
    """CueEnv whose rewards are NaN."""

    def step(self, actions: np.ndarray) -> StepResult:
        result = super().step(actions)
        return result._replace(rewards=np.full_like(result.rewards, np.nan))


@pytest.mark.parametrize(
    "env, options, message",
    [
        (NanRewards(4), {}, "the loss became nan at agent-step 64 (update 1)"),
        (CueEnv(4), {"learning_rate": 1e20}, "the loss became inf at agent-step 64 (update 1)"),
    ],
    ids=["nan-reward", "huge-learning-rate"],
)
def test_a_non_finite_loss_stops_training_before_the_step_in_one_line(env, options, message):
    trainer = agents.make("ppo", seed=0, device="cpu", **{**FAST, **options})
    hooks = Hooks()
    with pytest.raises(NonFiniteLoss) as err:
        trainer.train(env, 640, hooks)
    assert str(err.value) == f"ppo: {message}; lower agent.learning_rate or check the rewards"
    assert hooks.updates == []


def test_gae_on_a_hand_computed_example():
    gamma, lam = 0.5, 0.5
    rewards = torch.tensor([1.0, 2.0, 3.0])[:, None, None]  # (T, B, A) = (3, 1, 1)
    values = torch.tensor([0.5, 1.0, 2.0])[:, None, None]
    ends = torch.tensor([0.0, 1.0, 0.0])[:, None]  # the episode ends after step 1
    next_value = torch.tensor([[4.0]])
    advantages, returns = compute_gae(rewards, values, ends, next_value, gamma, lam)
    delta2 = 3 + 0.5 * 4 - 2  # 3.0
    delta1 = 2 - 1.0  # no bootstrap across the end
    delta0 = 1 + 0.5 * 1.0 - 0.5  # 1.0
    expected = [delta0 + 0.25 * delta1, delta1, delta2]
    torch.testing.assert_close(advantages[:, 0, 0], torch.tensor(expected))
    torch.testing.assert_close(returns, advantages + values)


@pytest.mark.parametrize("terminated", [False, True])
def test_truncation_bootstraps_the_final_value_and_termination_does_not(terminated):
    class Ends(CueEnv):
        def step(self, actions: np.ndarray) -> StepResult:
            result = super().step(actions)
            self.final_obs = result.obs
            if terminated:
                return result._replace(
                    terminated=result.truncated, truncated=np.zeros_like(result.truncated)
                )
            return result

    env = Ends(3, length=2)
    trainer = agents.make("ppo", seed=0, device="cpu", **{**FAST, "num_steps": 2, "gamma": 0.9})
    acting_net = build_network(env_spec(env), trainer.options, seed=0)  # before the update
    trainer.train(env, 12, Hooks())
    _, final_value, _ = acting_net.step(torch.as_tensor(env.final_obs), None)
    bootstrap = 0.0 if terminated else 0.9 * final_value.detach()
    reward = trainer.session.buffer.rewards[1] - bootstrap  # (B, A): what the env paid, 0 or 1
    torch.testing.assert_close(reward, torch.round(reward))
    assert trainer.session.buffer.ends.tolist() == [[0, 0, 0], [1, 1, 1]]
    assert terminated or final_value.abs().min() > 1e-3  # the bootstrap term is really there


@pytest.mark.parametrize(
    "options, word",
    [
        ({"learning_rate": 0}, "learning_rate"),
        ({"gamma": 1.5}, "gamma"),
        ({"hidden_sizes": ()}, "hidden_sizes"),
        ({"activation": "gelu"}, "activation"),
        ({"target_kl": -1.0}, "target_kl"),
        ({"lr": 0.1}, "lr"),
    ],
)
def test_bad_options_raise_one_line_value_errors(options, word):
    with pytest.raises(ValueError, match=word) as err:
        agents.make("ppo", **options)
    assert "\n" not in str(err.value)


def test_too_few_copies_for_recurrent_minibatches_is_a_value_error():
    trainer = agents.make("ppo", device="cpu", recurrent=True, num_minibatches=8)
    with pytest.raises(ValueError, match="num_minibatches"):
        trainer.train(CueEnv(4), 100, Hooks())


@pytest.mark.parametrize("options", [{}, {"share_parameters": False, "recurrent": True}])
def test_commons_images_update_and_the_saved_policy_acts_the_same(tmp_path, options):
    tiny = {"num_agents": 2, "map": TINY_MAP, "view_radius": 2, "max_steps": 40}
    env = envs.make("commons", batch_size=2, seed=0, **tiny)
    small = {"conv_channels": (4,), "hidden_sizes": (16,), "rnn_size": 8, "num_steps": 8}
    trainer = agents.make("ppo", seed=0, device="cpu", num_minibatches=2, **small, **options)
    hooks = Hooks()
    policy = trainer.train(env, 32, hooks)
    ((steps, stats),) = hooks.updates
    assert steps == 32 and trainer.session.buffer.obs.shape == (8, 2, 2, 5, 5, 3)
    assert trainer.session.buffer.obs.dtype == torch.uint8
    assert all(np.isfinite(v) for v in stats.values()) and "train/approx_kl" in stats
    policy.save(tmp_path / "policy.pt")
    loaded = PPOPolicy.load(tmp_path / "policy.pt", device="cpu")
    obs = env.reset(seed=3).reshape(4, 5, 5, 3)
    first = policy.act(obs, np.random.default_rng(1))
    assert first.shape == (4,) and first.dtype.kind == "i" and first.max() < 8
    np.testing.assert_array_equal(first, loaded.act(obs, np.random.default_rng(1)))


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_reward_sharing_mixes_own_and_copy_mean_rewards(alpha):
    options = {**FAST, "num_steps": 4, "reward_sharing": alpha}
    trainer = agents.make("ppo", seed=0, device="cpu", **options)
    trainer.train(CueEnv(32, length=100), 4 * 32 * 2, Hooks())  # one rollout, no episode end
    learned = trainer.session.buffer.rewards  # (T, B, A)
    # rewards are 0/1 per agent: under mixing each equals (1 - a) r_i + a mean_j r_j
    own = torch.round((learned - alpha * learned.mean(-1, keepdim=True)) / (1 - alpha + 1e-12))
    if alpha < 1:
        assert set(own.unique().tolist()) <= {0.0, 1.0}
        torch.testing.assert_close((1 - alpha) * own + alpha * own.mean(-1, keepdim=True), learned)
    else:
        torch.testing.assert_close(learned[..., 0], learned[..., 1])  # the collective reward


def sharp_policy(share: bool = True, recurrent: bool = False) -> PPOPolicy:
    """An untrained policy on CueEnv whose actor outputs are scaled up (far from uniform)."""
    options = ppo_config.PPOConfig(**FAST, share_parameters=share, recurrent=recurrent)
    spec = env_spec(CueEnv(1))
    net = build_network(spec, options, seed=0)
    with torch.no_grad():
        for p in net.actor.parameters():
            p.mul_(300.0)
    return PPOPolicy(net, spec, options)


@pytest.mark.parametrize("share", [True, False])
def test_action_probabilities_are_softmax_rows_that_sampled_actions_follow(share):
    policy = sharp_policy(share)
    obs = CueEnv(2).reset(seed=3).reshape(4, -1)  # 2 copies x 2 agents
    probs = policy.action_probabilities(obs)  # (4, 3)
    assert probs.dtype == np.float64 and probs.shape == (4, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    assert probs.max() - probs.min() > 0.2  # the test needs a non-uniform distribution
    np.testing.assert_array_equal(probs.argmax(axis=1), policy.act(obs, deterministic=True))
    n = 5000
    actions = policy.act(np.tile(obs, (n, 1)), np.random.default_rng(0)).reshape(n, 4)
    frequency = (actions[..., None] == np.arange(3)).mean(axis=0)  # (4, 3)
    assert np.all(np.abs(frequency - probs) < 4 * np.sqrt(probs * (1 - probs) / n) + 1e-3)


def test_action_probabilities_refuse_box_actions_and_recurrent_policies():
    with pytest.raises(ValueError, match="recurrent"):
        sharp_policy(recurrent=True).action_probabilities(np.zeros((2, 4), np.float32))
    trainer = agents.make("ppo", seed=0, device="cpu", **FAST)
    policy = trainer.train(TargetEnv(2), 16, Hooks())
    with pytest.raises(ValueError, match="Discrete"):
        policy.action_probabilities(np.zeros((2, 2), np.float32))
