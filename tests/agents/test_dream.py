"""The dream world (`agents.world_models.dream`): copies end together however the model ends
them, its config, and opening it from a world-model run directory. Its API conformance (shapes,
seeds, every adapter) is in tests/envs/test_conformance.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.world_models import Imagined, Segments
from agents.world_models.dream import DreamConfig, DreamEnv, open_dream, real_world
from tests.conftest import TINY_REAL_WORLD, write_tiny_world_model_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")

END = 2
"""The scripted model predicts the end of a stream whose action is END."""


class Scripted:
    """A `WorldModel` whose imagined view holds the step count t, reward 1 per step, and end
    probability 1 after action END (0 otherwise)."""

    view_shape = (3, 3, 1)
    num_actions = 3
    context = 1

    def start(self, views: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(views))

    def imagine(
        self, state: torch.Tensor, actions: torch.Tensor, gen: torch.Generator, temperature: float
    ) -> tuple[torch.Tensor, Imagined]:
        t = state + 1
        views = (t / 255).view(-1, 1, 1, 1).expand(-1, *self.view_shape)
        return t, Imagined(views, torch.ones_like(t), (actions == END).float())


def scripted_dream(batch_size: int, max_steps: int) -> DreamEnv:
    groups, agents, length = 4, 2, 3
    n = groups * agents
    starts = Segments(
        np.zeros((n, length + 1, 3, 3, 1), np.uint8),
        np.zeros((n, length), np.int64),
        np.zeros((n, length), np.float32),
        np.zeros((n, length), bool),
    )
    return DreamEnv(Scripted(), starts, agents, batch_size, max_steps=max_steps, seed=0)


def test_a_copy_whose_dream_ends_is_absorbed_until_the_batch_ends_together():
    env = scripted_dream(batch_size=3, max_steps=5)
    actions = np.zeros((3, 2), np.int64)
    actions[0, 1] = END  # one agent of copy 0: its model predicts the end
    res = env.step(actions)
    assert not (res.terminated | res.truncated).any()  # the others still dream
    for t in range(2, 6):
        res = env.step(np.zeros((3, 2), np.int64))
        assert res.rewards[0].tolist() == [0.0, 0.0] and res.rewards[1:].min() == 1.0
        assert (res.obs[0] == 1).all() and (res.obs[1:] == t).all()  # copy 0's view is frozen
        assert res.events["dreamed_reward"][0].tolist() == [0, 0]
        ended = res.terminated | res.truncated
        assert ended.tolist() == [t == 5] * 3
    assert res.terminated.tolist() == [True, False, False]  # its dream ended: no bootstrap
    assert res.truncated.tolist() == [False, True, True]  # cut off at max_steps
    with pytest.raises(ValueError, match=r"^dream: step after the episode ended; call reset"):
        env.step(np.zeros((3, 2), np.int64))
    env.reset()
    assert env.step(np.zeros((3, 2), np.int64)).rewards.min() == 1.0


def test_the_batch_ends_early_when_every_copy_has_ended():
    env = scripted_dream(batch_size=2, max_steps=50)
    first = np.array([[END, 0], [0, 0]])
    assert not env.step(first).terminated.any()
    res = env.step(np.array([[0, 0], [0, END]]))
    assert res.terminated.tolist() == [True, True] and not res.truncated.any()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"temperature": 0.0}, r"^temperature=0\.0; must be a finite number > 0$"),
        ({"temperature": math.inf}, r"^temperature=inf; must be a finite number > 0$"),
        ({"temperature": True}, r"^temperature=True; "),
        ({"max_steps": 0}, r"^max_steps=0; must be an integer from 1 to 100,000$"),
        ({"max_steps": 100_001}, r"^max_steps=100001; must be an integer from 1 to 100,000$"),
        ({"world_model": ""}, r"^world_model=''; must name a world-model run directory$"),
    ],
)
def test_bad_dream_settings_are_one_line_value_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        DreamConfig(**{"world_model": "runs/wm", **settings})


def test_open_dream_builds_the_real_worlds_agents_from_a_run_directory(tmp_path):
    folder = write_tiny_world_model_run(tmp_path / "wm")
    cfg = DreamConfig(str(folder), temperature=0.5, max_steps=7)
    assert real_world(cfg) == TINY_REAL_WORLD
    env = open_dream(cfg, batch_size=3, seed=0)
    assert (env.batch_size, env.num_agents, env.max_steps, env.temperature) == (3, 2, 7, 0.5)
    assert env.observation_space.shape == (7, 7, 3) and env.action_space.n == 7


def test_missing_run_files_name_the_path_and_the_fix(tmp_path):
    fix = r"run a world_model experiment first, e\.g\. `emergent run experiments/"
    with pytest.raises(ValueError, match=rf"^world model directory '.*nope' not found; {fix}"):
        open_dream(DreamConfig(str(tmp_path / "nope")), 1, 0)
    folder = write_tiny_world_model_run(tmp_path / "wm")
    (folder / "data" / "segments.npz").write_bytes(b"not an npz")
    with pytest.raises(ValueError, match=rf"segments\.npz' is damaged \(.*\); {fix}"):
        open_dream(DreamConfig(str(folder)), 1, 0)
    (folder / "data" / "segments.npz").unlink()
    with pytest.raises(ValueError, match=rf"segments\.npz' not found .*; {fix}"):
        real_world(DreamConfig(str(folder)))


def test_a_model_of_other_views_than_its_world_is_refused(tmp_path):
    import agents.world_models as world_models

    folder = write_tiny_world_model_run(tmp_path / "wm")
    other = world_models.make("vae_rnn", (5, 5, 3), 7, 4, latent_dim=2, channels=(4,), hidden=())
    world = {"name": "wolfpack", "options": dict(TINY_REAL_WORLD["options"])}
    world_models.save(Path(folder) / "world_model.pt", other, "vae_rnn", world)
    with pytest.raises(ValueError, match=r"imagines views \(5, 5, 3\) .* but wolfpack has"):
        open_dream(DreamConfig(str(folder)), 1, 0)
