"""Commons Harvest rules: hand-built states, statistics of regrowth, cheap talk, rendering,
errors (`test_conformance.py` checks what every world shares)."""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace

import numpy as np
import pytest
from PIL import Image

import envs
from envs.commons import CommonsConfig
from envs.commons.maps import parse
from envs.commons.render import render, save_gif
from envs.commons.rules import (
    APPLE_RGB,
    BACKWARD,
    FIRE,
    FORWARD,
    SELF_RGB,
    STAY,
    STEP_LEFT,
    STEP_RIGHT,
    TURN_LEFT,
    TURN_RIGHT,
    CommonsState,
    event_names,
    observe,
    reset,
    step,
)
from envs.grid import DIRS, TOKEN_RGB
from envs.messages import CHANNELS, SILENT

OPEN = (
    "@@@@@@@@@",
    "@P     P@",
    "@       @",
    "@       @",
    "@       @",
    "@       @",
    "@       @",
    "@       @",
    "@       @",
    "@       @",
    "@P     P@",
    "@@@@@@@@@",
)  # 12 x 9, no apple cells


def make_state(cfg: CommonsConfig, pos, orient, apples=None, batch: int = 1) -> CommonsState:
    """One hand-built copy, repeated `batch` times; apples default to none."""
    H, W = parse(cfg.map).shape
    A = len(pos)
    if apples is None:
        apples = np.zeros((H, W), dtype=bool)
    silent = np.full((batch, A), SILENT, dtype=np.int64) if cfg.talk_vocab else None
    return CommonsState(
        pos=np.repeat(np.array(pos, dtype=np.int32)[None], batch, axis=0),
        orient=np.repeat(np.array(orient, dtype=np.int8)[None], batch, axis=0),
        apples=np.repeat(np.asarray(apples, dtype=bool)[None], batch, axis=0),
        removed_for=np.zeros((batch, A), dtype=np.int32),
        beams=np.zeros((batch, H, W), dtype=bool),
        t=np.zeros(batch, dtype=np.int32),
        said=silent,
        heard=silent,
    )


def act(*a: int, batch: int = 1) -> np.ndarray:
    return np.repeat(np.array(a)[None], batch, axis=0)


RNG = np.random.default_rng


def test_moving_into_a_wall_does_not_move():
    cfg = CommonsConfig(num_agents=1, map=OPEN)
    s = make_state(cfg, [(1, 1)], [0])  # facing north, wall ahead
    s2, _, _ = step(cfg, s, act(FORWARD), RNG(0))
    assert s2.pos[0, 0].tolist() == [1, 1]
    s3, _, _ = step(cfg, replace(s, orient=np.array([[1]], np.int8)), act(STEP_LEFT), RNG(0))
    assert s3.pos[0, 0].tolist() == [1, 1]  # facing east, left is north: wall


@pytest.mark.parametrize("orient", range(4))
@pytest.mark.parametrize(
    "action, quarter_turns", [(FORWARD, 0), (STEP_RIGHT, 1), (BACKWARD, 2), (STEP_LEFT, 3)]
)
def test_moves_are_relative_to_orientation(orient, action, quarter_turns):
    cfg = CommonsConfig(num_agents=1, map=OPEN)
    s = make_state(cfg, [(5, 4)], [orient])
    s2, _, _ = step(cfg, s, act(action), RNG(0))
    expected = np.array([5, 4]) + DIRS[(orient + quarter_turns) % 4]
    assert s2.pos[0, 0].tolist() == expected.tolist()
    assert s2.orient[0, 0] == orient


@pytest.mark.parametrize("orient", range(4))
def test_turning_changes_orientation_only(orient):
    cfg = CommonsConfig(num_agents=1, map=OPEN)
    s = make_state(cfg, [(5, 4)], [orient])
    left, _, _ = step(cfg, s, act(TURN_LEFT), RNG(0))
    right, _, _ = step(cfg, s, act(TURN_RIGHT), RNG(0))
    assert left.orient[0, 0] == (orient + 3) % 4 and right.orient[0, 0] == (orient + 1) % 4
    assert left.pos[0, 0].tolist() == right.pos[0, 0].tolist() == [5, 4]


