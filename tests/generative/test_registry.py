"""The registry's families keep what they declare: data kinds, fit, likelihood, group."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest
import torch

from generative import registry
from generative.base import GenerativeModel
from generative.data import DataInfo, Dataset
from generative.family import Family, Fit, Group
from generative.metrics.likelihood import grid_log_partition
from generative.models import (
    autoencoder,
    diffusion,
    ebm,
    flows,
    gan,
    naive_bayes,
    text_baselines,
    transformer,
    vae,
)
from generative.models.flows import RealNVPConfig
from generative.train import FitConfig, fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = {  # options that build each family small enough for a unit test
    "autoencoder": {"hidden": (16,), "code_size": 2},
    "vae": {"hidden": (16,), "latent_dim": 2, "eval_samples": 8},
    "gan": {"hidden": 16, "depth": 2},
    "gan_r1": {"hidden": 16, "depth": 2},
    "wgan_gp": {"hidden": 16, "depth": 2},
    "sngan_r1": {"hidden": 16, "depth": 2},
    "pacgan": {"hidden": 16, "depth": 2},
    "realnvp": {"num_layers": 2, "hidden": (16,)},
    "maf": {"num_layers": 2, "hidden": (16,)},
    "nsf": {"num_layers": 2, "hidden": (16,)},
    "ebm": {"hidden": (16,), "sgld_steps": 2, "sample_steps": 2, "buffer_size": 32},
    "ddpm": {"timesteps": 10, "sample_steps": 5, "hidden": (16,), "channels": (8,), "embed_dim": 8},
    "latent_diffusion": {
        "timesteps": 10, "sample_steps": 5, "hidden": (16,), "embed_dim": 8, "latent_dim": 2,
        "vae_hidden": (16,), "stage1_steps": 1,
    },
    "transformer": {"n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 8},
    "mlp": {"context": 3, "embed_dim": 4, "hidden": (16,)},
    "gru": {"num_layers": 1, "hidden_size": 16, "embed_dim": 8},
}  # fmt: skip


def toy_data(kind: str) -> Dataset:
    """48 labelled examples of `kind`: 2-D points, or 8x8 images (categorical levels 0..16,
    dequantized levels / 17, binary pixels); for tokens 48 unlabelled sequences of 9 ids in
    0..4 (a language model reads its targets from the sequence)."""
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(48) % 2
    if kind == "tokens":
        info = DataInfo("toy", (9,), kind, num_categories=5)
        x = torch.randint(0, 5, (48, 9), generator=gen)
        return Dataset(info, x[:32], x[32:40], x[40:])
    if kind == "continuous":
        info = DataInfo("toy", (2,), kind, num_classes=2)
        x = torch.randn(48, 2, generator=gen) * 0.5 + y[:, None] - 0.5
    else:
        levels = torch.randint(0, 17, (48, 1, 8, 8), generator=gen).float()
        categories = {"categorical": 17, "dequantized": 17}.get(kind)
        info = DataInfo("toy", (1, 8, 8), kind, num_categories=categories, num_classes=2)
        x = {"categorical": levels, "dequantized": levels / 17, "binary": (levels > 8).float()}
        x = x[kind]
    return Dataset(info, x[:32], x[32:40], x[40:], y[:32], y[32:40], y[40:])


CASES = [(name, kind) for name, f in sorted(registry.FAMILIES.items()) for kind in f.data_kinds]


def test_the_registry_holds_every_family_module_entry_once():
    modules = (
        naive_bayes,
        autoencoder,
        vae,
        gan,
        flows,
        ebm,
        diffusion,
        transformer,
        text_baselines,
    )
    names = [name for module in modules for name in module.FAMILIES]
    assert sorted(names) == sorted(registry.FAMILIES) and len(set(names)) == len(names)


@pytest.mark.parametrize("name", sorted(registry.FAMILIES))
def test_every_family_declares_data_kinds_fit_likelihood_and_group(name):
    family = registry.FAMILIES[name]
    assert dataclasses.is_dataclass(family.config) and family.config.__dataclass_params__.frozen
    assert issubclass(family.model, GenerativeModel)
    assert family.data_kinds and family.fit in get_args(Fit) and family.group in get_args(Group)
    if family.fit == "closed_form":
        assert callable(family.model.fit_exact)
    if family.likelihood != "none":
        assert family.model.log_prob is not GenerativeModel.log_prob


def test_a_family_without_data_kinds_or_with_unknown_values_is_refused():
    entry = registry.FAMILIES["vae"]
    with pytest.raises(ValueError, match="at least one data kind"):
        dataclasses.replace(entry, data_kinds=())
    with pytest.raises(ValueError, match="data_kinds='images'"):
        dataclasses.replace(entry, data_kinds=("images",))
    with pytest.raises(ValueError, match="likelihood='approximate'; allowed: exact, bound, none"):
        dataclasses.replace(entry, likelihood="approximate")
    with pytest.raises(ValueError, match="fit='em'"):
        Family(entry.config, entry.model, ("binary",), "em", "bound", "vae")


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_every_family_fits_and_scores_each_data_kind_it_declares(name, kind):
    family, data = registry.FAMILIES[name], toy_data(kind)
    torch.manual_seed(0)
    model = registry.make(name, data.info, SMALL.get(name))
    assert isinstance(model, family.model)
    # the declared likelihood, or none where this data has no tractable one (EBM above 2-D)
    assert model.likelihood == family.likelihood or (name, model.likelihood) == ("ebm", "none")
    x = data.test[:6]
    if family.fit == "closed_form":
        before = model.log_prob(data.train, data.train_labels).mean()
        assert model.fit_exact(data.train, data.train_labels) is model
        after = model.log_prob(data.train, data.train_labels).mean()
        assert after > before  # maximum likelihood beats the initial parameters
    else:
        start = [p.detach().clone() for p in model.parameters()]
        model = fit(model, data, FitConfig(steps=2, batch_size=16, device="cpu")).model
        moved = [not torch.equal(p, q) for p, q in zip(start, model.parameters(), strict=True)]
        assert any(moved)
    if model.likelihood == "none":
        with pytest.raises(NotImplementedError):
            model.log_prob(x)
    else:
        log_p = model.log_prob(x)
        assert log_p.shape == (6,) and torch.isfinite(log_p).all()


EXACT = {name for name, f in registry.FAMILIES.items() if f.likelihood == "exact"}


@pytest.mark.parametrize(
    "name", sorted(n for n in EXACT if "continuous" in registry.FAMILIES[n].data_kinds)
)
def test_an_exact_likelihood_on_2d_data_integrates_to_one(name):
    data = toy_data("continuous")
    torch.manual_seed(0)
    model = registry.make(name, data.info, SMALL.get(name)).eval()
    if registry.FAMILIES[name].fit == "closed_form":
        model.fit_exact(data.train, data.train_labels)
    box = model.box if name == "ebm" else (-7.0, 7.0)

    def log_p(points):
        with torch.no_grad():
            return model.log_prob(torch.as_tensor(points, dtype=torch.float32)).double()

    assert abs(grid_log_partition(log_p, (box, box), 281)) < 0.02


@pytest.mark.parametrize(
    "name", sorted(n for n in EXACT if "continuous" not in registry.FAMILIES[n].data_kinds)
)
def test_an_exact_likelihood_on_discrete_data_sums_to_one(name):
    (kind,) = registry.FAMILIES[name].data_kinds
    levels = 2 if kind == "binary" else 3
    info = DataInfo("tiny", (3,), kind, num_categories=levels, num_classes=2)
    x = torch.cartesian_prod(*[torch.arange(levels).float()] * 3)  # every one of levels^3 points
    if kind == "tokens":  # a language model conditions on the first token: one sum per token
        torch.manual_seed(0)
        model = registry.make(name, info, SMALL.get(name))
        log_p = model.log_prob(x.long()).detach().view(levels, -1)  # (first token, the rest)
        torch.testing.assert_close(log_p.logsumexp(1), torch.zeros(levels))
        return
    y = torch.tensor([0, 1]).repeat(len(x))[: len(x)]
    model = registry.make(name, info).fit_exact(x[:5], y[:5])
    torch.testing.assert_close(model.log_prob(x).logsumexp(0), torch.tensor(0.0))


def test_make_refuses_what_it_cannot_build_in_one_line():
    info = toy_data("continuous").info
    with pytest.raises(KeyError, match="unknown model 'diffusion'; known: autoencoder"):
        registry.make("diffusion", info)
    with pytest.raises(ValueError, match="categorical_nb does not model continuous data"):
        registry.make("categorical_nb", info)
    with pytest.raises(ValueError, match="realnvp: .*num_layer"):
        registry.make("realnvp", info, {"num_layer": 2})
    with pytest.raises(ValueError, match="maf: options must be a MAFConfig or a dict, not Real"):
        registry.make("maf", info, RealNVPConfig())
    assert isinstance(registry.make("maf", info, {"num_layers": 2}), flows.MAF)


def test_toys_get_a_view_for_every_sampling_family():
    for model in ("gan", "gan_r1", "wgan_gp", "sngan_r1", "pacgan", "realnvp", "nsf", "ebm"):
        assert registry.view_for(model, "ring8") == "ring8"
        assert registry.view_for(model, "digits") == "digits_continuous"
    assert registry.view_for("categorical_nb", "digits") == "digits"
    assert registry.view_for("categorical_nb", "moons") is None
    assert registry.view_for("transformer", "digits") is None  # no dataset of tokens here
    with pytest.raises(KeyError, match="unknown model"):
        registry.view_for("gmm", "moons")
