"""Speaker-listener equals mpe2's simple_speaker_listener_v4 step for step; the message in the
joint action and the observation; channel modes; rendering; errors (`test_conformance.py`
checks what every world shares)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import envs
from envs.messages import SILENT
from envs.speaker_listener import SpeakerListenerConfig
from envs.speaker_listener.rules import make_state, observe, reset, step

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # mpe2's import warns about pettingzoo's old API
    from mpe2 import simple_speaker_listener_v4 as mpe2_speaker_listener


def mpe2_env(seed: int, moving: bool):
    """mpe2's parallel env after a seeded reset; `moving` gives the listener a random initial
    velocity, so that damping of a nonzero start is exercised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mpe2_speaker_listener.parallel_env(max_cycles=25)
        obs, _ = ref.reset(seed=seed)
    world = ref.unwrapped.world
    if moving:
        world.agents[1].state.p_vel = np.random.default_rng(100 + seed).uniform(-1, 1, 2)
        obs = {a: ref.unwrapped.observe(a) for a in ref.agents}
    return ref, obs


def mpe2_state(ref):
    world = ref.unwrapped.world
    return make_state(
        [a.state.p_pos for a in world.agents],
        [lm.state.p_pos for lm in world.landmarks],
        goal=world.landmarks.index(world.agents[0].goal_b),
        vel=[a.state.p_vel for a in world.agents],
    )


def as_shared(ref_obs: dict) -> np.ndarray:
    """mpe2's two observations in the shared layout (2, 13): role bits, zero padding."""
    out = np.zeros((2, 13), dtype=np.float32)
    out[0, 0] = out[1, 1] = 1
    out[0, 2:5] = ref_obs["speaker_0"]
    out[1, 2:] = ref_obs["listener_0"]
    return out


@pytest.mark.parametrize(("seed", "moving"), [(0, False), (1, True), (2, False), (3, True)])
def test_episodes_equal_mpe2(seed, moving):
    env = envs.make("speaker_listener", seed=seed)
    rng = np.random.default_rng(seed)
    for episode in range(2):  # a second episode from mpe2's next seeded reset
        ref, ref_obs = mpe2_env(10 * seed + episode, moving)
        env.state = mpe2_state(ref)
        np.testing.assert_array_equal(observe(env.cfg, env.state)[0], as_shared(ref_obs))
        goal = env.state.goal[0]
        for t in range(25):
            token, move = rng.integers(0, 3), rng.integers(0, 5)
            # the speaker's move part and the listener's token part are ignored
            act = np.array([[5 * token + rng.integers(0, 5), move + 5 * rng.integers(0, 3)]])
            ref_obs, ref_rew, ref_term, ref_trunc, _ = ref.step(
                {"speaker_0": token, "listener_0": move}
            )
            res = env.step(act)
            np.testing.assert_allclose(res.obs[0], as_shared(ref_obs), rtol=0, atol=1e-6)
            np.testing.assert_allclose(
                res.rewards[0], [ref_rew["speaker_0"], ref_rew["listener_0"]], rtol=1e-6
            )
            assert [ref_term[a] for a in ("speaker_0", "listener_0")] == [False, False]
            assert not res.terminated[0]
            assert ref_trunc["speaker_0"] == ref_trunc["listener_0"] == bool(res.truncated[0])
            assert bool(res.truncated[0]) == (t == 24)
            assert res.events["token"][0].tolist() == [token + 1, 0]
            assert res.events["goal"][0].tolist() == [goal + 1, 0]
        assert not ref.agents


def test_listener_hears_the_token_after_the_step_it_is_said():
    cfg = SpeakerListenerConfig()
    s = make_state([[0.5, 0.5], [0.0, 0.0]], [[0.2, 0.0], [-0.5, 0.0], [0.0, 0.9]], goal=2)
    obs = observe(cfg, s)[0]
    assert obs[0].tolist()[:5] == [1, 0] + np.float32([0.15, 0.15, 0.65]).tolist()
    assert not obs[0, 5:].any() and not obs[1, 10:].any()  # nothing said yet
    rng = np.random.default_rng(0)
    for token in (2, 0, 1):
        s, _, events = step(cfg, s, np.array([[5 * token + 3, 0]]), rng)
        obs = observe(cfg, s)[0]
        assert obs[1, 10:].tolist() == np.eye(3)[token].tolist()
        assert events["token"].tolist() == [[token + 1, 0]]
    assert s.pos[0, 0].tolist() == [0.5, 0.5] and not s.vel[0, 0].any()  # the speaker stays


def test_reward_is_minus_squared_distance_and_reached_when_touching():
    cfg = SpeakerListenerConfig()
    far = make_state([[0.9, 0.9], [0.0, 0.0]], [[0.3, 0.4], [0.0, 0.1], [-1, -1]], goal=0)
    _, rewards, events = step(cfg, far, np.array([[0, 0]]), np.random.default_rng(0))
    np.testing.assert_allclose(rewards, [[-0.25, -0.25]], rtol=1e-6)
    assert events["reached"].tolist() == [[0, 0]] and events["goal"].tolist() == [[1, 0]]
    near = make_state([[0.9, 0.9], [0.0, 0.0]], [[0.3, 0.4], [0.0, 0.1], [-1, -1]], goal=1)
    _, rewards, events = step(cfg, near, np.array([[0, 0]]), np.random.default_rng(0))
    np.testing.assert_allclose(rewards, [[-0.01, -0.01]], rtol=1e-6)
    assert events["reached"].tolist() == [[0, 1]]


