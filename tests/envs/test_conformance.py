"""One suite over every registered world: the batched core's contract, and each adapter against
its ecosystem's own checker (PettingZoo parallel and AEC, RLlib, SB3).

A world added to `envs.WORLDS` is tested here with no new test code. Every world runs with its
default settings; `CASES` adds settings that take another path through the adapters (Box
actions; cheap talk's extra observation channels and joint move x token actions). Tests that
play whole episodes cut them to `SHORT` steps where the world has a `max_steps` setting.

`CASES` also holds the dream (`agents.world_models.dream.DreamEnv`) of a tiny untrained world
model of Wolfpack (the `tiny_dream` fixture): `envs` cannot build it by name (its model lives
in `agents`), so the `world` fixture gives each case's factory of cores and `pettingzoo` /
`rllib` wrap the dream's core in the shells directly (registered worlds go through the
by-name entry points `parallel_env`, `rllib_env`, `env_creator`). The tests of the registry
itself (its entries, bad settings, the bounds of int and float settings, huge batch sizes) run
over `envs.WORLDS` only: the dream has no entry, and its settings (`DreamConfig`) are tested
in tests/agents/test_dream.py.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import sys
import types
import typing

import gymnasium
import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test
from pettingzoo.utils.conversions import parallel_to_aec
from ray.rllib.utils.pre_checks.env import check_multiagent_environments
from stable_baselines3 import PPO
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import VecCheckNan

import envs
from envs.adapters.pettingzoo import PettingZooParallelEnv, parallel_env
from envs.adapters.rllib import RLlibEnv, env_creator, rllib_env
from envs.adapters.sb3 import SB3VecEnv
from envs.core import MAX_BATCH_SIZE, BatchedEnv, StepResult, copy_bytes

CASES = [pytest.param(name, {}, id=name) for name in sorted(envs.WORLDS)] + [
    pytest.param("spread", {"continuous_actions": True}, id="spread-continuous"),
    pytest.param("commons", {"talk_vocab": 4}, id="commons-talk"),
    pytest.param("cleanup", {"talk_vocab": 3, "channel": "scrambled"}, id="cleanup-talk"),
    pytest.param("dream", {}, id="dream"),
]
DREAM = "dream"
SHORT = 12  # episode length in the tests that play whole episodes
Factory = typing.Callable[..., BatchedEnv]
"""(batch_size=1, seed=None, **settings) -> a core of the case's world."""


@pytest.fixture
def world(request: pytest.FixtureRequest, name: str) -> Factory:
    """The factory of the case's cores: `envs.make` for a registered world, the tiny dream's
    (with one torch thread: more only contend on a shared machine)."""
    if name == DREAM:
        request.getfixturevalue("one_torch_thread")
        return request.getfixturevalue("tiny_dream")
    return functools.partial(envs.make, name)


def short(name: str, settings: dict) -> dict:
    """`settings` with episodes of SHORT steps, where the world has a max_steps setting."""
    if name == DREAM or "max_steps" in {
        f.name for f in dataclasses.fields(envs.WORLDS[name].config)
    }:
        return {**settings, "max_steps": SHORT}
    return settings


def pettingzoo(
    world: Factory, name: str, settings: dict, render_mode: str | None = None
) -> PettingZooParallelEnv:
    """The PettingZoo shell of the case: `parallel_env` by name, or around the dream's core."""
    if name == DREAM:
        return PettingZooParallelEnv(world(batch_size=1, **settings), name, render_mode)
    return parallel_env(name, render_mode, **settings)


def rllib(world: Factory, name: str, settings: dict, creator: bool = False) -> RLlibEnv:
    """The RLlib shell of the case: by name (`rllib_env`, or `env_creator` as RLlib's env
    runners call it), or around the dream's core."""
    if name == DREAM:
        return RLlibEnv(world(batch_size=1, **settings), name)
    return env_creator({"name": name, **settings}) if creator else rllib_env(name, **settings)


