"""The learner registry and the contract every learner keeps (`agents.protocols`)."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys

import gymnasium
import numpy as np
import pytest
import torch

import agents
from agents import ppo_config, ppo_networks
from agents.protocols import Policy, Trainer
from agents.spec import EnvSpec, env_spec
from tests.agents.test_ppo import FAST, CueEnv, Hooks, TargetEnv


def public_members(protocol: type) -> list[str]:
    return [name for name in vars(protocol) if not name.startswith("_")]


def assert_conforms(cls: type, protocol: type) -> None:
    """Every member of `protocol` exists on `cls` as the same kind of thing, with the same
    parameter names, kinds and defaults (annotations are not compared)."""
    for name in public_members(protocol):
        wanted = inspect.getattr_static(protocol, name)
        found = inspect.getattr_static(cls, name, None)
        assert found is not None, f"{cls.__name__} lacks {name}"
        if isinstance(wanted, property):
            assert isinstance(found, property), f"{cls.__name__}.{name} is not a property"
            continue
        assert type(found) is type(wanted), f"{cls.__name__}.{name}: {type(found).__name__}"

        def shape(sig: inspect.Signature) -> list[tuple]:
            return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

        ours = inspect.signature(getattr(cls, name))
        theirs = inspect.signature(getattr(protocol, name))
        assert shape(ours) == shape(theirs), f"{cls.__name__}.{name}{ours} != {theirs}"


@pytest.mark.parametrize("kind", sorted(agents.LEARNERS))
def test_every_learner_keeps_the_trainer_and_policy_protocols(kind):
    entry = agents.LEARNERS[kind]
    assert dataclasses.is_dataclass(entry.config) and entry.config.__dataclass_params__.frozen
    assert entry.doc and "\n" not in entry.doc
    assert_conforms(entry.trainer(), Trainer)
    assert_conforms(entry.policy(), Policy)
    trainer = agents.make(kind, seed=0, device="cpu")
    assert trainer.agent_steps == 0
    trainer.close()  # a trainer that never trained holds nothing


def test_a_trained_learner_is_a_trainer_and_its_policy_a_policy(tmp_path):
    trainer = agents.make("ppo", seed=0, device="cpu", **FAST)
    policy = trainer.train(CueEnv(4), 64, Hooks())
    assert isinstance(trainer, Trainer) and isinstance(policy, Policy)
    policy.save(tmp_path / "policy.pt")
    loaded = agents.load_policy("ppo", tmp_path / "policy.pt", device="cpu")
    assert isinstance(loaded, Policy)
    obs = CueEnv(4).reset(seed=1).reshape(-1, 4)
    np.testing.assert_array_equal(
        loaded.act(obs, deterministic=True), policy.act(obs, deterministic=True)
    )
    trainer.close()


def test_importing_agents_loads_neither_stable_baselines3_nor_ray():
    code = (
        "import sys, agents; "
        "print([m for m in sys.modules if m.split('.')[0] in ('ray', 'stable_baselines3')])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


def test_make_rejects_unknown_learners_and_options_in_one_line():
    with pytest.raises(KeyError, match="known: ppo, rllib_ppo, sb3_ppo"):
        agents.make("dqn")
    with pytest.raises(KeyError, match="dqn"):
        agents.load_policy("dqn", "policy.pt")
    with pytest.raises(ValueError, match="sb3_ppo.*learning_rat"):
        agents.make("sb3_ppo", learning_rat=0.1)


def test_an_unknown_activation_is_a_value_error_naming_the_allowed_ones():
    assert tuple(ppo_networks.ACTIVATIONS) == ppo_config.ACTIVATIONS
    with pytest.raises(ValueError, match="activation='gelu'; allowed: 'tanh', 'relu'"):
        ppo_networks.MLP(1, 4, (8,), "gelu")
    with pytest.raises(ValueError, match="activation='gelu'; allowed: 'tanh', 'relu'"):
        agents.make("rllib_ppo", activation="gelu")
    x = torch.randn(1, 3, 4)
    for name, function in ppo_networks.ACTIVATIONS.items():
        mlp = ppo_networks.MLP(1, 4, (8,), name)
        torch.testing.assert_close(mlp(x), function(mlp.layers[0](x)))


@pytest.mark.parametrize("env", [CueEnv(2), TargetEnv(2)], ids=["discrete", "box"])
def test_env_spec_types_the_action_kind_and_keeps_the_file_format(env):
    spec = env_spec(env)
    assert spec.continuous == isinstance(env.action_space, gymnasium.spaces.Box)
    plain = spec.to_plain()
    expected = {"num_agents": 2, "obs_shape": list(env.observation_space.shape)}
    expected |= {"image": False, "episode_length": env.max_steps}
    if spec.continuous:
        expected |= {"low": [-1.0, -1.0], "high": [1.0, 1.0]}
    else:
        expected |= {"n_actions": 3}
    assert plain == expected
    assert EnvSpec.from_plain(plain) == spec
    with pytest.raises(ValueError, match="action bounds"):
        dataclasses.replace(spec, continuous=not spec.continuous)
