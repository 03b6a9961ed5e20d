"""Reference equals mpe2's simple_reference_v3 step for step; the messages in the joint action
and the observations; channel modes; rendering; errors (`test_conformance.py` checks what
every world shares)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import envs
from envs.messages import SILENT
from envs.reference import ReferenceConfig
from envs.reference.rules import make_state, observe, reset, step

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # mpe2's import warns about pettingzoo's old API
    from mpe2 import simple_reference_v3 as mpe2_reference

NAMES = ("agent_0", "agent_1")


def mpe2_env(seed: int, local_ratio: float, moving: bool):
    """mpe2's parallel env after a seeded reset; `moving` gives the agents random initial
    velocities."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mpe2_reference.parallel_env(local_ratio=local_ratio, max_cycles=25)
        obs, _ = ref.reset(seed=seed)
    world = ref.unwrapped.world
    if moving:
        rng = np.random.default_rng(100 + seed)
        for agent in world.agents:
            agent.state.p_vel = rng.uniform(-1, 1, 2)
        obs = {a: ref.unwrapped.observe(a) for a in ref.agents}
    return ref, obs


def mpe2_state(ref):
    world = ref.unwrapped.world
    return make_state(
        [a.state.p_pos for a in world.agents],
        [lm.state.p_pos for lm in world.landmarks],
        goal=[world.landmarks.index(a.goal_b) for a in world.agents],
        vel=[a.state.p_vel for a in world.agents],
    )