def settings_of(kind: type) -> list:
    """(world, setting) params for every field of every world's config annotated `kind` or
    `kind | None`, found from the type hints (maps, tuples and flags are other kinds)."""
    out = []
    for name in sorted(envs.WORLDS):
        config = envs.WORLDS[name].config
        hints = typing.get_type_hints(config)
        for field in dataclasses.fields(config):
            hint = hints[field.name]
            optional = typing.get_origin(hint) in (types.UnionType, typing.Union)
            if hint is kind or (optional and kind in typing.get_args(hint)):
                out.append(pytest.param(name, field.name, id=f"{name}-{field.name}"))
    return out


INT_SETTINGS = settings_of(int)
FLOAT_SETTINGS = settings_of(float)


def sample(env: BatchedEnv) -> np.ndarray:
    """Uniform actions (B, A, *action_shape) from the env's own (seeded) action space."""
    space = env.action_space
    n = env.batch_size * env.num_agents
    return np.stack([space.sample() for _ in range(n)]).reshape(
        env.batch_size, env.num_agents, *(space.shape or ())
    )


def play(env: BatchedEnv, steps: int, seed: int) -> list[np.ndarray]:
    """Everything a seeded random rollout shows: observations, rewards, ends, events and a frame
    (of copy t mod B) at each step t; the batch is reset when it ends."""
    env.action_space.seed(seed)
    out = [env.reset(seed=seed)]
    for t in range(steps):
        res = env.step(sample(env))
        out += [res.obs, res.rewards, res.terminated, res.truncated, *res.events.values()]
        out.append(env.render(t % env.batch_size))
        if (res.terminated | res.truncated).all():
            out.append(env.reset())
    return out


def check_step(out: tuple, res: StepResult, agents: list[str]) -> None:
    """A shell's per-agent dicts of one step (PettingZoo or RLlib) equal the core's arrays."""
    obs, rewards, terminated, truncated, infos = out
    for k, agent in enumerate(agents):
        np.testing.assert_array_equal(obs[agent], res.obs[0, k])
        assert rewards[agent] == float(res.rewards[0, k])
        assert terminated[agent] == bool(res.terminated[0])
        assert truncated[agent] == bool(res.truncated[0])
        assert infos[agent] == {e: int(v[0, k]) for e, v in res.events.items()}


# The registry and the batched core.


@pytest.mark.parametrize("name", sorted(envs.WORLDS))
def test_registry_entry_builds_the_world_and_its_settings_rebuild_it(name):
    world = envs.WORLDS[name]
    assert dataclasses.is_dataclass(world.config) and world.config.__dataclass_params__.frozen
    env = envs.make(name, batch_size=2, seed=0)
    assert isinstance(env, BatchedEnv) and env.batch_size == 2
    assert env.name == name and env.cfg == world.config()
    again = world.make(seed=0, **dataclasses.asdict(env.cfg))  # what RLlib's creator is given
    assert again.cfg == env.cfg
    package = world.config.__module__.rsplit(".", 1)[0]
    doc = sys.modules[package].__doc__  # the world's package doc is its page
    assert world.doc == doc.splitlines()[0] and f"(`{name}`, version" in world.doc


@pytest.mark.parametrize("name", sorted(envs.WORLDS))
def test_bad_settings_are_one_line_value_errors(name):
    for kwargs, message in (
        ({"no_such_option": 1}, "no_such_option"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"batch_size": True}, "batch_size=True"),
    ):
        with pytest.raises(ValueError, match=message) as err:
            envs.make(name, **kwargs)
        assert "\n" not in str(err.value) and str(err.value).startswith(f"{name}: ")


@pytest.mark.parametrize("name", sorted(envs.WORLDS))
def test_defaults_are_valid_and_every_world_has_bounded_settings(name):
    config = envs.WORLDS[name].config
    defaults = {f.name: getattr(config(), f.name) for f in dataclasses.fields(config)}
    assert config(**defaults) == config()  # each default, given explicitly, is accepted
    assert any(param.values[0] == name for param in INT_SETTINGS)  # the suite sees its sizes


@pytest.mark.parametrize(("name", "setting"), INT_SETTINGS)
def test_int_settings_out_of_range_are_one_line_value_errors(name, setting):
    config = envs.WORLDS[name].config
    for value in (10**9, 2**64, -1, -(10**9), 2.0, True, "3"):
        with pytest.raises(ValueError, match=rf"^{name}: {setting}={value!r}; ") as err:
            envs.make(name, **{setting: value})
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=rf"^{name}: {setting}=") as err:
        config(**{setting: 10**9})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("name", "setting"), INT_SETTINGS)
