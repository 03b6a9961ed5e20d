"""The PettingZoo shell over Commons Harvest passes PettingZoo's own checks."""

from __future__ import annotations

import numpy as np
from pettingzoo.test import parallel_api_test, parallel_seed_test

from envs.adapters.pettingzoo import parallel_env


def test_parallel_api():
    parallel_api_test(parallel_env("commons", max_steps=30), num_cycles=40)


def test_parallel_seed():
    parallel_seed_test(lambda: parallel_env("commons", max_steps=20), num_cycles=20)


def test_episode_infos_and_render():
    env = parallel_env("commons", max_steps=5, num_agents=3)
    obs, infos = env.reset(seed=0)
    assert env.agents == ["player_0", "player_1", "player_2"]
    assert obs["player_0"].shape == (15, 15, 3) and obs["player_0"].dtype == np.uint8
    assert env.observation_space("player_1").contains(obs["player_1"])
    for _ in range(5):
        assert env.agents
        obs, rewards, terminated, truncated, infos = env.step(dict.fromkeys(env.agents, 7))
    assert all(truncated.values()) and not any(terminated.values()) and env.agents == []
    assert set(infos["player_2"]) == {"apples", "beams", "tagged", "removed"}
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert env.metadata["name"] == "commons" and "rgb_array" in env.metadata["render_modes"]