def test_eating_an_apple_rewards_and_empties_the_cell():
    cfg = CommonsConfig(num_agents=2, map=OPEN, regrowth_scale=0.0)
    apples = np.zeros(parse(OPEN).shape, dtype=bool)
    apples[4, 4] = True
    s = make_state(cfg, [(5, 4), (8, 2)], [0, 0], apples)
    s2, rewards, events = step(cfg, s, act(FORWARD, STAY), RNG(0))
    assert rewards.tolist() == [[1.0, 0.0]]
    assert events["apples"].tolist() == [[1, 0]]
    assert not s2.apples[0, 4, 4]


def test_two_agents_into_one_cell_one_wins_and_swaps_are_blocked():
    cfg = CommonsConfig(num_agents=2, map=OPEN)
    s = make_state(cfg, [(5, 3), (5, 5)], [1, 3], batch=200)  # facing each other, gap at (5,4)
    s2, _, _ = step(cfg, s, act(FORWARD, FORWARD, batch=200), RNG(0))
    winners = (s2.pos == [5, 4]).all(axis=2)  # (B, A)
    assert (winners.sum(axis=1) == 1).all()
    assert 50 < winners[:, 0].sum() < 150  # random priority, not always agent 0
    s = make_state(cfg, [(5, 3), (5, 4)], [1, 3])  # adjacent, facing each other
    s3, _, _ = step(cfg, s, act(FORWARD, FORWARD), RNG(0))
    assert s3.pos[0].tolist() == [[5, 3], [5, 4]]


def test_following_into_a_vacated_cell_works_unless_the_leader_is_blocked():
    cfg = CommonsConfig(num_agents=2, map=OPEN)
    s = make_state(cfg, [(5, 4), (6, 4)], [0, 0])
    s2, _, _ = step(cfg, s, act(FORWARD, FORWARD), RNG(0))
    assert s2.pos[0].tolist() == [[4, 4], [5, 4]]
    s = make_state(cfg, [(1, 4), (2, 4)], [0, 0])  # leader faces the wall
    s3, _, _ = step(cfg, s, act(FORWARD, FORWARD), RNG(0))
    assert s3.pos[0].tolist() == [[1, 4], [2, 4]]


SPARSE = (
    "@@@@@@@@@",
    "@A     P@",
    "@       @",
    "@   A   @",
    "@       @",
    "@P     A@",
    "@@@@@@@@@",
)


def test_no_regrowth_without_apples_nearby():
    cfg = CommonsConfig(num_agents=1, map=SPARSE, regrowth_probs=(0.0, 1.0, 1.0, 1.0))
    s = replace(reset(cfg, 64, RNG(0)), apples=np.zeros((64, 7, 9), dtype=bool))
    rng = RNG(1)
    for _ in range(20):
        s, _, _ = step(cfg, s, np.full((64, 1), STAY), rng)
    assert not s.apples.any()


BLOCK = (
    "@@@@@@@",
    "@P    @",
    "@ AAA @",
    "@ AAA @",
    "@ AAA @",
    "@    P@",
    "@@@@@@@",
)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_regrowth_rate_matches_config(k, scale):
    cfg = CommonsConfig(num_agents=1, map=BLOCK, regrowth_scale=scale)
    B = 20_000
    apples = np.zeros((7, 7), dtype=bool)
    ring = [(2, 2), (2, 3), (2, 4), (3, 2), (3, 4), (4, 2), (4, 3), (4, 4)]
    for r, c in ring[:k]:
        apples[r, c] = True  # the centre (3, 3) has exactly k apples around it
    s = make_state(cfg, [(1, 1)], [0], apples, batch=B)
    s2, _, _ = step(cfg, s, np.full((B, 1), STAY), RNG(k))
    p = min(cfg.regrowth_probs[min(k, 3)] * scale, 1.0)
    p_hat = s2.apples[:, 3, 3].mean()
    assert abs(p_hat - p) <= 4 * np.sqrt(p * (1 - p) / B)