def test_int_settings_at_their_stated_bounds_build_and_step(name, setting):
    with pytest.raises(ValueError) as err:
        envs.make(name, **{setting: 10**9})
    stated = re.search(r"must be an (?:odd )?integer from (-?\d+) to (\d+)", str(err.value))
    assert stated, str(err.value)  # the message gives the allowed range
    low, high = int(stated[1]), int(stated[2])
    assert 0 <= low <= high < 10**9
    for value in (low, high):
        env = envs.make(name, batch_size=1, seed=0, **{setting: value})
        env.action_space.seed(0)
        env.reset()
        assert env.step(sample(env)).rewards.shape == (1, env.num_agents)
        assert env.render().dtype == np.uint8
    for value in (low - 1, high + 1):
        with pytest.raises(ValueError, match=rf"^{name}: {setting}={value}; "):
            envs.make(name, **{setting: value})


@pytest.mark.parametrize(("name", "setting"), FLOAT_SETTINGS)
def test_float_settings_must_be_finite_numbers(name, setting):
    for value in (math.nan, math.inf, -math.inf, True, "0.5"):
        with pytest.raises(ValueError, match=rf"^{name}: {setting}={value!r}; ") as err:
            envs.make(name, **{setting: value})
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", sorted(envs.WORLDS))
def test_huge_batch_sizes_are_one_line_value_errors(name, monkeypatch):
    for batch_size in (10**9, MAX_BATCH_SIZE + 1):
        message = rf"^{name}: batch_size={batch_size}; must be an integer from 1 to 1,000,000$"
        with pytest.raises(ValueError, match=message):
            envs.make(name, batch_size=batch_size)
    world = envs.WORLDS[name]
    per_copy = copy_bytes(world.rules, world.config())
    monkeypatch.setattr(envs.core, "MAX_BATCH_BYTES", 3 * per_copy)  # room for 3 copies
    assert envs.make(name, batch_size=3).batch_size == 3
    with pytest.raises(ValueError) as err:
        envs.make(name, batch_size=4)
    expected = (
        f"{name}: batch_size=4; its state and observations would take about "
        f"{4 * per_copy:,} bytes, over the limit of {3 * per_copy:,} ("
    )
    assert str(err.value).startswith(expected) and "\n" not in str(err.value)


def test_a_batch_over_8_gib_is_refused_before_it_is_made():
    # 10^6 copies of 5 agents seeing 65 x 65 x 3 bytes: 63 GB of observations alone
    message = r"^commons: batch_size=1000000; .* about 64,660,000,000 bytes, .* \(8 GiB\)$"
    with pytest.raises(ValueError, match=message):
        envs.make("commons", batch_size=MAX_BATCH_SIZE, view_radius=32)


