"""Spread equals mpe2's simple_spread_v3 step for step; hand-made cases; rendering; errors
(`test_conformance.py` checks what every world shares)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import envs
from envs.spread import SpreadConfig
from envs.spread.rules import make_state, observe, reset, step

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # mpe2's import warns about pettingzoo's old API
    from mpe2 import simple_spread_v3 as mpe2_spread


def mpe2_env(N: int, continuous: bool, seed: int, crowded: bool, max_speed: float | None):
    """mpe2's parallel env after a seeded reset; `crowded` packs moving agents near the origin
    and puts landmark 0 next to agent 0, so that contact forces, collision penalties and
    coverage are exercised from the first step."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mpe2_spread.parallel_env(
            N=N, continuous_actions=continuous, max_cycles=25, benchmark_data=True
        )
        obs, _ = ref.reset(seed=seed)
    world = ref.unwrapped.world
    rng = np.random.default_rng(100 + seed)
    for agent in world.agents:
        agent.max_speed = max_speed
        if crowded:
            agent.state.p_pos = rng.uniform(-0.2, 0.2, 2)
            agent.state.p_vel = rng.uniform(-0.5, 0.5, 2)
    if crowded:
        world.landmarks[0].state.p_pos = world.agents[0].state.p_pos + 0.02
        obs = {a: ref.unwrapped.observe(a) for a in ref.agents}
    return ref, obs


def mpe2_state(ref):
    world = ref.unwrapped.world
    return make_state(
        [a.state.p_pos for a in world.agents],
        [lm.state.p_pos for lm in world.landmarks],
        [a.state.p_vel for a in world.agents],
    )


CASES = [  # (N, continuous, seed, crowded, max_speed)
    (3, False, 0, False, None),
    (3, False, 1, True, None),
    (3, False, 8, False, None),
    (3, True, 9, False, None),
    (3, True, 2, False, None),
    (3, True, 3, True, None),
    (5, False, 4, True, None),
    (5, True, 5, True, None),
    (2, False, 6, True, 0.4),
    (4, True, 7, True, 0.3),
]


@pytest.mark.parametrize(("N", "continuous", "seed", "crowded", "max_speed"), CASES)
def test_whole_episode_equals_mpe2(N, continuous, seed, crowded, max_speed):
    ref, ref_obs = mpe2_env(N, continuous, seed, crowded, max_speed)
    names = list(ref.agents)
    env = envs.make("spread", num_agents=N, continuous_actions=continuous, max_speed=max_speed)
    obs = env.set_state(mpe2_state(ref))
    np.testing.assert_array_equal(obs[0], np.stack([ref_obs[a] for a in names]))
    rng = np.random.default_rng(seed)
    collided = covered = 0
    for t in range(25):
        if continuous:  # some values outside [0, 1]: both sides clip them
            act = rng.uniform(-0.2, 1.2, (1, N, 5)).astype(np.float32)
        else:
            act = rng.integers(0, 5, (1, N))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mpe2's clip wrapper warns on out-of-bound actions
            ref_obs, ref_rew, ref_term, ref_trunc, infos = ref.step(
                {a: act[0, k] for k, a in enumerate(names)}
            )
        res = env.step(act)
        np.testing.assert_allclose(
            res.obs[0], np.stack([ref_obs[a] for a in names]), rtol=0, atol=1e-6
        )
        np.testing.assert_allclose(
            res.rewards[0], [ref_rew[a] for a in names], rtol=1e-6, atol=1e-6
        )
        assert [ref_term[a] for a in names] == [bool(res.terminated[0])] * N
        assert [ref_trunc[a] for a in names] == [bool(res.truncated[0])] * N == [t == 24] * N
        bench = [infos[a]["benchmark_data"] for a in names]  # (rew, collisions, dists, occupied)
        assert res.events["collisions"][0].tolist() == [b[1] for b in bench]
        assert res.events["covered"][0].sum() == bench[0][3]
        collided += res.events["collisions"].sum()
        covered += res.events["covered"].sum()
    assert not ref.agents
    assert (collided > 0 and covered > 0) or not crowded  # crowded starts test both


def test_two_overlapping_agents_push_apart_symmetrically():
    cfg = SpreadConfig(num_agents=2, local_ratio=1.0)
    s = make_state([[-0.05, 0.0], [0.05, 0.0]], [[1.0, 1.0], [-1.0, -1.0]])
    s2, _, rewards, events = step(cfg, s, np.zeros((1, 2), dtype=int))
    assert s2.pos.tolist() == s.pos.tolist()  # positions move with the old velocity (0)
    # penetration 0.2 >> margin: force ~ 100 * 0.2 = 20 along x, dv = 20 * dt = 2
    np.testing.assert_allclose(s2.vel[0], [[-2.0, 0.0], [2.0, 0.0]], atol=1e-9)
    assert rewards.tolist() == [[-1.0, -1.0]] and events["collisions"].tolist() == [[1, 1]]
    s3, _, rewards, events = step(cfg, s2, np.zeros((1, 2), dtype=int))
    np.testing.assert_allclose(s3.pos[0, :, 0], [-0.25, 0.25])  # 0.3 apart: just touching
    assert rewards.tolist() == [[0.0, 0.0]] and events["collisions"].tolist() == [[0, 0]]