BEAM_MAP = (
    "@@@@@@@@@",
    "@PP   PP@",
    "@       @",
    "@       @",
    "@       @",
    "@  @    @",
    "@       @",
    "@       @",
    "@       @",
    "@       @",
    "@PP   PP@",
    "@@@@@@@@@",
)


def test_beam_tags_within_reach_only():
    cfg = CommonsConfig(num_agents=6, map=BEAM_MAP, beam_length=5, beam_width=3)
    # shooter at (8, 4) facing north: lanes are columns 3, 4, 5, rows 7 .. 3; wall at (5, 3)
    shooter, ahead, side, behind, beyond, walled = (8, 4), (4, 4), (7, 5), (9, 4), (2, 4), (3, 3)
    s = make_state(cfg, [shooter, ahead, side, behind, beyond, walled], [0] * 6)
    s2, _, events = step(cfg, s, act(FIRE, STAY, STAY, STAY, STAY, STAY), RNG(0))
    assert events["beams"].tolist() == [[1, 0, 0, 0, 0, 0]]
    assert events["tagged"].tolist() == [[0, 1, 1, 0, 0, 0]]
    assert events["removed"].tolist() == [[0, 1, 1, 0, 0, 0]]
    assert s2.beams[0, 3, 4] and s2.beams[0, 6, 3] and s2.beams[0, 3, 5]
    assert not s2.beams[0, 2, 4] and not s2.beams[0, 4, 3] and not s2.beams[0, 8, 4]


def test_tagged_agent_sits_out_exactly_tag_timeout_steps_then_respawns():
    T = 4
    cfg = CommonsConfig(num_agents=2, map=OPEN, tag_timeout=T)
    s = make_state(cfg, [(5, 4), (3, 4)], [0, 0])
    rng = RNG(0)
    s, _, events = step(cfg, s, act(FIRE, STAY), rng)
    removed, obs_zero = [events["removed"][0, 1]], [not observe(cfg, s)[0, 1].any()]
    for _ in range(T):
        s, _, events = step(cfg, s, act(STAY, FORWARD), rng)  # its moves must be ignored
        removed.append(events["removed"][0, 1])
        obs_zero.append(not observe(cfg, s)[0, 1].any())
    assert removed == [1] * T + [0]
    assert obs_zero == [True] * T + [False]
    spawns = parse(OPEN).spawns.tolist()
    assert s.pos[0, 1].tolist() in spawns and s.removed_for[0, 1] == 0


def test_no_two_active_agents_share_a_cell():
    cfg = CommonsConfig(num_agents=4, map=OPEN, tag_timeout=3)
    rng = RNG(0)
    s = reset(cfg, 128, rng)
    walls = parse(OPEN).walls
    for _ in range(60):
        s, _, _ = step(cfg, s, rng.integers(0, 8, size=(128, 4)), rng)
        cell = s.pos[..., 0] * 9 + s.pos[..., 1]
        same = (cell[:, :, None] == cell[:, None, :]) & s.active[:, :, None] & s.active[:, None]
        assert (same.sum(axis=2) == s.active).all()
        assert not walls[s.pos[..., 0], s.pos[..., 1]].any()