def test_unknown_world_is_a_key_error_listing_the_known_ones():
    with pytest.raises(KeyError, match="unknown environment 'chess'; known: cleanup, commons"):
        envs.make("chess")


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_shapes_dtypes_and_observations_inside_their_space(world, name, settings):
    env = world(batch_size=3, seed=0, **settings)
    B, A = 3, env.num_agents
    shape, dtype = env.observation_space.shape, env.observation_space.dtype
    env.action_space.seed(0)
    obs = env.reset()
    for _ in range(8):
        assert obs.shape == (B, A, *shape) and obs.dtype == dtype
        assert all(env.observation_space.contains(o) for o in obs.reshape(B * A, *shape))
        res = env.step(sample(env))
        assert res.rewards.shape == (B, A) and res.rewards.dtype == np.float32
        assert res.terminated.shape == res.truncated.shape == (B,)
        assert res.terminated.dtype == res.truncated.dtype == bool
        assert set(res.events) == set(env.event_names)
        assert all(v.shape == (B, A) and v.dtype == np.int32 for v in res.events.values())
        obs = env.reset() if (res.terminated | res.truncated).all() else res.obs


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_copies_end_together_at_max_steps(world, name, settings):
    env = world(batch_size=2, seed=0, **short(name, settings))
    env.action_space.seed(0)
    kinds = set()
    for _ in range(2):
        env.reset()
        for t in range(1, env.max_steps + 1):
            res = env.step(sample(env))
            ended = res.terminated | res.truncated
            assert ended.tolist() == [t == env.max_steps] * 2
            assert not (res.terminated & res.truncated).any()
        kinds.add("terminated" if res.terminated.all() else "truncated")
    assert len(kinds) == 1  # a world either ends its games or cuts them off, always the same


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_same_seed_same_rollout_other_seed_another(world, name, settings):
    rollout = [play(world(batch_size=3, **settings), 30, seed) for seed in (3, 3, 4)]
    assert len(rollout[0]) == len(rollout[1])
    for x, y in zip(rollout[0], rollout[1], strict=True):
        np.testing.assert_array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(rollout[0], rollout[2], strict=False))


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_reset_with_a_seed_replays_and_without_one_continues_the_stream(world, name, settings):
    env = world(batch_size=2, **settings)
    first = env.reset(seed=7)
    again = world(batch_size=2, seed=123, **settings).reset(seed=7)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(env.reset(), first)  # a new episode, not a replay


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_bad_actions_are_one_line_value_errors(world, name, settings):
    env = world(batch_size=2, seed=0, **settings)
    good = sample(env)
    with pytest.raises(ValueError, match="actions shape"):
        env.step(good[:, :-1])
    if isinstance(env.action_space, gymnasium.spaces.Discrete):
        n = env.action_space.n
        for bad in (np.full_like(good, n), np.full_like(good, -1), good.astype(float)):
            with pytest.raises(ValueError, match=rf"actions must be integers in \[0, {n}\)"):
                env.step(bad)


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_render_is_an_rgb_frame_of_each_copy(world, name, settings):
    env = world(batch_size=2, seed=0, **settings)
    frames = [env.render(0), env.render(1)]
    for frame in frames:
        assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert frames[0].shape == frames[1].shape
    for index in (2, -1):
        with pytest.raises(ValueError, match="index"):
            env.render(index)


# PettingZoo: the parallel shell and its AEC conversion.


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_pettingzoo_parallel_api(world, name, settings):
    parallel_api_test(pettingzoo(world, name, short(name, settings)), num_cycles=SHORT + 5)


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_pettingzoo_parallel_seed(world, name, settings):
    parallel_seed_test(lambda: pettingzoo(world, name, settings), num_cycles=20)


@pytest.mark.parametrize(("name", "settings"), CASES)
@pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros")  # removed agents
@pytest.mark.filterwarnings("ignore:Agent's m.* observation space value is")  # Box(-inf, inf)
def test_pettingzoo_aec_conversion_api(world, name, settings):
    aec = parallel_to_aec(pettingzoo(world, name, short(name, settings)))
    api_test(aec, num_cycles=SHORT + 5)


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_pettingzoo_shell_equals_the_core(world, name, settings):
    settings = short(name, settings)
    shell = pettingzoo(world, name, settings, render_mode="rgb_array")
    core = world(**settings)
    agents = [f"player_{k}" for k in range(core.num_agents)]
    assert shell.possible_agents == agents and shell.metadata["name"] == name
    assert all(shell.observation_space(a) == core.observation_space for a in agents)
    assert all(shell.action_space(a) == core.action_space for a in agents)
    obs, infos = shell.reset(seed=3)
    np.testing.assert_array_equal(np.stack([obs[a] for a in agents]), core.reset(seed=3)[0])
    assert shell.agents == agents and infos == {a: {} for a in agents}
    core.action_space.seed(0)
    for _ in range(core.max_steps):
        actions = sample(core)  # (1, A, ...)
        out = shell.step({a: actions[0, k] for k, a in enumerate(agents)})
        check_step(out, core.step(actions), agents)
        np.testing.assert_array_equal(shell.render(), core.render())
    assert shell.agents == []  # the episode is over for everyone at once
    with pytest.raises(ValueError, match="reset"):
        shell.step({a: actions[0, k] for k, a in enumerate(agents)})


