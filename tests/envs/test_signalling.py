"""Lewis signalling game: rules, observations, a perfect protocol, statistics, rendering
(`test_conformance.py` checks what every world shares)."""

from __future__ import annotations

import numpy as np
import pytest

import envs
from envs.render import save_gif
from envs.signalling import SignallingConfig
from envs.signalling.config import MAX_OBS_SIZE
from envs.signalling.render import RIGHT_RGB, TARGET_RGB, WRONG_RGB
from envs.signalling.rules import SignallingState, obs_size, obs_slices, observe, reset, step

RNG = np.random.default_rng


def hand_state(candidates, target) -> SignallingState:
    """One copy, one pair, with the given candidates (K, n_attributes) and target position."""
    candidates = np.array(candidates, dtype=np.int64)[None, None]  # (1, 1, K, n)
    L = 2
    return SignallingState(
        candidates=candidates,
        target=np.array([[target]]),
        message=np.full((1, 1, L), -1, dtype=np.int64),
        heard=np.full((1, 1, L), -1, dtype=np.int64),
        choice=np.full((1, 1), -1, dtype=np.int64),
        t=np.zeros(1, dtype=np.int32),
    )


def play(cfg: SignallingConfig, state: SignallingState, tokens, pick):
    """Speak `tokens`, then pick; return the final state and per-step rewards and events."""
    out = []
    for token in tokens:
        state, rewards, events = step(cfg, state, np.array([[token, 0]]))
        out.append((rewards, events))
    state, rewards, events = step(cfg, state, np.array([[0, pick]]))
    return state, out + [(rewards, events)]


def test_reward_only_on_the_last_step_and_only_for_the_target():
    cfg = SignallingConfig(success_reward=2.0, failure_reward=-0.5)
    s = hand_state([[0, 1], [2, 3], [1, 1], [3, 0]], target=2)
    end, steps = play(cfg, s, [1, 3], pick=2)
    assert [r.tolist() for r, _ in steps] == [[[0, 0]], [[0, 0]], [[2.0, 2.0]]]
    assert steps[-1][1]["success"].tolist() == [[1, 1]]
    assert end.message.tolist() == [[[1, 3]]] and end.choice.tolist() == [[2]]
    _, steps = play(cfg, s, [1, 3], pick=1)
    assert steps[-1][0].tolist() == [[-0.5, -0.5]] and steps[-1][1]["success"].sum() == 0


def test_events_record_message_choice_and_meaning():
    cfg = SignallingConfig()
    s = hand_state([[0, 1], [2, 3], [1, 1], [3, 0]], target=1)
    _, steps = play(cfg, s, [3, 0], pick=1)
    ev = {k: np.concatenate([e[k] for _, e in steps]) for k in steps[0][1]}  # (T, A)
    assert ev["token"].tolist() == [[4, 0], [1, 0], [0, 0]]
    assert ev["choice"].tolist() == [[0, 0], [0, 0], [0, 2]]
    assert ev["attr_0"].tolist() == [[0, 0], [0, 0], [3, 0]]  # target (2, 3), values + 1
    assert ev["attr_1"].tolist() == [[0, 0], [0, 0], [4, 0]]
    assert ev["success"].tolist() == [[0, 0], [0, 0], [1, 1]]
    assert all(v.dtype == np.int32 for v in ev.values())


def test_actions_wrap_modulo_vocabulary_and_candidates():
    cfg = SignallingConfig(vocab_size=3, num_candidates=5)  # Discrete(5)
    s = hand_state([[0, 0], [1, 0], [2, 0], [3, 0], [0, 1]], target=0)
    end, _ = play(cfg, s, [4, 3], pick=4)
    assert end.message.tolist() == [[[1, 0]]] and end.choice.tolist() == [[4]]
    cfg = SignallingConfig(vocab_size=6, num_candidates=4)  # Discrete(6): picks 4, 5 wrap
    s = hand_state([[0, 0], [1, 0], [2, 0], [3, 0]], target=1)
    _, steps = play(cfg, s, [5, 4], pick=5)
    assert steps[-1][1]["choice"].tolist() == [[0, 2]] and steps[-1][0][0, 0] == 1.0


@pytest.mark.parametrize("n_attributes, n_values, k", [(2, 4, 4), (1, 3, 3), (6, 5, 1000)])
def test_candidates_are_distinct_objects(n_attributes, n_values, k):
    # (6, 5, 1000): 15,625 objects, drawn by redrawing duplicates (about 32 per row)
    cfg = SignallingConfig(n_attributes=n_attributes, n_values=n_values, num_candidates=k)
    s = reset(cfg, 30, RNG(0))
    assert s.candidates.shape == (30, 1, k, n_attributes)
    assert s.candidates.min() >= 0 and s.candidates.max() < n_values
    index = (s.candidates * n_values ** np.arange(n_attributes)).sum(-1)  # (B, P, K)
    ordered = np.sort(index, axis=-1)
    assert (ordered[..., 1:] != ordered[..., :-1]).all()


