"""Every config of the generative package bounds its sizes and rejects non-finite floats.

One suite over `FitConfig`, the config of every registered family and of every classifier: the
fields are read with `dataclasses.fields` and `typing.get_type_hints`, so a new field is
checked without editing this file. Each bad value must raise a one-line `ValueError` that
names the field.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing

import pytest

from generative import registry
from generative.config_checks import MAX_SEED, MAX_WEIGHTS
from generative.data import DataInfo
from generative.models.diffusion import DDPMConfig
from generative.models.flows import NSFConfig, RealNVPConfig
from generative.models.gan import GANConfig
from generative.models.transformer import TransformerConfig
from generative.models.vae import VAEConfig
from generative.train import FitConfig

CONFIGS = sorted(
    {
        FitConfig,
        *(family.config for family in registry.FAMILIES.values()),
        *(config for config, _ in registry.CLASSIFIERS.values()),
    },
    key=lambda cls: cls.__name__,
)

HUGE = 10**12
"""Beyond every bound: the largest, `FitConfig.steps` (and the other step counts), is 10**9."""

ZERO_ALLOWED = {
    "warmup_steps": "0 = no KL warm-up",
    "stage1_steps": "0 = no autoencoder stage (the diffusion model learns untrained codes)",
    "checkpoint_every": "0 = a checkpoint only at the end",
    "seed": "0 is a seed like any other",
}
"""Int fields where 0 is valid, and why; each still rejects -1."""

SEEDS = {"seed"}
"""Any unsigned 32-bit seed is valid; 2**32 is past the bound."""


def field_kinds(cls: type) -> dict[str, str]:
    """Field name -> 'int', 'float', 'ints' (tuple of int) or 'floats' (tuple of float) for
    each numeric field of `cls`; `X | None` counts as X, bools and strings are left out."""
    hints = typing.get_type_hints(cls)
    kinds = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if typing.get_origin(hint) is tuple:
            items = {arg for arg in typing.get_args(hint) if arg is not Ellipsis}
            kinds[field.name] = {frozenset({int}): "ints", frozenset({float}): "floats"}[
                frozenset(items)
            ]
        elif hint in (int, float):
            kinds[field.name] = hint.__name__
        else:
            assert hint in (bool, str), f"{cls.__name__}.{field.name}: untested type {hint}"
    return kinds


def cases(kind: str) -> list:
    return [
        pytest.param(cls, name, id=f"{cls.__name__}.{name}")
        for cls in CONFIGS
        for name, found in field_kinds(cls).items()
        if found == kind
    ]


def assert_rejected(cls: type, name: str, value: object) -> None:
    """`cls(name=value)` raises a one-line ValueError naming the field."""
    with pytest.raises(ValueError) as err:
        cls(**{name: value})
    message = str(err.value)
    assert "\n" not in message and re.search(rf"(?<![\w.]){name}=", message), message


def test_the_suite_sees_every_kind_of_field():
    kinds = [kind for cls in CONFIGS for kind in field_kinds(cls).values()]
    assert {kinds.count(kind) > 3 for kind in ("int", "float", "ints")} == {True}
    assert kinds.count("floats") >= 2 and len(CONFIGS) >= 15


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda cls: cls.__name__)
def test_the_defaults_are_valid(cls):
    assert dataclasses.is_dataclass(cls())


@pytest.mark.parametrize(("cls", "name"), cases("int"))
def test_an_int_field_rejects_huge_zero_negative_and_fractional_values(cls, name):
    assert_rejected(cls, name, MAX_SEED + 1 if name in SEEDS else HUGE)
    assert_rejected(cls, name, -1)
    assert_rejected(cls, name, 2.5)
    if name in ZERO_ALLOWED:
        cls(**{name: 0})
    else:
        assert_rejected(cls, name, 0)
    if name in SEEDS:
        cls(**{name: MAX_SEED})


@pytest.mark.parametrize(("cls", "name"), cases("ints"))
def test_a_width_field_rejects_huge_zero_negative_widths_and_too_many(cls, name):
    for widths in ((HUGE,), (0,), (-1,), (8, 2.5), (8,) * 1000):
        assert_rejected(cls, name, widths)


@pytest.mark.parametrize(("cls", "name"), cases("float"))
def test_a_float_field_rejects_nan_and_inf(cls, name):
    for value in (math.nan, math.inf, -math.inf, "1e-3"):
        assert_rejected(cls, name, value)


@pytest.mark.parametrize(("cls", "name"), cases("floats"))
def test_a_float_pair_rejects_nan_and_inf_in_either_place(cls, name):
    valid = getattr(cls(), name) or (-1.0, 1.0)
    cls(**{name: valid})
    for i in range(2):
        for value in (math.nan, math.inf, -math.inf):
            bad = list(valid)
            bad[i] = value
            assert_rejected(cls, name, tuple(bad))


def test_messages_give_the_value_and_the_range():
    with pytest.raises(
        ValueError, match=r"^hidden=\(10000000,\); each width must be from 1 to 16,384$"
    ):
        VAEConfig(hidden=(10_000_000,))
    with pytest.raises(
        ValueError, match=r"^steps=10000000000; must be an integer from 1 to 1,000,"
    ):
        FitConfig(steps=10**10)
    with pytest.raises(ValueError, match=r"^grad_clip=nan; must be a finite number >= 0$"):
        FitConfig(grad_clip=math.nan)
    with pytest.raises(ValueError, match=r"^weight_decay=nan; must be a finite number >= 0$"):
        FitConfig(weight_decay=math.nan)
    with pytest.raises(ValueError, match=r"^ema=1.0; must be a number in \[0, 1\)$"):
        FitConfig(ema=1.0)
    with pytest.raises(ValueError, match=r"^sample_steps=20; must lie in 1..timesteps=10$"):
        DDPMConfig(timesteps=10, sample_steps=20)


def test_the_largest_allowed_values_are_valid():
    FitConfig(steps=10**9, batch_size=10**6, log_every=10**9, seed=MAX_SEED)
    DDPMConfig(timesteps=10_000, sample_steps=10_000, embed_dim=4096, channels=(4096,) * 8)
    VAEConfig(latent_dim=4096, hidden=(16_384,), eval_samples=100_000, eval_chunk=2**18)
    GANConfig(hidden=16_384, depth=3, latent_dim=4096)  # 2 players x 2 x 16,384^2 = 2**30
    TransformerConfig(n_layer=64, n_head=1024, n_embd=1024, block_size=8192)  # 64 x 12 x 2**20
    TransformerConfig(n_layer=1, n_head=1024, n_embd=16_384, mlp=False)  # 4 x 16,384^2 = 2**30


def test_mlps_too_large_to_train_in_24_gib_are_refused_whatever_each_width():
    too_many = f"at most {MAX_WEIGHTS:,}"
    with pytest.raises(ValueError, match=rf"^hidden=.*{too_many}"):
        VAEConfig(hidden=(16_384,) * 5)  # encoder and decoder: 2 x 4 x 16,384^2 = 2**31
    with pytest.raises(ValueError, match=rf"^hidden=16384, depth=4; .*{too_many}"):
        GANConfig(hidden=16_384, depth=4)
    with pytest.raises(ValueError, match=r"^hidden=\(4096, 4096\); .*in 256 network"):
        NSFConfig(num_layers=256, hidden=(4096, 4096))  # 256 x 4096^2 = 2**32
    RealNVPConfig(num_layers=256, hidden=(1024, 1024))  # 2**28
    with pytest.raises(ValueError, match=rf"^n_layer=2, n_embd=16384; .*{too_many}"):
        TransformerConfig(n_layer=2, n_embd=16_384, mlp=False)  # 2 x 4 x 16,384^2 = 2**31


def test_the_registry_passes_the_message_on():
    info = DataInfo("toy", (2,), "continuous")
    with pytest.raises(ValueError, match=r"^latent_dim=1000000000000; must be an integer"):
        registry.make("vae", info, {"latent_dim": HUGE})
    with pytest.raises(ValueError, match=r"^lr_generator=nan; must be a finite number > 0$"):
        registry.make("gan", info, {"lr_generator": math.nan})
