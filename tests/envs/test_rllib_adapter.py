"""The RLlib shell's own errors; `test_conformance.py` runs RLlib's checker on it for every
world and compares it with the core step for step."""

from __future__ import annotations

import pytest

import envs
from envs.adapters.rllib import RLlibEnv, env_creator, rllib_env


def test_one_line_errors():
    env = rllib_env("wolfpack")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="missing"):
        env.step({"player_0": 0})
    with pytest.raises(ValueError, match="batch_size=1"):
        RLlibEnv(envs.make("spread", batch_size=2))
    with pytest.raises(ValueError, match="needs 'name'"):
        env_creator({"max_cycles": 5})
    with pytest.raises(KeyError, match="unknown environment"):
        env_creator({"name": "chess"})