def test_targets_and_candidates_are_uniform():
    cfg = SignallingConfig()  # 16 objects, K = 4
    B, N, K = 20_000, 16, 4
    s = reset(cfg, B, RNG(1))
    target_index = s.target_object[:, 0, 0] + 4 * s.target_object[:, 0, 1]  # (B,)
    p = 1 / N
    counts = np.bincount(target_index, minlength=N)
    assert (abs(counts / B - p) < 4 * np.sqrt(p * (1 - p) / B)).all()
    counts = np.bincount(s.target[:, 0], minlength=K)  # target position
    assert (abs(counts / B - 1 / K) < 4 * np.sqrt((1 / K) * (1 - 1 / K) / B)).all()
    index = s.candidates[..., 0] + 4 * s.candidates[..., 1]  # (B, 1, K)
    p = K / N  # every object is a candidate in K of N games
    counts = np.bincount(index.ravel(), minlength=N)
    assert (abs(counts / B - p) < 4 * np.sqrt(p * (1 - p) / B)).all()


def test_observations_speaker_sees_target_listener_sees_candidates_and_message():
    cfg = SignallingConfig()  # D = 2 + 3 + 8 + 32 + 8
    part = obs_slices(cfg)
    s = hand_state([[0, 1], [2, 3], [1, 1], [3, 0]], target=1)
    obs = observe(cfg, s)[0]  # (A, D)
    assert obs.shape == (2, 53) and obs.dtype == np.float32
    speaker, listener = obs
    assert speaker[part["role"]].tolist() == [1, 0] and listener[part["role"]].tolist() == [0, 1]
    assert speaker[part["phase"]].tolist() == listener[part["phase"]].tolist() == [1, 0, 0]
    assert speaker[part["target"]].tolist() == [0, 0, 1, 0, 0, 0, 0, 1]  # (2, 3)
    assert not speaker[part["candidates"]].any() and not listener[part["target"]].any()
    expected = np.eye(4)[[0, 1, 2, 3, 1, 1, 3, 0]].ravel()
    assert listener[part["candidates"]].tolist() == expected.tolist()
    assert not obs[:, part["message"]].any()
    s, _, _ = step(cfg, s, np.array([[2, 0]]))
    obs = observe(cfg, s)[0]
    for agent in obs:  # both see the token so far; the second position is still empty
        assert agent[part["message"]].tolist() == [0, 0, 1, 0, 0, 0, 0, 0]
        assert agent[part["phase"]].tolist() == [0, 1, 0]
    s, _, _ = step(cfg, s, np.array([[3, 0]]))
    assert observe(cfg, s)[0, 1, part["message"]].tolist() == [0, 0, 1, 0, 0, 0, 0, 1]
    s, _, _ = step(cfg, s, np.array([[0, 1]]))
    assert not observe(cfg, s)[0, :, part["phase"]].any()  # game over


def perfect_policy(cfg: SignallingConfig, obs: np.ndarray) -> np.ndarray:
    """A hand-made protocol read off the observations (N, D): the speaker sends the target's
    object index in base V, one digit per step; the listener decodes it and picks the match."""
    part, V, n_values = obs_slices(cfg), cfg.vocab_size, cfg.n_values
    radix = n_values ** np.arange(cfg.n_attributes)
    target = obs[:, part["target"]].reshape(len(obs), cfg.n_attributes, n_values).argmax(-1)
    t = obs[:, part["phase"]].argmax(-1)
    token = (target @ radix) // V**t % V
    digits = obs[:, part["message"]].reshape(len(obs), cfg.message_length, V).argmax(-1)
    heard = digits @ V ** np.arange(cfg.message_length)
    candidates = obs[:, part["candidates"]].reshape(len(obs), cfg.num_candidates, -1, n_values)
    pick = ((candidates.argmax(-1) @ radix) == heard[:, None]).argmax(-1)
    return np.where(obs[:, part["role"].start] == 1, token, pick)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"n_attributes": 3, "n_values": 3, "vocab_size": 6, "message_length": 2, "pairs": 3},
        dict(n_attributes=2, n_values=5, vocab_size=2, message_length=5, num_candidates=25),
    ],
)
def test_a_perfect_protocol_always_succeeds(settings):
    env = envs.make("signalling", batch_size=256, seed=0, **settings)
    cfg = env.cfg
    assert cfg.vocab_size**cfg.message_length >= cfg.n_objects
    obs = env.reset()
    for t in range(cfg.max_steps):
        res = env.step(perfect_policy(cfg, obs.reshape(-1, obs.shape[-1])).reshape(256, -1))
        obs = res.obs
        assert res.terminated.all() == (t == cfg.max_steps - 1) and not res.truncated.any()
    assert (res.rewards == 1.0).all() and (res.events["success"] == 1).all()


