"""Cleanup rules on hand-built states, spawn statistics, cheap talk, rendering and errors
(`test_conformance.py` checks what every world shares; Commons' tests cover the shared talk
mechanics in more detail)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import envs
from envs.cleanup import CleanupConfig
from envs.cleanup.maps import CLEANUP_MAP, parse
from envs.cleanup.render import render, save_gif
from envs.cleanup.rules import (
    ACTIONS,
    CLEAN,
    CLEAN_BEAM_RGB,
    FIRE,
    RIVER_RGB,
    WASTE_RGB,
    CleanupState,
    apple_probability,
    observe,
    reset,
    step,
    waste_density,
)
from envs.commons import CommonsConfig
from envs.commons import rules as commons_rules
from envs.grid import DIRS, EMPTY_RGB, FORWARD, SELF_RGB, STAY, WALL_RGB
from envs.messages import SILENT
from tests.envs.test_commons_rules import rollout_digest

RNG = np.random.default_rng


def make_state(cfg: CleanupConfig, pos, orient, waste=None, apples=None, batch=1) -> CleanupState:
    """One hand-built copy repeated `batch` times; waste and apples default to none."""
    H, W = parse(cfg.map).shape
    A = len(pos)
    empty = np.zeros((H, W), dtype=bool)
    waste = empty if waste is None else np.asarray(waste, dtype=bool)
    apples = empty if apples is None else np.asarray(apples, dtype=bool)
    silent = np.full((batch, A), SILENT, dtype=np.int64) if cfg.talk_vocab else None
    return CleanupState(
        pos=np.repeat(np.array(pos, dtype=np.int32)[None], batch, axis=0),
        orient=np.repeat(np.array(orient, dtype=np.int8)[None], batch, axis=0),
        apples=np.repeat(apples[None], batch, axis=0),
        waste=np.repeat(waste[None], batch, axis=0),
        removed_for=np.zeros((batch, A), dtype=np.int32),
        beams=np.zeros((batch, H, W), dtype=bool),
        clean_beams=np.zeros((batch, H, W), dtype=bool),
        t=np.zeros(batch, dtype=np.int32),
        said=silent,
        heard=silent,
    )


def act(*a: int, batch: int = 1) -> np.ndarray:
    return np.repeat(np.array(a)[None], batch, axis=0)


def binomial_margin(p: float, n: int) -> float:
    return 4 * np.sqrt(p * (1 - p) / n) + 1e-12


RIVER = (
    "@@@@@@@@",
    "@RRRR  @",
    "@RRRRBP@",
    "@    BP@",
    "@@@@@@@@",
)  # 8 river cells


@pytest.mark.parametrize("n_clean", [1, 3])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_waste_spawns_on_one_clean_river_cell_at_the_configured_rate(n_clean, p):
    cfg = CleanupConfig(num_agents=1, map=RIVER, waste_spawn_probability=p, threshold_depletion=1.0)
    river = parse(RIVER).river
    cells = np.argwhere(river)  # (8, 2)
    waste = river.copy()
    free = cells[:n_clean]
    waste[free[:, 0], free[:, 1]] = False
    B = 20_000
    s = make_state(cfg, [(3, 6)], [0], waste=waste, batch=B)
    s2, _, _ = step(cfg, s, np.full((B, 1), STAY), RNG(n_clean))
    new = s2.waste & ~s.waste  # (B, H, W)
    assert not (new & ~river).any() and (new.sum(axis=(1, 2)) <= 1).all()
    rate = 1 - (1 - p) ** n_clean
    assert abs(new.any(axis=(1, 2)).mean() - rate) <= binomial_margin(rate, B)
    for r, c in free:  # uniform over the clean cells
        share = rate / n_clean
        assert abs(new[:, r, c].mean() - share) <= binomial_margin(share, B)


def test_waste_stays_in_the_river_and_apples_on_apple_cells():
    cfg = CleanupConfig(tag_timeout=3)
    lay = parse(CLEANUP_MAP)
    rng = RNG(0)
    s = reset(cfg, 8, rng)
    density = []
    for _ in range(150):
        s, _, _ = step(cfg, s, rng.integers(0, len(ACTIONS), size=(8, 5)), rng)
        assert not (s.waste & ~lay.river).any() and not (s.apples & ~lay.apple_cells).any()
        density.append(waste_density(cfg, s.waste))
    assert (np.diff(np.sum(density, axis=1)) != 0).any()  # the river does change


DIRTY = (
    "@@@@@@@@@@@@",
    "@RRRRRRRRRR@",
    "@          @",
    "@BBBBBBBBBB@",
    "@P        P@",
    "@@@@@@@@@@@@",
)  # 10 river cells, 10 apple cells


def dirty_state(cfg: CleanupConfig, n_waste: int, batch: int) -> CleanupState:
    waste = np.zeros(parse(DIRTY).shape, dtype=bool)
    waste[1, 1 : 1 + n_waste] = True
    return make_state(cfg, [(4, 1)], [0], waste=waste, batch=batch)


@pytest.mark.parametrize("n_waste", [4, 6, 10])
def test_nothing_spawns_at_or_above_the_depletion_threshold(n_waste):
    cfg = CleanupConfig(num_agents=1, map=DIRTY, apple_respawn_probability=1.0)
    s = dirty_state(cfg, n_waste, batch=64)  # density 0.4, 0.6, 1.0 >= 0.4
    rng = RNG(0)
    for _ in range(30):
        s2, _, _ = step(cfg, s, np.full((64, 1), STAY), rng)
        assert not s2.apples.any() and np.array_equal(s2.waste, s.waste)
        s = s2


@pytest.mark.parametrize(
    "restoration, n_waste", [(0.0, 0), (0.0, 1), (0.0, 3), (0.1, 1), (0.1, 2), (0.2, 3)]
)
def test_apple_growth_falls_linearly_with_waste_density(restoration, n_waste):
    cfg = CleanupConfig(
        num_agents=1,
        map=DIRTY,
        apple_respawn_probability=0.5,
        threshold_depletion=0.4,
        threshold_restoration=restoration,
    )
    B = 4_000
    d = n_waste / 10
    expected = 0.5 * min(1.0, (0.4 - d) / (0.4 - restoration))
    assert apple_probability(cfg, np.array([d]))[0] == pytest.approx(expected)
    s2, _, _ = step(cfg, dirty_state(cfg, n_waste, B), np.full((B, 1), STAY), RNG(n_waste))
    grown = s2.apples[:, 3, 1:11]  # (B, 10)
    assert abs(grown.mean() - expected) <= binomial_margin(expected, grown.size)


def test_no_apple_grows_under_an_agent():
    cfg = CleanupConfig(num_agents=1, map=DIRTY, apple_respawn_probability=1.0)
    s = make_state(cfg, [(3, 4)], [0])
    s2, _, _ = step(cfg, s, act(STAY), RNG(0))
    assert not s2.apples[0, 3, 4] and s2.apples[0, 3, 1:11].sum() == 9


CLEAN_MAP = (
    "@@@@@@@@@",
    "@HHHHHHH@",
    "@HHH@HHH@",
    "@HHHHHHH@",
    "@HHHHHHH@",
    "@RRRRRRR@",
    "@   P   @",
    "@P     P@",
    "@@@@@@@@@",
)


@pytest.mark.parametrize("through, removed", [(True, 10), (False, 3)])
def test_cleaning_beam_removes_waste_in_its_reach_and_walls_block_it(through, removed):
    cfg = CleanupConfig(
        num_agents=2, map=CLEAN_MAP, clean_through_waste=through, waste_spawn_probability=0.0
    )
    lay = parse(CLEAN_MAP)
    # shooter at (6, 4) facing north: lanes are columns 3, 4, 5, rows 5 .. 1; wall at (2, 4)
    s = make_state(cfg, [(6, 4), (7, 1)], [0, 0], waste=lay.waste_start)
    s2, rewards, events = step(cfg, s, act(CLEAN, STAY), RNG(0))
    gone = s.waste[0] & ~s2.waste[0]
    assert events["cleaned"].tolist() == [[removed, 0]] and gone.sum() == removed
    assert events["clean_beams"].tolist() == [[1, 0]] and events["beams"].sum() == 0
    assert not gone[:, [1, 2, 6, 7]].any() and not gone[1, 4]  # outside, or behind the wall
    if through:
        assert gone[1:5, 3].all() and gone[1:5, 5].all() and gone[3:5, 4].all()
        assert s2.clean_beams[0, 1, 3] and not s2.clean_beams[0, 2, 4]
    else:
        assert gone[4, 3:6].all()  # each lane stops at its first waste cell
        assert s2.clean_beams[0, 5, 3] and s2.clean_beams[0, 4, 3] and not s2.clean_beams[0, 3, 3]
    assert rewards.tolist() == [[0.0, 0.0]]  # cleaning is free, and never rewarded


PUBLIC = (
    "@@@@@@@@@",
    "@HHHHHHH@",
    "@HHHHHHH@",
    "@   P   @",
    "@BBBBBBB@",
    "@P     P@",
    "@@@@@@@@@",
)  # a fully polluted river (density 1) above an empty orchard


@pytest.mark.parametrize("cleaner_action, grows", [(CLEAN, True), (STAY, False)])
def test_apples_grow_only_while_somebody_cleans(cleaner_action, grows):
    cfg = CleanupConfig(num_agents=2, map=PUBLIC, clean_beam_width=7)
    s = make_state(cfg, [(3, 4), (5, 1)], [0, 0], waste=parse(PUBLIC).waste_start, batch=8)
    rng = RNG(0)
    eaten = 0
    for _ in range(60):
        s, _, events = step(cfg, s, act(cleaner_action, STAY, batch=8), rng)
        eaten += events["apples"].sum()
    assert s.apples.any() == grows and eaten == 0  # the cleaner never eats
    assert (waste_density(cfg, s.waste) < 0.4).all() == grows


def test_clean_neither_moves_nor_turns_and_hits_nobody():
    cfg = CleanupConfig(num_agents=2, map=CLEAN_MAP, waste_spawn_probability=0.0)
    s = make_state(cfg, [(6, 4), (5, 4)], [0, 2])
    s2, _, events = step(cfg, s, act(CLEAN, STAY), RNG(0))
    assert s2.pos[0].tolist() == [[6, 4], [5, 4]] and s2.orient[0].tolist() == [0, 2]
    assert events["tagged"].sum() == 0 and events["removed"].sum() == 0


OPEN = (
    "@@@@@@@@@",
    "@P     P@",
    "@       @",
    "@   @   @",
    "@       @",
    "@P     P@",
    "@@@@@@@@@",
)


def test_movement_equals_commons_for_the_eight_commons_actions():
    cleanup_cfg = CleanupConfig(num_agents=1, map=OPEN)
    commons_cfg = CommonsConfig(num_agents=1, map=OPEN)
    a = reset(cleanup_cfg, 16, RNG(0))
    c = commons_rules.reset(commons_cfg, 16, RNG(0))
    assert np.array_equal(a.pos, c.pos) and np.array_equal(a.orient, c.orient)
    act_rng = RNG(1)
    for _ in range(60):
        actions = act_rng.integers(0, 7, size=(16, 1))  # moves, turns, stay
        a, _, _ = step(cleanup_cfg, a, actions, RNG(2))
        c, _, _ = commons_rules.step(commons_cfg, c, actions, RNG(2))
        assert np.array_equal(a.pos, c.pos) and np.array_equal(a.orient, c.orient)


def test_eating_an_apple_rewards_one_and_empties_the_cell():
    cfg = CleanupConfig(num_agents=2, map=DIRTY, apple_respawn_probability=0.0)
    apples = np.zeros(parse(DIRTY).shape, dtype=bool)
    apples[3, 2] = True
    s = make_state(cfg, [(4, 2), (4, 8)], [0, 0], apples=apples)
    s2, rewards, events = step(cfg, s, act(FORWARD, FORWARD), RNG(0))
    assert rewards.tolist() == [[1.0, 0.0]] and events["apples"].tolist() == [[1, 0]]
    assert not s2.apples[0, 3, 2] and s2.pos[0, 0].tolist() == [3, 2]


def test_tagged_agent_sits_out_tag_timeout_steps_with_the_configured_costs():
    T = 4
    cfg = CleanupConfig(num_agents=2, map=OPEN, tag_timeout=T, beam_cost=1.0, tag_penalty=50.0)
    s = make_state(cfg, [(4, 2), (2, 2)], [0, 0])
    rng = RNG(0)
    s, rewards, events = step(cfg, s, act(FIRE, STAY), rng)
    assert rewards.tolist() == [[-1.0, -50.0]] and events["tagged"].tolist() == [[0, 1]]
    assert events["beams"].tolist() == [[1, 0]] and s.beams[0, 2, 2]
    removed, obs_zero = [events["removed"][0, 1]], [not observe(cfg, s)[0, 1].any()]
    for _ in range(T):
        s, _, events = step(cfg, s, act(STAY, CLEAN), rng)  # its actions must be ignored
        removed.append(events["removed"][0, 1])
        obs_zero.append(not observe(cfg, s)[0, 1].any())
        assert events["clean_beams"][0, 1] == 0 or removed[-1] == 0
    assert removed == [1] * T + [0] and obs_zero == [True] * T + [False]
    assert s.pos[0, 1].tolist() in parse(OPEN).spawns.tolist() and s.removed_for[0, 1] == 0


def test_tag_timeout_zero_fines_without_removing():
    cfg = CleanupConfig(num_agents=2, map=OPEN, tag_timeout=0, tag_penalty=50.0)
    s = make_state(cfg, [(4, 2), (2, 2)], [0, 0])
    s2, rewards, events = step(cfg, s, act(FIRE, STAY), RNG(0))
    assert events["tagged"].tolist() == [[0, 1]] and events["removed"].sum() == 0
    assert rewards.tolist() == [[0.0, -50.0]] and s2.active.all()


@pytest.mark.parametrize("orient", range(4))
def test_observation_rotates_with_the_agent_and_shows_the_water(orient):
    cfg = CleanupConfig(num_agents=1, map=CLEAN_MAP, view_radius=2)
    waste = np.zeros(parse(CLEAN_MAP).shape, dtype=bool)
    centre = np.array([4, 4])
    waste[tuple(centre + DIRS[orient])] = True  # one cell ahead
    s = make_state(cfg, [tuple(centre)], [orient], waste=waste)
    obs = observe(cfg, s)  # (1, 1, 5, 5, 3)
    r = cfg.view_radius
    assert obs.shape == (1, 1, 5, 5, 3) and obs.dtype == np.uint8
    assert obs[0, 0, r - 1, r].tolist() == list(WASTE_RGB)
    assert obs[0, 0, r, r].tolist() == list(SELF_RGB)
    lay = parse(CLEAN_MAP)
    H, W = lay.shape
    for i in range(5):  # every view cell shows its map cell: (r - i) ahead, (j - r) right
        for j in range(5):
            row, col = centre + (r - i) * DIRS[orient] + (j - r) * DIRS[(orient + 1) % 4]
            if (i, j) == (r, r):
                continue
            if not (0 <= row < H and 0 <= col < W) or lay.walls[row, col]:
                colour = WALL_RGB
            elif waste[row, col]:
                colour = WASTE_RGB
            else:
                colour = RIVER_RGB if lay.river[row, col] else EMPTY_RGB
            assert obs[0, 0, i, j].tolist() == list(colour)
    cleaned_view = observe(cfg, step(cfg, s, act(CLEAN), RNG(0))[0])
    assert (cleaned_view[0, 0] == CLEAN_BEAM_RGB).all(axis=2).any()


@pytest.mark.parametrize(
    "bad",
    [
        {"num_agents": 0},
        {"num_agents": 11},
        {"view_radius": 0},
        {"max_steps": 0},
        {"apple_respawn_probability": 1.5},
        {"waste_spawn_probability": -0.1},
        {"threshold_depletion": 2.0},
        {"threshold_restoration": 0.5},
        {"beam_width": 2},
        {"clean_beam_width": 0},
        {"clean_beam_length": 0},
        {"clean_through_waste": "yes"},
        {"tag_timeout": -1},
        {"tag_timeout": 100_001},
        {"clean_beam_length": 65},
        {"apple_respawn_probability": float("nan")},
        {"beam_cost": float("inf")},
        {"tag_penalty": -1.0},
        {"map": ("@@@", "@P@", "@@")},
        {"map": ("@@@", "@X@", "@@@")},
        {"map": ("@@@", "@P ", "@@@")},
    ],
)
def test_invalid_values_raise_one_line_value_error(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name) as err:
        envs.make("cleanup", **bad)
    assert "\n" not in str(err.value) and str(err.value).startswith("cleanup: ")


def test_spaces_add_the_cleaning_action_to_commons_eight():
    env = envs.make("cleanup", view_radius=2)
    assert env.action_space.n == len(ACTIONS) == 9 and ACTIONS[CLEAN] == "clean"
    assert env.observation_space.shape == (5, 5, 3)


def test_render_and_save_gif(tmp_path):
    env = envs.make("cleanup", batch_size=2, seed=0)
    frames = [env.render(1)]
    for a in (CLEAN, FIRE):
        env.step(np.full((2, 5), a))
        frames.append(env.render(1))
    assert not any(np.array_equal(a, b) for a, b in zip(frames, frames[1:], strict=False))
    H, W = parse(env.cfg.map).shape
    assert frames[0].shape == (H * 8, W * 8, 3) and frames[0].dtype == np.uint8
    for frame, colour in ((frames[0], WASTE_RGB), (frames[0], RIVER_RGB)):
        assert (frame == colour).all(axis=2).any()
    assert (frames[1] == CLEAN_BEAM_RGB).all(axis=2).any()
    assert (frames[2] == (255, 255, 0)).all(axis=2).any()
    path = save_gif(frames, tmp_path / "episode.gif", fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == (W * 8, H * 8)
    assert render(env.cfg, env.state, 0, scale=4).shape == (H * 4, W * 4, 3)


# Cheap talk (the mechanics are Commons'; `tests/envs/test_commons_rules.py` tests them fully).


def test_without_talk_the_world_is_the_one_before_talk_existed():
    # recorded with the code before the channel was added (git 'HEAD' of issue 16)
    before = "fb2189fb83f87f75"
    assert rollout_digest("cleanup") == rollout_digest("cleanup", talk_vocab=0) == before
    env = envs.make("cleanup")
    assert env.observation_space.shape == (15, 15, 3) and env.action_space.n == 9
    assert "token" not in env.event_names and env.state.said is None


def test_talk_multiplies_the_nine_actions_and_adds_a_channel_per_token():
    env = envs.make("cleanup", view_radius=2, talk_vocab=3)
    assert env.action_space.n == 27 and env.observation_space.shape == (5, 5, 6)
    assert env.event_names[-1] == "token"


def test_a_cleaner_can_say_a_token_while_it_cleans_and_talk_changes_nothing_else():
    waste = np.zeros(parse(RIVER).shape, dtype=bool)
    waste[1, 1:5] = True
    plain_cfg = CleanupConfig(num_agents=2, map=RIVER, view_radius=2, waste_spawn_probability=0)
    cfg = CleanupConfig(**{**plain_cfg.__dict__, "talk_vocab": 3})
    # agent 0 at (2, 4) facing west cleans the river row; agent 1 beside it at (3, 4)
    states = [make_state(c, [(2, 4), (3, 4)], [3, 3], waste=waste) for c in (plain_cfg, cfg)]
    n = len(ACTIONS)
    plain, _, plain_events = step(plain_cfg, states[0], act(CLEAN, STAY), RNG(0))
    talk, _, events = step(cfg, states[1], act(CLEAN + n * 2, STAY + n * 1), RNG(0))
    assert events["cleaned"][0, 0] > 0 and events["token"].tolist() == [[3, 2]]
    assert all(np.array_equal(events[k], v) for k, v in plain_events.items())
    assert np.array_equal(talk.waste, plain.waste)
    obs = observe(cfg, talk)  # (1, 2, 5, 5, 6)
    assert np.array_equal(obs[..., :3], observe(plain_cfg, plain))
    # agent 1 faces west: agent 0, one cell north of it, is on its right
    assert obs[0, 1, 2, 3, 3:].tolist() == [0, 0, 255] and (obs[0, 1, ..., 3:] > 0).sum() == 1
    assert obs[0, 0, 2, 1, 3:].tolist() == [0, 255, 0] and (obs[0, 0, ..., 3:] > 0).sum() == 1