def test_listener_moves_and_damping_slows():
    cfg = SpeakerListenerConfig()
    s = make_state([[0.0, 0.0], [0.0, 0.0]], [[0.5, 0.0]] * 3, goal=0, vel=[[0, 0], [1, 0]])
    for move, direction in [(1, (-1, 0)), (2, (1, 0)), (3, (0, -1)), (4, (0, 1))]:
        s2, _, _ = step(cfg, s, np.array([[move, move + 10]]), np.random.default_rng(0))
        np.testing.assert_allclose(s2.pos[0, 1], [0.1, 0.0])
        np.testing.assert_allclose(s2.vel[0, 1], [0.75, 0] + 0.5 * np.array(direction))
        assert not s2.pos[0, 0].any() and not s2.vel[0, 0].any()


def test_cut_channel_is_silent_and_scrambled_is_uniform():
    s = reset(SpeakerListenerConfig(), 3000, np.random.default_rng(0))
    act = np.zeros((3000, 2), dtype=np.int64)  # the speaker always says 0
    cut, _, events = step(SpeakerListenerConfig(channel="cut"), s, act, np.random.default_rng(1))
    assert (cut.heard == SILENT).all() and (cut.said == 0).all()
    assert not observe(SpeakerListenerConfig(), cut)[:, 1, 10:].any()
    assert (events["token"][:, 0] == 1).all()  # events record what was said
    scrambled, _, _ = step(
        SpeakerListenerConfig(channel="scrambled"), s, act, np.random.default_rng(1)
    )
    counts = np.bincount(scrambled.heard, minlength=3)
    p, n = 1 / 3, len(scrambled.heard)
    assert (np.abs(counts / n - p) < 4 * np.sqrt(p * (1 - p) / n)).all()
    obs = observe(SpeakerListenerConfig(), scrambled)[:, 1, 10:]
    assert (obs.sum(axis=1) == 1).all() and (obs.argmax(axis=1) == scrambled.heard).all()


def test_reset_is_uniform_and_batched_step_equals_per_copy_step():
    cfg = SpeakerListenerConfig()
    s = reset(cfg, 3000, np.random.default_rng(0))
    xy = np.concatenate([s.pos, s.landmarks], axis=1).ravel()
    assert xy.min() >= -1 and xy.max() <= 1 and abs(xy.mean()) < 4 * np.sqrt(1 / 3 / xy.size)
    counts = np.bincount(s.goal, minlength=3)
    assert (np.abs(counts / 3000 - 1 / 3) < 4 * np.sqrt(2 / 9 / 3000)).all()
    assert not s.vel.any() and (s.said == SILENT).all() and (s.heard == SILENT).all()
    act = np.random.default_rng(1).integers(0, 15, (4, 2))
    whole = step(cfg, make_state(s.pos[:4], s.landmarks[:4], s.goal[:4]), act, None)
    for b in range(4):
        one = step(cfg, make_state(s.pos[b], s.landmarks[b], s.goal[b]), act[b : b + 1], None)
        np.testing.assert_array_equal(observe(cfg, one[0])[0], observe(cfg, whole[0])[b])
        np.testing.assert_array_equal(one[1][0], whole[1][b])


def test_spaces_and_events():
    env = envs.make("speaker_listener", max_cycles=7)
    assert env.observation_space.shape == (13,) and env.observation_space.dtype == np.float32
    assert env.action_space.n == 15 and env.max_steps == 7 and env.num_agents == 2
    assert env.event_names == ("token", "goal", "reached")


def test_render_frame_shows_agents_landmarks_and_the_heard_token():
    env = envs.make("speaker_listener", seed=0)
    env.state = make_state(
        [[-0.5, -0.5], [0.0, 0.0]], [[0.8, -0.8], [0.5, 0.5], [-0.8, 0.8]], goal=0, said=1
    )
    frame = env.render()
    assert frame.shape == (256, 256, 3) and frame.dtype == np.uint8
    assert (frame[128, 128] == [255, 153, 153]).all()  # the listener, red goal lightened
    assert (frame[192, 64] == [64, 64, 64]).all()  # the speaker at (-0.5, -0.5)
    assert (frame[230, 230] == [165, 38, 38]).all()  # the red landmark at (0.8, -0.8)
    assert (frame[10, 32] == 0).all() and (frame[10, 10] == 255).all()  # token 1 of 3
    assert (frame[200, 5] == 255).all()


@pytest.mark.parametrize(
    ("option", "value"),
    [("max_cycles", 0), ("max_cycles", 100_001), ("max_cycles", 2.5), ("channel", "noisy")],
)
def test_invalid_values_raise_one_line_value_error(option, value):
    with pytest.raises(ValueError, match=option) as err:
        envs.make("speaker_listener", **{option: value})
    assert "\n" not in str(err.value)


def test_bad_states_are_clear_errors():
    with pytest.raises(ValueError, match="pos"):
        make_state(np.zeros((3, 2)), np.zeros((3, 2)), goal=0)
    with pytest.raises(ValueError, match="landmarks"):
        make_state(np.zeros((2, 2)), np.zeros((2, 2)), goal=0)
