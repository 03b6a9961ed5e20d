"""The PettingZoo shell's own errors; `test_conformance.py` runs PettingZoo's checkers on it
for every world."""

from __future__ import annotations

import pytest

import envs
from envs.adapters.pettingzoo import PettingZooParallelEnv, parallel_env


def test_one_line_errors():
    with pytest.raises(ValueError, match="batch_size=1"):
        PettingZooParallelEnv(envs.make("commons", batch_size=2))
    with pytest.raises(ValueError, match="render_mode='human'"):
        parallel_env("commons", render_mode="human")
    with pytest.raises(KeyError, match="unknown environment"):
        parallel_env("chess")
    env = parallel_env("wolfpack")
    with pytest.raises(ValueError, match="reset"):
        env.step({"player_0": 0, "player_1": 0})  # before the first reset
    env.reset(seed=0)
    with pytest.raises(ValueError, match="missing"):
        env.step({"player_0": 0})