@pytest.mark.parametrize("orient", range(4))
def test_observation_rotates_with_the_agent(orient):
    cfg = CommonsConfig(num_agents=1, map=OPEN, view_radius=3)
    apples = np.zeros(parse(OPEN).shape, dtype=bool)
    ahead = np.array([5, 4]) + DIRS[orient]
    right = np.array([5, 4]) + 2 * DIRS[(orient + 1) % 4]
    apples[tuple(ahead)] = apples[tuple(right)] = True
    obs = observe(cfg, make_state(cfg, [(5, 4)], [orient], apples))  # (1, 1, 7, 7, 3)
    r = cfg.view_radius
    assert obs.shape == (1, 1, 7, 7, 3) and obs.dtype == np.uint8
    assert obs[0, 0, r - 1, r].tolist() == list(APPLE_RGB)
    assert obs[0, 0, r, r + 2].tolist() == list(APPLE_RGB)
    assert obs[0, 0, r, r].tolist() == list(SELF_RGB)
    assert (obs[0, 0].reshape(-1, 3) == APPLE_RGB).all(axis=1).sum() == 2


def copy_of(batch: CommonsState, i: int) -> CommonsState:
    """Copy i of a batch as a batch of one (fields that are None stay None)."""
    parts = (getattr(batch, f.name) for f in fields(batch))
    return CommonsState(*(None if x is None else x[i : i + 1] for x in parts))


def test_batched_step_equals_per_copy_step():
    # one agent and no regrowth: nothing random is left in a step, so copies must agree.
    cfg = CommonsConfig(num_agents=1, regrowth_scale=0.0)
    B = 6
    batch = reset(cfg, B, RNG(0))
    singles = [copy_of(batch, i) for i in range(B)]
    act_rng = RNG(1)
    for _ in range(40):
        a = act_rng.integers(0, 8, size=(B, 1))
        batch, rew, ev = step(cfg, batch, a, RNG(2))
        for i in range(B):
            singles[i], rew_i, ev_i = step(cfg, singles[i], a[i : i + 1], RNG(3))
            assert np.array_equal(rew[i : i + 1], rew_i)
            assert all(np.array_equal(ev[k][i : i + 1], ev_i[k]) for k in ev)
    obs = observe(cfg, batch)
    for i in range(B):
        assert np.array_equal(batch.apples[i], singles[i].apples[0])
        assert np.array_equal(obs[i : i + 1], observe(cfg, singles[i]))