@pytest.mark.parametrize(
    ("seed", "local_ratio", "moving"),
    [(0, 0.5, False), (1, 0.5, True), (2, 0.0, False), (3, 1.0, True), (4, 0.3, False)],
)
def test_episodes_equal_mpe2(seed, local_ratio, moving):
    env = envs.make("reference", seed=seed, local_ratio=local_ratio)
    rng = np.random.default_rng(seed)
    for episode in range(2):  # a second episode from mpe2's next seeded reset
        ref, ref_obs = mpe2_env(10 * seed + episode, local_ratio, moving)
        env.state = mpe2_state(ref)
        obs = observe(env.cfg, env.state)[0]
        np.testing.assert_array_equal(obs, np.stack([ref_obs[a] for a in NAMES]))
        goal = env.state.goal[0]
        for t in range(25):
            act = rng.integers(0, 50, (1, 2))
            ref_obs, ref_rew, ref_term, ref_trunc, _ = ref.step(
                {a: act[0, k] for k, a in enumerate(NAMES)}
            )
            res = env.step(act)
            np.testing.assert_allclose(
                res.obs[0], np.stack([ref_obs[a] for a in NAMES]), rtol=0, atol=1e-6
            )
            np.testing.assert_allclose(res.rewards[0], [ref_rew[a] for a in NAMES], rtol=1e-6)
            assert [ref_term[a] for a in NAMES] == [False, False] and not res.terminated[0]
            assert [ref_trunc[a] for a in NAMES] == [bool(res.truncated[0])] * 2 == [t == 24] * 2
            assert res.events["token"][0].tolist() == (act[0] // 5 + 1).tolist()
            assert res.events["goal"][0].tolist() == (goal + 1).tolist()
        assert not ref.agents


def test_each_agent_hears_the_others_token_and_sees_its_goal_colour():
    cfg = ReferenceConfig()
    s = make_state([[0.5, 0.5], [0.0, 0.0]], [[0.2, 0.0], [-0.5, 0.0], [0.0, 0.9]], goal=[2, 0])
    obs = observe(cfg, s)[0]
    np.testing.assert_array_equal(
        obs[:, 8:11], np.float32([[0.25, 0.25, 0.75], [0.75, 0.25, 0.25]])
    )
    assert not obs[:, 11:].any()  # nothing said yet
    np.testing.assert_allclose(obs[0, 2:8], [-0.3, -0.5, -1.0, -0.5, -0.5, 0.4], atol=1e-7)
    s, _, events = step(cfg, s, np.array([[5 * 7 + 1, 5 * 3]]), np.random.default_rng(0))
    obs = observe(cfg, s)[0]
    assert obs[0, 11:].tolist() == np.eye(10)[3].tolist()  # agent 0 hears agent 1's 3
    assert obs[1, 11:].tolist() == np.eye(10)[7].tolist()
    assert events["token"].tolist() == [[8, 4]] and events["goal"].tolist() == [[3, 1]]
    np.testing.assert_allclose(s.vel[0], [[-0.5, 0.0], [0.0, 0.0]])


def test_rewards_mix_own_and_shared_distance_and_reached():
    # agent 0 knows landmark 1, agent 1 must reach it (0.05 away); agent 1 knows landmark 0,
    # agent 0 must reach it (0.5 away)
    s = make_state([[0.0, 0.0], [1.0, 0.0]], [[0.3, 0.4], [1.0, 0.05], [-1, -1]], goal=[1, 0])
    for lr in (0.0, 0.25, 1.0):
        _, rewards, events = step(
            ReferenceConfig(local_ratio=lr), s, np.zeros((1, 2), dtype=int), None
        )
        shared = -(0.05 + 0.5) / 2
        np.testing.assert_allclose(rewards[0], shared * (1 - lr) - np.array([0.05, 0.5]) * lr)
        assert events["reached"].tolist() == [[0, 1]]


def test_cut_channel_is_silent_and_scrambled_is_uniform():
    s = reset(ReferenceConfig(), 3000, np.random.default_rng(0))
    act = np.full((3000, 2), 5 * 4, dtype=np.int64)  # both always say 4
    cut, _, events = step(ReferenceConfig(channel="cut"), s, act, np.random.default_rng(1))
    assert (cut.heard == SILENT).all() and (cut.said == 4).all()
    assert not observe(ReferenceConfig(), cut)[..., 11:].any()
    assert (events["token"] == 5).all()  # events record what was said
    scrambled, _, _ = step(ReferenceConfig(channel="scrambled"), s, act, np.random.default_rng(1))
    counts = np.bincount(scrambled.heard.ravel(), minlength=10)
    p, n = 0.1, scrambled.heard.size
    assert (np.abs(counts / n - p) < 4 * np.sqrt(p * (1 - p) / n)).all()
    obs = observe(ReferenceConfig(), scrambled)[..., 11:]
    assert (obs.sum(axis=-1) == 1).all() and (obs.argmax(axis=-1) == scrambled.heard[:, ::-1]).all()


def test_reset_is_uniform_and_batched_step_equals_per_copy_step():
    cfg = ReferenceConfig()
    s = reset(cfg, 3000, np.random.default_rng(0))
    xy = np.concatenate([s.pos, s.landmarks], axis=1).ravel()
    assert xy.min() >= -1 and xy.max() <= 1 and abs(xy.mean()) < 4 * np.sqrt(1 / 3 / xy.size)
    counts = np.bincount(s.goal.ravel(), minlength=3)
    assert (np.abs(counts / 6000 - 1 / 3) < 4 * np.sqrt(2 / 9 / 6000)).all()
    assert not s.vel.any() and (s.said == SILENT).all() and (s.heard == SILENT).all()
    act = np.random.default_rng(1).integers(0, 50, (4, 2))
    whole = step(cfg, make_state(s.pos[:4], s.landmarks[:4], s.goal[:4]), act, None)
    for b in range(4):
        one = step(cfg, make_state(s.pos[b], s.landmarks[b], s.goal[b]), act[b : b + 1], None)
        np.testing.assert_array_equal(observe(cfg, one[0])[0], observe(cfg, whole[0])[b])
        np.testing.assert_array_equal(one[1][0], whole[1][b])


def test_spaces_and_events():
    env = envs.make("reference", max_cycles=7)
    assert env.observation_space.shape == (21,) and env.observation_space.dtype == np.float32
    assert env.action_space.n == 50 and env.max_steps == 7 and env.num_agents == 2
    assert env.event_names == ("token", "goal", "reached")


def test_render_frame_shows_agents_landmarks_and_the_heard_tokens():
    env = envs.make("reference", seed=0)
    env.state = make_state(
        [[-0.5, -0.5], [0.0, 0.0]], [[0.8, -0.8], [0.5, 0.5], [-0.8, 0.8]], goal=[2, 0], said=[1, 9]
    )
    frame = env.render()
    assert frame.shape == (256, 256, 3) and frame.dtype == np.uint8
    assert (frame[128, 128] == [63, 63, 191]).all()  # agent 1 must reach blue landmark 2
    assert (frame[192, 64] == [191, 63, 63]).all()  # agent 0 must reach red landmark 0
    assert (frame[230, 230] == [191, 63, 63]).all()  # the red landmark at (0.8, -0.8)
    cell = 256 // 40
    assert (frame[cell // 2, 9 * cell + cell // 2] == 0).all()  # agent 0 hears 9
    assert (frame[cell + cell // 2, cell + cell // 2] == 0).all()  # agent 1 hears 1
    assert (frame[cell // 2, cell // 2] == 255).all() and (frame[200, 5] == 255).all()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_cycles", 0),
        ("max_cycles", 100_001),
        ("local_ratio", 1.5),
        ("local_ratio", "a"),
        ("channel", "noisy"),
    ],
)
def test_invalid_values_raise_one_line_value_error(option, value):
    with pytest.raises(ValueError, match=option) as err:
        envs.make("reference", **{option: value})
    assert "\n" not in str(err.value)


def test_bad_states_are_clear_errors():
    with pytest.raises(ValueError, match="pos"):
        make_state(np.zeros((3, 2)), np.zeros((3, 2)), goal=[0, 0])
    with pytest.raises(ValueError, match="landmarks"):
        make_state(np.zeros((2, 2)), np.zeros((2, 2)), goal=[0, 0])