# RLlib.


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_rllib_checker_accepts_the_world(world, name, settings):
    check_multiagent_environments(rllib(world, name, settings))


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_rllib_shell_equals_the_core(world, name, settings):
    settings = short(name, settings)
    shell = rllib(world, name, settings, creator=True)  # what RLlib's env runners call
    core = world(**settings)
    agents = [f"player_{k}" for k in range(core.num_agents)]
    assert shell.possible_agents == shell.agents == agents and shell.metadata["name"] == name
    for agent in agents:
        assert shell.observation_spaces[agent] == core.observation_space
        assert shell.get_action_space(agent) == core.action_space
    obs, infos = shell.reset(seed=3)
    np.testing.assert_array_equal(np.stack([obs[a] for a in agents]), core.reset(seed=3)[0])
    assert infos == {a: {} for a in agents}
    core.action_space.seed(0)
    for t in range(1, core.max_steps + 1):
        actions = sample(core)
        out = shell.step({a: actions[0, k] for k, a in enumerate(agents)})
        res = core.step(actions)
        check_step(out, res, agents)
        assert out[2]["__all__"] == bool(res.terminated[0])
        assert out[3]["__all__"] == bool(res.truncated[0]) and (t == core.max_steps) == (
            out[2]["__all__"] or out[3]["__all__"]
        )
    assert shell.agents == agents  # every agent lives through every episode


# Stable-Baselines3.


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_sb3_vec_env_flattens_copies_by_agents_and_resets_the_batch(world, name, settings):
    settings = short(name, settings)
    env = world(batch_size=2, seed=0, **settings)
    twin = world(batch_size=2, seed=0, **settings)
    vec = SB3VecEnv(env, seed=3)
    B, A, shape = 2, env.num_agents, env.action_space.shape or ()
    assert vec.num_envs == B * A
    assert vec.observation_space == env.observation_space
    assert vec.action_space == env.action_space

    def flat(x: np.ndarray) -> np.ndarray:  # (B, A, ...) -> (B * A, ...), agent a of copy b
        return x.reshape(B * A, *x.shape[2:])  # at b * A + a

    np.testing.assert_array_equal(vec.reset(), flat(twin.reset(seed=3)))
    twin.action_space.seed(0)
    for t in range(1, env.max_steps + 1):
        actions = sample(twin)
        vec.step_async(flat(actions).reshape(B * A, *shape))
        obs, rewards, dones, infos = vec.step_wait()
        res = twin.step(actions)
        np.testing.assert_array_equal(rewards, flat(res.rewards))
        assert rewards.dtype == np.float32 and dones.tolist() == [t == env.max_steps] * (B * A)
        assert {k: v.tolist() for k, v in vec.last_events.items()} == {
            k: v.tolist() for k, v in res.events.items()
        }
    for i, info in enumerate(infos):
        np.testing.assert_array_equal(info["terminal_observation"], flat(res.obs)[i])
        assert info["TimeLimit.truncated"] == bool(res.truncated[i // A] & ~res.terminated[i // A])
    np.testing.assert_array_equal(obs, flat(twin.reset()))  # the next episode, stream continued


@pytest.mark.parametrize(("name", "settings"), CASES)
@pytest.mark.usefixtures("one_torch_thread")
def test_sb3_ppo_collects_and_learns_through_the_shell(world, name, settings):
    vec = SB3VecEnv(world(batch_size=2, seed=0, **short(name, settings)), seed=0)
    checked = VecCheckNan(vec, raise_exception=True)  # SB3's own check of every step
    n_steps = 16
    model = PPO(
        "MlpPolicy",
        checked,
        n_steps=n_steps,
        batch_size=n_steps * vec.num_envs,
        n_epochs=1,
        seed=0,
        device="cpu",
    )
    model.set_logger(Logger(folder=None, output_formats=[]))  # SB3's default makes a /tmp folder
    model.learn(2 * n_steps * vec.num_envs)
    assert model.num_timesteps == 2 * n_steps * vec.num_envs
    actions = model.rollout_buffer.actions  # (n_steps * B * A, action dim), flattened to train
    assert actions.shape == (n_steps * vec.num_envs, *(vec.action_space.shape or (1,)))