def test_a_listener_ignoring_the_message_wins_one_game_in_k():
    # V = 7 > K = 3: listener actions wrap mod K unevenly, yet the target's position is
    # uniform and independent of the pick, so success stays 1/K.
    B, K = 20_000, 3
    env = envs.make("signalling", batch_size=B, seed=2, vocab_size=7, num_candidates=K)
    env.reset()
    rng = RNG(3)
    for _ in range(env.max_steps):
        res = env.step(rng.integers(0, 7, size=(B, 2)))
    rate = res.events["success"][:, 1].mean()
    assert abs(rate - 1 / K) < 4 * np.sqrt((1 / K) * (1 - 1 / K) / B)


def test_env_spaces_roles_and_the_end_of_the_game():
    env = envs.make("signalling", batch_size=3, seed=0, pairs=2)
    assert env.reset().shape == (3, 4, 53) and env.observation_space.dtype == np.float32
    assert env.action_space.n == 4 and env.max_steps == 3 and env.num_agents == 4
    assert env.event_names == ("success", "token", "choice", "attr_0", "attr_1")
    for t in range(3):
        res = env.step(np.zeros((3, 4), dtype=int))
        assert res.terminated.all() == (t == 2) and not res.truncated.any()
    with pytest.raises(ValueError, match="step after the game ended; call reset"):
        env.step(np.zeros((3, 4), dtype=int))


@pytest.mark.parametrize(
    "bad",
    [
        {"n_attributes": 0},
        {"n_values": 1},
        {"message_length": 0},
        {"vocab_size": 1},
        {"num_candidates": 1},
        {"num_candidates": 17},
        {"pairs": 0},
        {"success_reward": "1"},
        {"n_values": 2.5},
        {"n_attributes": 70, "n_values": 2},
        {"n_values": 129},
        {"vocab_size": 1025},
        {"pairs": 33},
        {"num_candidates": 1025, "n_values": 128},
        {"success_reward": float("inf")},
        {"failure_reward": 1e300},
    ],
)
def test_invalid_values_raise_one_line_value_error(bad):
    with pytest.raises(ValueError, match=next(iter(bad))) as err:
        envs.make("signalling", **bad)
    assert "\n" not in str(err.value) and str(err.value).startswith("signalling:")


@pytest.mark.parametrize(
    "settings",
    [{}, {"n_attributes": 6, "n_values": 5, "num_candidates": 1000}, {"vocab_size": 1024}],
)
def test_config_obs_size_is_the_rules_observation_length(settings):
    cfg = SignallingConfig(**settings)
    assert cfg.obs_size == obs_size(cfg) == observe(cfg, reset(cfg, 1, RNG(0))).shape[-1]


def test_observations_over_the_size_limit_are_one_line_value_errors():
    # K + 1 = 1023 codes of 2 x 128 floats fit in 2**18 floats with the rest; 1024 do not
    assert SignallingConfig(n_values=128, num_candidates=1022).obs_size <= MAX_OBS_SIZE
    with pytest.raises(ValueError, match=r"^signalling: observations of 262,157 floats") as err:
        SignallingConfig(n_values=128, num_candidates=1023)
    assert "num_candidates" in str(err.value) and "\n" not in str(err.value)


def test_render_shows_message_target_and_choice(tmp_path):
    env = envs.make("signalling", batch_size=2, seed=0)
    env.reset()
    frames = [env.render(1)]
    target = env.state.target[1, 0]
    for action in ([0, 0], [1, 0], [0, (target + 1) % 4]):
        env.step(np.array([action, action]))
        frames.append(env.render(1))
    assert frames[0].shape == (84, 8 * 17, 3) and frames[0].dtype == np.uint8
    assert not any(np.array_equal(a, b) for a, b in zip(frames, frames[1:], strict=False))
    colours = {tuple(c) for c in frames[-1].reshape(-1, 3)}
    assert tuple(TARGET_RGB) in colours and tuple(WRONG_RGB) in colours
    assert tuple(RIGHT_RGB) not in colours
    assert envs.make("signalling", pairs=3).render().shape[0] == 3 * 84 + 2 * 2
    path = save_gif(frames, tmp_path / "game.gif", fps=2)
    assert path.exists()


