"""Every learner config bounds its sizes and counts and rejects floats that are not finite.

One suite over the config of every entry of `agents.LEARNERS`: the fields are read with
`dataclasses.fields` and `typing.get_type_hints`, so a new field is checked without editing
this file, and a field of a type the suite does not know fails it. Each bad value must raise a
one-line `ValueError` that names the field.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path

import pytest
import yaml

import agents
from agents.ppo_config import PPOConfig
from agents.rllib_ppo_config import RLlibPPOConfig
from agents.sb3_ppo_config import SB3PPOConfig
from generative.config_checks import MAX_WEIGHTS

CONFIGS = sorted({entry.config for entry in agents.LEARNERS.values()}, key=lambda c: c.__name__)

HUGE = 10**15
"""Beyond every bound: the largest, the sample and minibatch counts, is 10**6."""

ZERO_ALLOWED = {
    (RLlibPPOConfig, "num_env_runners"): "0 = sample in the trainer's own process",
    (SB3PPOConfig, "head_size"): "0 = no hidden layer in the heads",
}
"""Int fields where 0 is valid, and why; each still rejects -1."""

SHIPPED = {
    path.stem: raw["agent"]
    for path in sorted((Path(__file__).parents[2] / "experiments").glob("*.yaml"))
    if "agent" in (raw := yaml.safe_load(path.read_text())) and raw.get("kind", "rl") == "rl"
}
"""The agent section of every experiment file that trains a learner (kind rl; the talking
agents of kind communication are not `agents.LEARNERS`)."""


def field_kinds(cls: type) -> dict[str, str]:
    """Field name -> 'int', 'float', 'ints' (tuple of int), 'choice' (a Literal of strings) or
    'bool' for each field of `cls`; `X | None` counts as X. Any other type fails the suite.
    Bools are switches with no range, so no test takes them."""
    hints = typing.get_type_hints(cls)
    kinds = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if typing.get_origin(hint) is tuple and typing.get_args(hint) == (int, Ellipsis):
            kinds[field.name] = "ints"
        elif typing.get_origin(hint) is typing.Literal:
            assert {type(arg) for arg in typing.get_args(hint)} == {str}, (cls, field.name)
            kinds[field.name] = "choice"
        elif hint in (int, float, bool):
            kinds[field.name] = hint.__name__
        else:
            raise AssertionError(f"{cls.__name__}.{field.name}: untested type {hint}")
    return kinds


def cases(kind: str) -> list:
    return [
        pytest.param(cls, name, id=f"{cls.__name__}.{name}")
        for cls in CONFIGS
        for name, found in field_kinds(cls).items()
        if found == kind
    ]


def assert_rejected(cls: type, name: str, value: object) -> str:
    """`cls(name=value)` raises a one-line ValueError naming the field; its message."""
    with pytest.raises(ValueError) as err:
        cls(**{name: value})
    message = str(err.value)
    assert "\n" not in message and re.search(rf"(?<![\w.]){name}=", message), message
    return message


def test_the_suite_sees_every_learner_and_every_kind_of_field():
    assert {entry.config for entry in agents.LEARNERS.values()} == {
        PPOConfig,
        RLlibPPOConfig,
        SB3PPOConfig,
    }
    kinds = [kind for cls in CONFIGS for kind in field_kinds(cls).values()]
    assert {kinds.count(kind) >= 3 for kind in ("int", "float", "ints", "choice", "bool")} == {True}
    for cls, name in ZERO_ALLOWED:
        assert field_kinds(cls)[name] == "int"
    assert {agent["kind"] for agent in SHIPPED.values()} == set(agents.LEARNERS)


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda cls: cls.__name__)
def test_the_defaults_are_valid(cls):
    assert dataclasses.is_dataclass(cls())


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_shipped_agent_settings_are_valid(name):
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in SHIPPED[name].items()}
    agents.LEARNERS[settings.pop("kind")].config(**settings)


@pytest.mark.parametrize(("cls", "name"), cases("int"))
def test_an_int_field_rejects_huge_zero_negative_and_fractional_values(cls, name):
    message = assert_rejected(cls, name, HUGE)
    assert re.search(r"; must be an integer from \d to [\d,]+$", message), message
    assert_rejected(cls, name, -1)
    assert_rejected(cls, name, 2.5)
    assert_rejected(cls, name, True)
    if (cls, name) in ZERO_ALLOWED:
        cls(**{name: 0})
    else:
        assert_rejected(cls, name, 0)


@pytest.mark.parametrize(("cls", "name"), cases("ints"))
def test_a_size_list_rejects_huge_zero_negative_sizes_and_too_many(cls, name):
    for sizes in ((HUGE,), (0,), (-1,), (8, 2.5), (), (8,) * 100):
        assert_rejected(cls, name, sizes)


@pytest.mark.parametrize(("cls", "name"), cases("float"))
def test_a_float_field_rejects_nan_inf_and_strings(cls, name):
    for value in (math.nan, math.inf, -math.inf, "1e-3"):
        assert_rejected(cls, name, value)


@pytest.mark.parametrize(("cls", "name"), cases("choice"))
def test_a_choice_field_rejects_other_strings(cls, name):
    assert_rejected(cls, name, "gelu-or-every")


def test_messages_give_the_value_and_the_range():
    with pytest.raises(
        ValueError, match=r"^num_steps=1000000000000000; must be an integer from 1 to 100,000$"
    ):
        PPOConfig(num_steps=HUGE)
    with pytest.raises(
        ValueError, match=r"^update_epochs=1001; must be an integer from 1 to 1,000$"
    ):
        PPOConfig(update_epochs=1001)
    with pytest.raises(ValueError, match=r"^n_steps=100001; must be an integer from 1 to 100,000$"):
        SB3PPOConfig(n_steps=100_001)
    with pytest.raises(
        ValueError, match=r"^num_env_runners=1025; must be an integer from 0 to 1,024$"
    ):
        RLlibPPOConfig(num_env_runners=1025)
    with pytest.raises(ValueError, match=r"^learning_rate=nan; must be a finite number > 0$"):
        PPOConfig(learning_rate=math.nan)
    with pytest.raises(ValueError, match=r"^ent_coef=inf; must be a finite number >= 0$"):
        SB3PPOConfig(ent_coef=math.inf)
    with pytest.raises(ValueError, match=r"^target_kl=nan; must be a finite number > 0$"):
        PPOConfig(target_kl=math.nan)
    with pytest.raises(ValueError, match=r"^gamma=nan; must lie in \[0, 1\]$"):
        RLlibPPOConfig(gamma=math.nan)
    with pytest.raises(
        ValueError, match=r"^hidden_sizes=\(16385,\); each width must be from 1 to 16,384$"
    ):
        PPOConfig(hidden_sizes=(16_385,))
    with pytest.raises(ValueError, match=r"^conv_channels=\(4097,\); each width must be from 1"):
        SB3PPOConfig(conv_channels=(4_097,))
    with pytest.raises(ValueError, match=r"^conv_channels=\(8, 8, .*\); need 1 to 8 widths$"):
        RLlibPPOConfig(conv_channels=(8,) * 9)


def test_the_largest_allowed_values_are_valid():
    PPOConfig(
        num_steps=100_000,
        num_minibatches=1_000_000,
        update_epochs=1_000,
        hidden_sizes=(16_384, 16_384),  # actor and critic torsos: 2 x 16,384^2 = 2**29
        conv_channels=(4_096,) * 8,
        rnn_size=16_384,
    )
    PPOConfig(recurrent=True, rnn_size=16_384)  # 3 x 16,384 x (64 + 16,384) + 64^2 < 2**30
    SB3PPOConfig(
        n_steps=100_000,
        batch_size=1_000_000,
        n_epochs=1_000,
        conv_channels=(4_096,) * 8,
        hidden_size=16_384,
        head_size=16_384,
    )
    RLlibPPOConfig(
        num_env_runners=1_024,
        envs_per_env_runner=1_024,
        train_batch_size=1_000_000,
        minibatch_size=1_000_000,
        num_epochs=1_000,
        hidden_sizes=(16_384, 16_384),
        conv_channels=(4_096,) * 8,
    )


def test_networks_too_large_to_train_in_24_gib_are_refused_whatever_each_width():
    too_many = f"at most {MAX_WEIGHTS:,}"
    with pytest.raises(ValueError, match=rf"^hidden_sizes=.*in 2 network\(s\), {too_many}"):
        PPOConfig(hidden_sizes=(16_384,) * 4)  # 2 x 3 x 16,384^2 > 2**30
    with pytest.raises(ValueError, match=rf"^hidden_sizes=.*in 2 network\(s\), {too_many}"):
        RLlibPPOConfig(hidden_sizes=(16_384,) * 4)
    with pytest.raises(ValueError, match=rf"^rnn_size=16384; .*=16384 .*{too_many}"):
        PPOConfig(recurrent=True, hidden_sizes=(16_384,), rnn_size=16_384)
    PPOConfig(recurrent=False, hidden_sizes=(16_384,), rnn_size=16_384)  # no GRU is built


def test_minibatches_larger_than_the_train_batch_are_refused():
    with pytest.raises(ValueError, match=r"^minibatch_size=2000 exceeds train_batch_size=1000$"):
        RLlibPPOConfig(train_batch_size=1000, minibatch_size=2000)


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("ppo", {"num_steps": HUGE}, r"^num_steps=1000000000000000; must be an integer"),
        ("sb3_ppo", {"batch_size": HUGE}, r"^batch_size=1000000000000000; must be an integer"),
        ("rllib_ppo", {"lr": math.inf}, r"^lr=inf; must be a finite number > 0$"),
    ],
    ids=["ppo", "sb3_ppo", "rllib_ppo"],
)
def test_make_passes_the_message_on(kind, options, message):
    with pytest.raises(ValueError, match=message):
        agents.make(kind, **options)