def test_actions_accelerate_and_damping_slows():
    cfg = SpreadConfig(num_agents=1)
    s = make_state([[0.0, 0.0]], [[0.5, 0.0]])
    for action, direction in [(1, (-1, 0)), (2, (1, 0)), (3, (0, -1)), (4, (0, 1))]:
        s2, _, _, _ = step(cfg, s, np.array([[action]]))
        np.testing.assert_allclose(s2.vel[0, 0], 0.5 * np.array(direction))  # 5 * dt
    moving = make_state([[0.0, 0.0]], [[0.5, 0.0]], vel=[[1.0, 0.0]])
    s2, _, _, _ = step(cfg, moving, np.array([[0]]))
    np.testing.assert_allclose(s2.pos[0, 0], [0.1, 0.0])
    np.testing.assert_allclose(s2.vel[0, 0], [0.75, 0.0])
    cont = SpreadConfig(num_agents=1, continuous_actions=True)
    push = np.array([[[0.0, 0.2, 0.9, 0.0, 2.0]]], dtype=np.float32)  # 2.0 is clipped to 1
    s3, _, _, _ = step(cont, s, push)
    np.testing.assert_allclose(s3.vel[0, 0], [0.35, 0.5], rtol=1e-6)


def test_reward_covered_event_and_observation_layout():
    cfg = SpreadConfig(num_agents=2, local_ratio=0.25)
    s = make_state([[0.0, 0.0], [-0.95, 0.0]], [[0.05, 0.0], [0.5, 0.5]], vel=[[0, 0], [0, 0.1]])
    obs = observe(cfg, s)[0]
    np.testing.assert_allclose(obs[0], [0, 0, 0, 0, 0.05, 0, 0.5, 0.5, -0.95, 0, 0, 0], atol=1e-7)
    np.testing.assert_allclose(
        obs[1], [0, 0.1, -0.95, 0, 1, 0, 1.45, 0.5, 0.95, 0, 0, 0], atol=1e-7
    )
    _, _, rewards, events = step(cfg, s, np.zeros((1, 2), dtype=int))
    near = 0.05 + np.hypot(0.5, 0.5)  # agent 0 is the nearer to both landmarks
    np.testing.assert_allclose(rewards[0], [-0.75 * near] * 2, rtol=1e-6)
    assert events["covered"].tolist() == [[1, 0]]  # landmark 0 within 0.1, landmark 1 not


def test_batched_step_equals_per_copy_step_and_reset_is_uniform():
    cfg = SpreadConfig(num_agents=4, continuous_actions=True)
    s = reset(cfg, 2000, np.random.default_rng(0))
    assert s.pos.shape == s.landmarks.shape == (2000, 4, 2) and not s.vel.any()
    xy = np.concatenate([s.pos, s.landmarks]).ravel()
    assert xy.min() >= -1 and xy.max() <= 1 and abs(xy.mean()) < 4 * np.sqrt(1 / 3 / xy.size)
    act = np.random.default_rng(1).uniform(0, 1, (3, 4, 5))
    small = make_state(s.pos[:3], s.landmarks[:3], s.vel[:3])
    whole = step(cfg, small, act)
    for b in range(3):
        one = step(cfg, make_state(s.pos[b], s.landmarks[b]), act[b : b + 1])
        np.testing.assert_array_equal(one[1][0], whole[1][b])
        np.testing.assert_array_equal(one[2][0], whole[2][b])


@pytest.mark.parametrize("continuous", [False, True])
def test_spaces_and_events_are_mpe2s(continuous):
    env = envs.make("spread", num_agents=4, max_cycles=7, continuous_actions=continuous)
    assert env.observation_space.shape == (24,) and env.observation_space.dtype == np.float32
    assert env.action_space.shape == ((5,) if continuous else ())
    assert env.max_steps == env.cfg.max_cycles == 7
    assert env.event_names == ("collisions", "covered")


def test_render_frame_shows_agents_and_landmarks():
    env = envs.make("spread", seed=0)
    env.set_state(make_state([[0.0, 0.0], [0.5, 0.5], [-0.5, 0.5]], [[0.8, -0.8]] * 3))
    frame = env.render()
    assert frame.shape == (256, 256, 3) and frame.dtype == np.uint8
    assert (frame[128, 128] == [89, 89, 217]).all()  # agent 0 at the centre
    assert (frame[230, 230] == [64, 64, 64]).all()  # landmark at (0.8, -0.8)
    assert (frame[5, 5] == 255).all()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("num_agents", 0),
        ("num_agents", 2.5),
        ("local_ratio", 1.5),
        ("local_ratio", "a"),
        ("max_cycles", 0),
        ("continuous_actions", 1),
        ("max_speed", -1.0),
        ("max_speed", float("nan")),
        ("max_speed", float("inf")),
        ("num_agents", 65),
        ("max_cycles", 100_001),
    ],
)
def test_invalid_values_raise_one_line_value_error(option, value):
    with pytest.raises(ValueError, match=option) as err:
        envs.make("spread", **{option: value})
    assert "\n" not in str(err.value)


def test_bad_states_are_clear_errors():
    env = envs.make("spread", batch_size=2)
    with pytest.raises(ValueError, match="pos"):
        make_state(np.zeros((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="expected"):
        env.set_state(make_state(np.zeros((3, 2)), np.zeros((3, 2))))
