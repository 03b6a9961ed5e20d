"""The RLlib shell passes RLlib's own checker for every world and equals the core step for step."""

from __future__ import annotations

import numpy as np
import pytest
from ray.rllib.utils.pre_checks.env import check_multiagent_environments

import envs
from envs.adapters.rllib import RLlibEnv, env_creator, rllib_env

SHORT = {  # every world with short episodes, so a whole one is cheap to play
    "commons": {"max_steps": 12},
    "cleanup": {"max_steps": 12},
    "spread": {"max_cycles": 12},
    "signalling": {},  # message_length + 1 = 3 steps, then terminated
    "wolfpack": {"max_steps": 12},
}


def test_short_settings_cover_the_whole_registry():
    assert set(SHORT) == set(envs.ENVS)


@pytest.mark.parametrize("name", sorted(envs.ENVS))
def test_rllib_checker_accepts_every_world(name):
    check_multiagent_environments(rllib_env(name))


def test_rllib_checker_accepts_box_actions():
    env = rllib_env("spread", continuous_actions=True)
    check_multiagent_environments(env)
    assert env.action_spaces["player_0"].shape == (5,)


@pytest.mark.parametrize("name", sorted(envs.ENVS))
def test_spaces_rollout_and_events_equal_the_core(name):
    shell = env_creator({"name": name, **SHORT[name]})  # what RLlib's env runners call
    core = envs.make(name, batch_size=1, **SHORT[name])
    A = core.num_agents
    agents = [f"player_{k}" for k in range(A)]
    assert shell.possible_agents == shell.agents == agents
    assert shell.metadata["name"] == name
    for agent in agents:
        assert shell.observation_spaces[agent] == core.observation_space
        assert shell.get_action_space(agent) == core.action_space

    obs, infos = shell.reset(seed=3)
    core_obs = core.reset(seed=3)  # (1, A, ...)
    assert infos == {agent: {} for agent in agents}
    for k, agent in enumerate(agents):
        np.testing.assert_array_equal(obs[agent], core_obs[0, k])
    for _ in range(core.max_steps):
        actions = np.stack([core.action_space.sample() for _ in agents])[None]  # (1, A)
        obs, rewards, terminateds, truncateds, infos = shell.step(
            {agent: actions[0, k] for k, agent in enumerate(agents)}
        )
        result = core.step(actions)
        for k, agent in enumerate(agents):
            np.testing.assert_array_equal(obs[agent], result.obs[0, k])
            assert rewards[agent] == pytest.approx(float(result.rewards[0, k]))
            assert infos[agent] == {e: int(v[0, k]) for e, v in result.events.items()}
            assert set(infos[agent]) == set(core.event_names)
        assert terminateds["__all__"] == bool(result.terminated[0])
        assert truncateds["__all__"] == bool(result.truncated[0])
        assert {terminateds[a] for a in agents} == {terminateds["__all__"]}
        if terminateds["__all__"] or truncateds["__all__"]:
            break
    assert terminateds["__all__"] or truncateds["__all__"]  # the episode ended together
    assert shell.agents == agents  # every agent lives through every episode


def test_same_seed_same_episode_and_reset_without_seed_continues_the_stream():
    first, second = rllib_env("spread"), rllib_env("spread")
    a, _ = first.reset(seed=7)
    b, _ = second.reset(seed=7)
    np.testing.assert_array_equal(a["player_2"], b["player_2"])
    again, _ = first.reset()
    assert any(not np.array_equal(again[k], a[k]) for k in a)  # a new layout, not a replay


def test_rendering_and_one_line_errors():
    env = rllib_env("wolfpack")
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    with pytest.raises(ValueError, match="missing"):
        env.step({"player_0": 0})
    with pytest.raises(ValueError, match="batch_size=1"):
        RLlibEnv(envs.make("spread", batch_size=2))
    with pytest.raises(ValueError, match="needs 'name'"):
        env_creator({"max_cycles": 5})
    with pytest.raises(KeyError, match="unknown environment"):
        env_creator({"name": "chess"})
