"""Wolfpack rules: hand-built captures, lone versus team rewards, the prey's policy, respawns,
observations, rendering and configuration errors (`test_conformance.py` checks what every
world shares)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import envs
from envs.wolfpack import WolfpackConfig
from envs.wolfpack.render import RADIUS_RGB, render, save_gif
from envs.wolfpack.rules import (
    FORWARD,
    PREY_RGB,
    SELF_RGB,
    STAY,
    STEP_LEFT,
    TURN_RIGHT,
    WALL_RGB,
    WOLF_RGB,
    WolfpackState,
    _walls,
    observe,
    reset,
    step,
)

ARENA = (
    "@@@@@@@@@@@",
    "@@ @      @",
    "@         @",
    "@         @",
    "@    @    @",
    "@         @",
    "@         @",
    "@@@@@@@@@@@",
)  # 8 x 11; (1, 2) is a pocket open only to the south, (1, 9) a corner, (4, 5) an obstacle
POCKET = (1, 2)
RNG = np.random.default_rng


def cfg_with(**kw) -> WolfpackConfig:
    return WolfpackConfig(map=ARENA, **{"num_wolves": 3, **kw})


def make_state(pos, orient, prey, batch: int = 1) -> WolfpackState:
    """One hand-built copy, repeated `batch` times."""
    return WolfpackState(
        pos=np.repeat(np.array(pos, dtype=np.int32)[None], batch, axis=0),
        orient=np.repeat(np.array(orient, dtype=np.int8)[None], batch, axis=0),
        prey=np.repeat(np.array(prey, dtype=np.int32)[None], batch, axis=0),
        t=np.zeros(batch, dtype=np.int32),
    )


def act(*a: int, batch: int = 1) -> np.ndarray:
    return np.repeat(np.array(a)[None], batch, axis=0)


def test_walls_and_obstacles_block_wolves():
    cfg = cfg_with(num_wolves=2)
    s = make_state([(1, 4), (3, 5)], [0, 2], prey=(6, 9))  # facing N and S
    s2, rewards, _ = step(cfg, s, act(FORWARD, FORWARD), RNG(0))
    assert s2.pos[0].tolist() == [[1, 4], [3, 5]]  # the border wall and the (4, 5) obstacle
    assert not rewards.any()


def test_moves_are_relative_to_the_orientation():
    cfg = cfg_with(num_wolves=2)
    s = make_state([(3, 3), (6, 8)], [1, 2], prey=(1, 9))  # facing east and south
    s2, _, _ = step(cfg, s, act(STEP_LEFT, TURN_RIGHT), RNG(0))
    assert s2.pos[0].tolist() == [[2, 3], [6, 8]]  # east's left is north
    assert s2.orient[0].tolist() == [1, 3]  # south turned right faces west


def test_wolf_cannot_enter_the_prey_but_touching_it_captures():
    cfg = cfg_with(num_wolves=1, capture_radius=1.0, r_lone=2.0)
    s = make_state([(2, 2)], [0], prey=POCKET)  # facing the trapped prey
    s2, rewards, events = step(cfg, s, act(FORWARD), RNG(0))
    assert s2.pos[0, 0].tolist() == [2, 2]
    assert rewards.tolist() == [[2.0]]
    assert events["captures"].tolist() == [[1]] and events["lone_captures"].tolist() == [[1]]
    assert events["team_captures"].tolist() == [[0]]


def test_moving_next_to_a_trapped_prey_captures_it():
    cfg = cfg_with(num_wolves=1)
    s = make_state([(3, 2)], [0], prey=POCKET)
    s2, rewards, events = step(cfg, s, act(FORWARD), RNG(0))
    assert s2.pos[0, 0].tolist() == [2, 2] and rewards[0, 0] == cfg.r_lone
    assert events["captures"][0, 0] == 1


def test_diagonal_is_not_a_touch():
    cfg = cfg_with(num_wolves=1, prey_flee_prob=1.0, capture_radius=2.0)
    s = make_state([(2, 3)], [0], prey=POCKET)  # fleeing, the prey stays in its pocket
    s2, rewards, events = step(cfg, s, act(STAY), RNG(0))
    assert s2.prey[0].tolist() == list(POCKET) and not rewards.any()
    assert events["captures"][0, 0] == 0 and events["near_prey"][0, 0] == 1


@pytest.mark.parametrize(
    "radius, rewarded, n",
    [(1.0, [1, 0, 0], 1), (2.5, [1, 1, 0], 2), (3.0, [1, 1, 1], 3)],
)
def test_lone_and_team_rewards_by_distance_and_radius(radius, rewarded, n):
    # Wolf 0 touches the trapped prey; wolf 1 is sqrt(5) ~ 2.24 away, wolf 2 exactly 3.
    cfg = cfg_with(capture_radius=radius, r_lone=1.0, r_team=4.0)
    s = make_state([(2, 2), (2, 4), (4, 2)], [0, 0, 0], prey=POCKET)
    _, rewards, events = step(cfg, s, act(STAY, STAY, STAY), RNG(0))
    per_wolf = 1.0 if n == 1 else 4.0 * n / 2
    np.testing.assert_allclose(rewards[0], per_wolf * np.array(rewarded))
    assert events["captures"][0].tolist() == [1, 0, 0]
    assert events["near_prey"][0].tolist() == rewarded
    team = rewarded if n >= 2 else [0, 0, 0]
    lone = rewarded if n == 1 else [0, 0, 0]
    assert events["team_captures"][0].tolist() == team
    assert events["lone_captures"][0].tolist() == lone


def test_two_touching_wolves_share_a_capture_even_when_the_prey_moves():
    cfg = cfg_with(num_wolves=2, capture_radius=1.0, r_team=3.0, prey_flee_prob=0.0)
    batch = 200
    s = make_state([(2, 8), (3, 9)], [1, 0], prey=(2, 9), batch=batch)
    # Random prey at (2, 9): wolves west and south, wall east; it stays (caught by both)
    # or steps north to the corner (1, 9), next to no wolf.
    s2, rewards, events = step(cfg, s, act(STAY, STAY, batch=batch), RNG(1))
    both = events["captures"].sum(axis=1) == 2
    assert abs(both.mean() - 0.5) < 5 * np.sqrt(0.25 / batch)
    np.testing.assert_array_equal(rewards[both], 3.0)
    assert (events["team_captures"][both] == 1).all() and not rewards[~both].any()
    assert (s2.prey[~both] == [1, 9]).all()


def test_caught_prey_respawns_uniformly_on_floor_away_from_wolves():
    cfg = cfg_with(num_wolves=1)
    batch = 4000
    s = make_state([(2, 2)], [0], prey=POCKET, batch=batch)
    s2, rewards, _ = step(cfg, s, act(STAY, batch=batch), RNG(0))
    assert (rewards == cfg.r_lone).all()
    walls = _walls(ARENA)
    rows, cols = s2.prey[:, 0], s2.prey[:, 1]
    assert not walls[rows, cols].any()
    assert (np.abs(rows - 2) + np.abs(cols - 2) >= 2).all()
    # Eligible: floor cells at Manhattan distance >= 2 from (2, 2).
    rr, cc = np.nonzero(~walls)
    eligible = (np.abs(rr - 2) + np.abs(cc - 2) >= 2).sum()
    counts = np.unique(rows * 11 + cols, return_counts=True)[1]
    assert len(counts) == eligible
    p = 1 / eligible
    assert np.abs(counts / batch - p).max() < 5 * np.sqrt(p * (1 - p) / batch)


def test_fleeing_prey_maximises_distance_to_the_nearest_wolf_with_random_ties():
    cfg = cfg_with(num_wolves=1, prey_flee_prob=1.0)
    batch = 400
    s = make_state([(3, 3)], [0], prey=(3, 5), batch=batch)  # south of the prey is wall
    s2, _, _ = step(cfg, s, act(STAY, batch=batch), RNG(0))
    moved = {tuple(p) for p in s2.prey.tolist()}
    assert moved == {(2, 5), (3, 6)}  # both distance 3; stay is 2, west 1


def test_random_prey_moves_uniformly_among_free_options():
    cfg = cfg_with(num_wolves=1, prey_flee_prob=0.0)
    batch = 5000
    s = make_state([(6, 1)], [0], prey=(2, 5), batch=batch)  # all five options free
    s2, _, _ = step(cfg, s, act(STAY, batch=batch), RNG(0))
    delta = s2.prey - np.array([2, 5])
    codes = (delta[:, 0] + 1) * 3 + delta[:, 1] + 1
    freq = np.bincount(codes, minlength=9)[[4, 1, 5, 7, 3]] / batch  # stay, N, E, S, W
    assert freq.sum() == 1.0
    assert np.abs(freq - 0.2).max() < 5 * np.sqrt(0.2 * 0.8 / batch)


def test_flee_probability_mixes_fleeing_and_random_moves():
    # Prey in the (1, 9) corner, wolf at (3, 7): staying (distance 4) is the unique flee
    # move; the random move picks among stay, south, west. P(stay) = p + (1 - p) / 3.
    p, batch = 0.5, 6000
    cfg = cfg_with(num_wolves=1, prey_flee_prob=p)
    s = make_state([(3, 7)], [0], prey=(1, 9), batch=batch)
    s2, _, _ = step(cfg, s, act(STAY, batch=batch), RNG(0))
    stayed = (s2.prey == [1, 9]).all(axis=1).mean()
    expected = p + (1 - p) / 3
    assert abs(stayed - expected) < 5 * np.sqrt(expected * (1 - expected) / batch)


def test_random_rollout_keeps_the_world_consistent():
    cfg = cfg_with(prey_flee_prob=0.5, capture_radius=2.0)
    rng = RNG(0)
    s = reset(cfg, 64, rng)
    walls = _walls(ARENA)
    captures = 0
    for _ in range(60):
        s, rewards, events = step(cfg, s, rng.integers(0, 7, (64, 3)), rng)
        cells = s.pos[..., 0] * 11 + s.pos[..., 1]
        prey = s.prey[:, 0] * 11 + s.prey[:, 1]
        assert not walls[s.pos[..., 0], s.pos[..., 1]].any()
        assert not walls[s.prey[:, 0], s.prey[:, 1]].any()
        assert (np.sort(cells, axis=1)[:, 1:] != np.sort(cells, axis=1)[:, :-1]).all()
        assert not (cells == prey[:, None]).any()
        rewarded = events["team_captures"] + events["lone_captures"]
        assert ((rewarded > 0) == (rewards > 0)).all()
        assert (events["captures"] <= rewarded).all()  # a toucher is always rewarded
        captures += (rewarded.sum(axis=1) > 0).sum()
    assert captures > 0


def test_observation_is_egocentric_and_rotated():
    cfg = cfg_with(num_wolves=2, view_radius=3)
    s = make_state([(3, 3), (4, 3)], [1, 0], prey=(3, 5))  # wolf 0 faces east
    obs = observe(cfg, s)
    assert obs.shape == (1, 2, 7, 7, 3) and obs.dtype == np.uint8
    view = obs[0, 0]
    r = 3
    assert tuple(view[r, r]) == SELF_RGB
    assert tuple(view[r - 2, r]) == PREY_RGB  # two cells ahead
    assert tuple(view[r, r + 1]) == WOLF_RGB[1]  # facing east, south is to the right
    assert tuple(view[r, r - 3]) == WALL_RGB  # three cells to the left (north) is the wall
    assert tuple(view[0, 0]) == WALL_RGB  # 3 ahead, 3 left: cell (0, 6), the border
    assert tuple(obs[0, 1, r, r]) == SELF_RGB and tuple(obs[0, 1, r - 1, r]) == WOLF_RGB[0]


def test_render_and_gif(tmp_path):
    cfg = cfg_with(num_wolves=2, capture_radius=2.0)
    s = make_state([(2, 8), (6, 1)], [1, 2], prey=(3, 5))
    frame = render(cfg, s, scale=4)
    assert frame.shape == (8 * 4, 11 * 4, 3) and frame.dtype == np.uint8
    assert tuple(frame[3 * 4 + 1, 5 * 4 + 1]) == PREY_RGB
    assert tuple(frame[2 * 4 + 1, 8 * 4 + 1]) == WOLF_RGB[0]
    assert tuple(frame[3 * 4 + 1, 7 * 4 + 1]) == RADIUS_RGB  # 2 cells east of the prey
    assert tuple(frame[3 * 4 + 1, 8 * 4 + 1]) != RADIUS_RGB  # 3 cells east: outside
    env = envs.make("wolfpack", seed=0, max_steps=3)
    env.reset()
    frames = [env.render()]
    for _ in range(2):
        env.step(act(STAY, STAY))
        frames.append(env.render())
    path = save_gif(frames, tmp_path / "wolfpack.gif")
    assert Image.open(path).size == (15 * 8, 15 * 8)


def test_the_agents_are_the_wolves():
    env = envs.make("wolfpack", num_wolves=3)
    assert env.num_agents == env.cfg.num_agents == 3
    assert env.observation_space.shape == (11, 11, 3) and env.action_space.n == 7
    with pytest.raises(ValueError, match="unknown option"):
        envs.make("wolfpack", num_agents=3)  # the setting is num_wolves


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_wolves": 0}, "num_wolves=0"),
        ({"capture_radius": 0.5}, "capture_radius=0.5"),
        ({"capture_radius": "far"}, "capture_radius='far'"),
        ({"prey_flee_prob": 1.5}, "prey_flee_prob=1.5"),
        ({"r_team": float("nan")}, "r_team=nan"),
        ({"r_lone": 1e300}, "r_lone=1e"),
        ({"capture_radius": 513.0}, "capture_radius=513.0"),
        (
            {"num_wolves": 65, "map": ("@" * 12,) + ("@" + " " * 10 + "@",) * 10 + ("@" * 12,)},
            r"num_wolves=65; must be an integer from 1 to 64",
        ),
        ({"view_radius": 0}, "view_radius=0"),
        ({"max_steps": 2.5}, "max_steps=2.5"),
        ({"map": ("@@@", "@ @", "@ @")}, "closed by '@'"),
        ({"map": ("@@@@", "@x @", "@@@@")}, "characters"),
        ({"map": ("@@@", "@ @", "@@@")}, "num_wolves=2"),
    ],
)
def test_bad_config_is_a_one_line_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message) as err:
        envs.make("wolfpack", **kwargs)
    assert "\n" not in str(err.value)