@pytest.mark.parametrize(
    "bad",
    [
        {"num_agents": 0},
        {"num_agents": 99},
        {"view_radius": 0},
        {"max_steps": 0},
        {"regrowth_probs": (0.0, 0.1, 1.5, 0.2)},
        {"regrowth_probs": (0.0, 0.1)},
        {"regrowth_probs": (0.0, float("nan"), 0.1, 0.2)},
        {"regrowth_probs": (0.0, True, 0.1, 0.2)},
        {"regrowth_scale": float("inf")},
        {"beam_cost": 1e300},
        {"num_agents": 65, "map": ("@" * 70, "@" + "P" * 68 + "@", "@" * 70)},
        {"view_radius": 33},
        {"beam_length": 65},
        {"beam_width": 65},
        {"regrowth_scale": -1.0},
        {"beam_width": 2},
        {"tag_timeout": 0},
        {"map": ("@@@", "@P@", "@@")},
        {"map": ("@@@", "@X@", "@@@")},
        {"map": ("@@@", "@P ", "@@@")},
        {"talk_vocab": 65},
        {"talk_vocab": -1},
        {"channel": "loud"},
    ],
)
def test_invalid_values_raise_value_error(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        CommonsConfig(**bad)


def test_render_and_save_gif(tmp_path):
    env = envs.make("commons", batch_size=2, seed=0)
    frames = [env.render(1)]
    env.step(np.full((2, 5), FIRE))
    frames.append(env.render(1))
    for turn in (TURN_LEFT, TURN_RIGHT):
        env.step(np.full((2, 5), turn))
        frames.append(env.render(1))
    assert not any(np.array_equal(a, b) for a, b in zip(frames, frames[1:], strict=False))
    H, W = parse(env.cfg.map).shape
    assert frames[0].shape == (H * 8, W * 8, 3) and frames[0].dtype == np.uint8
    assert (frames[1] == (255, 255, 0)).all(axis=2).any()  # beams visible
    path = save_gif(frames, tmp_path / "episode.gif", fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == 4 and gif.size == (W * 8, H * 8)
    assert render(env.cfg, env.state, 0, scale=4).shape == (H * 4, W * 4, 3)


# Cheap talk.

MOVES = 8  # len(ACTIONS): a talking agent's action is move + MOVES * token


def rollout_digest(name: str, steps: int = 60, **settings: object) -> str:
    """First 16 hex digits of the SHA-256 of a seeded rollout of 3 copies with random moves:
    observations, rewards, every event and a frame at each step."""
    env = envs.make(name, batch_size=3, seed=5, **settings)
    moves = 8 if name == "commons" else 9
    rng = RNG(1)
    digest = hashlib.sha256(env.reset().tobytes())
    for t in range(steps):
        res = env.step(rng.integers(0, moves, size=(3, env.num_agents)))
        for x in (res.obs, res.rewards, *res.events.values(), env.render(t % 3)):
            digest.update(np.ascontiguousarray(x).tobytes())
    return digest.hexdigest()[:16]


def test_without_talk_the_world_is_the_one_before_talk_existed():
    # recorded with the code before the channel was added (git 'HEAD' of issue 16)
    before = "de9173456af768bb"
    assert rollout_digest("commons") == before
    assert rollout_digest("commons", talk_vocab=0, channel="scrambled") == before  # ignored
    env = envs.make("commons")
    assert env.observation_space.shape == (15, 15, 3) and env.action_space.n == 8
    assert env.event_names == ("apples", "beams", "tagged", "removed")
    assert env.state.said is None and env.state.heard is None


def test_talk_adds_a_channel_per_token_and_multiplies_the_actions():
    env = envs.make("commons", talk_vocab=4)
    assert env.observation_space.shape == (15, 15, 7) and env.action_space.n == 4 * MOVES
    assert env.event_names == (*event_names(CommonsConfig()), "token")


@pytest.mark.parametrize("channel", ["open", "cut"])
def test_talk_changes_nothing_but_the_token_channels_and_event(channel):
    # an open or cut channel takes no random draw: with the same moves the world is the same
    plain = envs.make("commons", batch_size=3, seed=5)
    talk = envs.make("commons", batch_size=3, seed=5, talk_vocab=4, channel=channel)
    obs = talk.reset()
    assert np.array_equal(obs[..., :3], plain.reset()) and not obs[..., 3:].any()
    rng, seen = RNG(1), 0
    for _ in range(60):
        move, token = rng.integers(0, MOVES, size=(3, 5)), rng.integers(0, 4, size=(3, 5))
        active = talk.state.removed_for == 0
        p, t = plain.step(move), talk.step(move + MOVES * token)
        assert np.array_equal(t.obs[..., :3], p.obs) and np.array_equal(t.rewards, p.rewards)
        assert all(np.array_equal(t.events[k], v) for k, v in p.events.items())
        assert np.array_equal(t.events["token"], np.where(active, token + 1, 0))
        seen += int((t.obs[..., 3:] > 0).sum())
        assert (t.obs[..., 3:] > 0).sum(axis=-1).max() <= 1  # one token per cell at most
    assert (seen > 0) == (channel == "open")


def test_a_token_is_seen_at_its_speakers_cell_only_by_agents_that_have_it_in_view():
    cfg = CommonsConfig(num_agents=3, map=OPEN, view_radius=2, talk_vocab=4)
    r = cfg.view_radius
    # listener at (5, 4) facing north, a speaker two cells ahead facing north, one far away
    s = make_state(cfg, [(5, 4), (3, 4), (10, 7)], [0, 0, 0])
    s, _, events = step(cfg, s, act(STAY, STAY + MOVES * 3, STAY + MOVES * 1), RNG(0))
    assert events["token"].tolist() == [[1, 4, 2]] and s.said.tolist() == [[0, 3, 1]]
    obs = observe(cfg, s)  # (1, 3, 5, 5, 3 + 4)
    assert obs.shape == (1, 3, 5, 5, 7)
    heard = obs[0, :, :, :, 3:]  # (3, 5, 5, 4)
    assert heard[0, r - 2, r].tolist() == [0, 0, 0, 255] and (heard[0] > 0).sum() == 1
    assert heard[1, r + 2, r].tolist() == [255, 0, 0, 0] and (heard[1] > 0).sum() == 1
    assert not heard[2].any()  # nobody within its view, and never itself
    s, _, _ = step(cfg, s, act(STAY, FORWARD + MOVES * 3, STAY), RNG(0))  # 3 cells ahead now
    assert not observe(cfg, s)[0, 0, :, :, 3:].any()


def test_removed_agents_neither_speak_nor_are_heard():
    cfg = CommonsConfig(num_agents=2, map=OPEN, view_radius=3, talk_vocab=2, tag_timeout=3)
    s = make_state(cfg, [(5, 4), (3, 4)], [0, 0])
    s, _, events = step(cfg, s, act(FIRE + MOVES, STAY + MOVES), RNG(0))
    assert events["tagged"].tolist() == [[0, 1]] and events["token"].tolist() == [[2, 2]]
    obs = observe(cfg, s)
    assert not obs[0, 0, :, :, 3:].any()  # it spoke as it was tagged, and left the map
    assert not obs[0, 1].any()  # off the map it sees nothing
    s, _, events = step(cfg, s, act(STAY + MOVES, STAY + MOVES), RNG(0))
    assert events["token"].tolist() == [[2, 0]] and s.said[0, 1] == SILENT


def test_a_cut_channel_delivers_nothing_and_a_scrambled_one_uniform_tokens():
    B = 2000
    for channel in CHANNELS:
        cfg = CommonsConfig(num_agents=2, map=OPEN, view_radius=3, talk_vocab=4, channel=channel)
        s = make_state(cfg, [(5, 4), (3, 4)], [0, 0], batch=B)
        s, _, events = step(cfg, s, act(STAY + MOVES * 3, STAY + MOVES * 3, batch=B), RNG(7))
        assert (events["token"] == 4).all() and (s.said == 3).all()  # what was said
        heard_at_speaker = observe(cfg, s)[:, 0, 1, 3, 3:]  # (B, 4): agent 1, 2 cells ahead
        if channel == "open":
            assert (s.heard == 3).all() and (heard_at_speaker.argmax(axis=1) == 3).all()
        elif channel == "cut":
            assert (s.heard == SILENT).all() and not heard_at_speaker.any()
        else:
            again, _, _ = step(
                cfg,
                make_state(cfg, [(5, 4), (3, 4)], [0, 0], batch=B),
                act(STAY + MOVES * 3, STAY + MOVES * 3, batch=B),
                RNG(7),
            )
            assert np.array_equal(again.heard, s.heard)  # fixed seed, fixed scramble
            share = np.bincount(s.heard.ravel(), minlength=4) / s.heard.size
            assert np.abs(share - 0.25).max() < 4 * np.sqrt(0.25 * 0.75 / s.heard.size)
            assert (heard_at_speaker.argmax(axis=1) == s.heard[:, 1]).all()
            assert ((heard_at_speaker > 0).sum(axis=1) == 1).all()


def test_render_marks_each_speaker_with_its_tokens_colour():
    plain = envs.make("commons", batch_size=1, seed=0)
    talk = envs.make("commons", batch_size=1, seed=0, talk_vocab=8)
    plain.step(np.full((1, 5), STAY))
    talk.step(STAY + MOVES * np.arange(5)[None])
    a = render(plain.cfg, plain.state, scale=9)
    b = render(talk.cfg, talk.state, scale=9)
    differs = (a != b).any(axis=2)
    assert differs.sum() == 5 * 9  # a 3 x 3 square per agent, nothing else
    for k, (row, col) in enumerate(talk.state.pos[0]):
        assert b[row * 9 + 4, col * 9 + 4].tolist() == list(TOKEN_RGB[k])