def test_the_end_token_ends_the_message():
    cfg = SignallingConfig(message_length=3, vocab_size=4, end_token=True)
    s = reset(cfg, 1, RNG(0))
    for token in (2, 0, 3):  # the 3 after the end token is replaced by the end token
        s, _, events = step(cfg, s, np.array([[token, 0]]))
    assert s.message.tolist() == [[[2, 0, 0]]]
    assert events["token"][0, 0] == 1  # the event records what was said: EOS + 1
    listener = observe(cfg, s)[0, 1, obs_slices(cfg)["message"]].reshape(3, 4)
    assert listener.argmax(axis=1).tolist() == [2, 0, 0] and listener.sum() == 3
    free = SignallingConfig(message_length=3, vocab_size=4)
    s = reset(free, 1, RNG(0))
    for token in (2, 0, 3):
        s, _, _ = step(free, s, np.array([[token, 0]]))
    assert s.message.tolist() == [[[2, 0, 3]]]


@pytest.mark.parametrize("channel", ["cut", "scrambled"])
def test_a_cut_or_scrambled_channel_changes_what_the_listener_hears_only(channel):
    cfg = SignallingConfig(message_length=2, vocab_size=8, channel=channel)
    B = 4000
    s = reset(cfg, B, RNG(1))
    rng = RNG(2)
    for token in (5, 6):
        s, _, events = step(cfg, s, np.tile([[token, 0]], (B, 1)), rng)
    assert (s.message == [5, 6]).all() and (events["token"][:, 0] == 7).all()
    part = obs_slices(cfg)["message"]
    obs = observe(cfg, s)
    speaker, listener = obs[:, 0, part].reshape(B, 2, 8), obs[:, 1, part].reshape(B, 2, 8)
    assert (speaker.argmax(axis=2) == [5, 6]).all()
    if channel == "cut":
        assert listener.sum() == 0 and (s.heard == -1).all()
    else:  # uniform over the 8 tokens, independent of what was said: 1000 expected each
        counts = np.bincount(s.heard.ravel(), minlength=8)
        assert listener.sum() == 2 * B and counts.min() > 900 and counts.max() < 1100


def test_held_out_objects_never_appear_in_training_games_and_only_they_in_test_games():
    settings = dict(n_attributes=3, n_values=4, num_candidates=4, held_out=12, split_seed=3)
    train, test = SignallingConfig(**settings), SignallingConfig(**settings, split="held_out")
    radix = 4 ** np.arange(3)
    seen_train = (reset(train, 2000, RNG(0)).candidates * radix).sum(-1)
    seen_test = (reset(test, 2000, RNG(0)).candidates * radix).sum(-1)
    held = set(np.unique(seen_test).tolist())
    assert len(held) == 12
    assert set(np.unique(seen_train).tolist()) == set(range(64)) - held
    for seen in (seen_train, seen_test):  # still K distinct candidates per game
        assert (np.sort(seen, axis=-1)[..., 1:] != np.sort(seen, axis=-1)[..., :-1]).all()
    every = reset(SignallingConfig(**settings, split="all"), 2000, RNG(0)).candidates
    assert len(np.unique((every * radix).sum(-1))) == 64
    other = reset(SignallingConfig(**{**settings, "split_seed": 4}, split="held_out"), 500, RNG(0))
    assert set(np.unique((other.candidates * radix).sum(-1)).tolist()) != held


@pytest.mark.parametrize("seed", range(20))
def test_every_value_of_every_attribute_stays_in_training_at_the_largest_split(seed):
    cfg = SignallingConfig(
        n_attributes=2, n_values=5, num_candidates=3, held_out=20, split_seed=seed
    )
    train = reset(cfg, 300, RNG(seed)).candidates.reshape(-1, 2)
    assert len(np.unique(train, axis=0)) == 5  # the cover of n_values objects, nothing else
    for i in range(2):
        assert sorted(np.unique(train[:, i]).tolist()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "bad, words",
    [
        (dict(held_out=2), "held_out=2"),  # fewer than K held-out objects
        (dict(held_out=13), "held_out=13"),  # fewer than max(K, n_values) left for training
        (dict(n_values=3, n_attributes=1, num_candidates=2, held_out=2), "= 5 objects"),
        (dict(split="test"), "split='test'"),
        (dict(channel="closed"), "channel='closed'"),
        (dict(end_token=1), "end_token=1"),
        (dict(n_attributes=16, n_values=4, held_out=4), "held_out=4 needs at most"),
    ],
)
def test_invalid_split_channel_and_end_token_settings_raise_one_line_errors(bad, words):
    with pytest.raises(ValueError, match="signalling: ") as err:
        SignallingConfig(**bad)
    assert words in str(err.value) and "\n" not in str(err.value)
