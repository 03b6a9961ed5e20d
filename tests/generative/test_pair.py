"""Naive Bayes, logistic regression and the Ng & Jordan learning curves.

Parity: on the same stratified split, each of our classifiers scores within 1 point of
scikit-learn's reference. Naive Bayes is checked as a generative model too: its likelihood
sums to 1 and its class-conditional samples have the fitted means.
"""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
import pytest
import torch
from sklearn import datasets
from sklearn import naive_bayes as sk_nb
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from generative.data import DataInfo, Dataset
from generative.models.logistic import LogisticConfig, LogisticRegression
from generative.models.naive_bayes import (
    BernoulliNB,
    BernoulliNBConfig,
    CategoricalNB,
    CategoricalNBConfig,
    GaussianNB,
    GaussianNBConfig,
)
from generative.pair import (
    crossing,
    default_models,
    default_sizes,
    difference,
    learning_curves,
    mismatched_naive_bayes,
    naive_bayes_for,
    stratified_subset,
)
from generative.train import FitConfig, fit

DATASETS = ["breast_cancer", "wine", "digits", "digits_binary"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@cache
def split(name: str) -> tuple[DataInfo, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(info, x_train, x_test, y_train, y_test), a stratified 70/30 split with seed 0."""
    if name == "breast_cancer":
        bunch, kind, levels = datasets.load_breast_cancer(), "continuous", None
    elif name == "wine":
        bunch, kind, levels = datasets.load_wine(), "continuous", None
    else:
        bunch, kind, levels = datasets.load_digits(), "categorical", 17
    x, y = bunch.data, bunch.target
    shape: tuple[int, ...] = (x.shape[1],)
    if name.startswith("digits"):
        shape = (1, 8, 8)
    if name == "digits_binary":
        x, kind, levels = (x >= 8).astype(float), "binary", None
    info = DataInfo(name, shape, kind, levels, int(y.max()) + 1)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=0
    )
    return info, x_train, x_test, y_train, y_test


def as_x(info: DataInfo, x: np.ndarray) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float32).reshape(len(x), *info.shape)


def sklearn_nb(info: DataInfo):
    if info.kind == "binary":
        return sk_nb.BernoulliNB()
    if info.kind == "categorical":
        return sk_nb.CategoricalNB(min_categories=17)
    return sk_nb.GaussianNB()


@pytest.mark.parametrize("name", DATASETS)
def test_naive_bayes_matches_sklearn(name):
    info, x_train, x_test, y_train, y_test = split(name)
    ours = naive_bayes_for(info).fit_exact(as_x(info, x_train), torch.tensor(y_train))
    ref = sklearn_nb(info).fit(x_train, y_train)
    accuracy = (ours.predict(as_x(info, x_test)).numpy() == y_test).mean()
    assert abs(accuracy - ref.score(x_test, y_test)) <= 0.01
    proba = ours.predict_log_proba(as_x(info, x_test)).exp().detach().numpy()
    np.testing.assert_allclose(proba, ref.predict_proba(x_test), atol=1e-4)


@pytest.mark.parametrize("name", DATASETS)
def test_logistic_matches_sklearn(name):
    info, x_train, x_test, y_train, y_test = split(name)
    ours = LogisticRegression(info, LogisticConfig(C=1.0))
    ours.fit_exact(as_x(info, x_train), torch.tensor(y_train))
    ref = make_pipeline(StandardScaler(), SkLogistic(C=1.0, max_iter=5000, tol=1e-8))
    ref.fit(x_train, y_train)
    accuracy = (ours.predict(as_x(info, x_test)).numpy() == y_test).mean()
    assert abs(accuracy - ref.score(x_test, y_test)) <= 0.01
    proba = ours.predict_log_proba(as_x(info, x_test)).exp().detach().numpy()
    np.testing.assert_allclose(proba, ref.predict_proba(x_test), atol=1e-3)


def test_categorical_nb_samples_digits_with_the_fitted_class_means():
    info, x_train, _, y_train, _ = split("digits")
    model = CategoricalNB(info).fit_exact(as_x(info, x_train), torch.tensor(y_train))
    n = 4000
    cond = torch.arange(10).repeat_interleave(n // 10)
    x = model.sample(n, cond=cond, gen=torch.Generator().manual_seed(0))
    assert x.shape == (n, 1, 8, 8)
    assert torch.equal(x, x.round()) and x.min() >= 0 and x.max() <= 16
    theta = torch.softmax(model.logits.detach(), -1)  # (K, D, C)
    levels = torch.arange(17.0)
    mean = theta @ levels  # (K, D) E[x_d | y]
    std = (theta @ levels**2 - mean**2).sqrt()
    got = x.reshape(10, n // 10, 64).mean(1)
    assert ((got - mean).abs() <= 5 * std / math.sqrt(n // 10) + 1e-6).all()
    # Fitted means: the class means shrunk towards 8 by the Laplace counts,
    # E[x_d | y] = (N_y mean_yd + alpha sum_c c) / (N_y + alpha C), with sum_c c = 136.
    for k in range(10):
        data = torch.tensor(x_train[y_train == k]).float()
        shrunk = (data.sum(0) + 136) / (len(data) + 17)
        assert torch.allclose(mean[k], shrunk, atol=1e-4)


@pytest.mark.parametrize("model_cls", [GaussianNB, BernoulliNB])
def test_nb_samples_follow_the_fitted_feature_model(model_cls):
    name = "wine" if model_cls is GaussianNB else "digits_binary"
    info, x_train, _, y_train, _ = split(name)
    model = model_cls(info).fit_exact(as_x(info, x_train), torch.tensor(y_train))
    n = 3000
    x = model.sample(n, cond=torch.full((n,), 1), gen=torch.Generator().manual_seed(1))
    flat = x.reshape(n, -1)
    if model_cls is GaussianNB:
        mean, std = model.mu[1].detach(), (0.5 * model.log_var[1].detach()).exp()
    else:
        mean = torch.sigmoid(model.logits[1].detach())
        std = (mean * (1 - mean)).sqrt()
        assert set(flat.unique().tolist()) <= {0.0, 1.0}
    assert ((flat.mean(0) - mean).abs() <= 5 * std / math.sqrt(n) + 1e-6).all()


def test_unconditional_samples_follow_the_class_prior():
    info = DataInfo("toy", (2,), "binary", None, 3)
    y = torch.tensor([0] * 10 + [1] * 30 + [2] * 60)
    model = BernoulliNB(info).fit_exact(torch.zeros(100, 2), y)
    n = 4000
    x = model.sample(n, gen=torch.Generator().manual_seed(2))
    assert x.shape == (n, 2)
    # x = 0 everywhere in training; p(x_d = 1 | y) = 1 / (N_y + 2), so most samples are 0.
    expected = sum(p / (n_y + 2) for p, n_y in ((0.1, 10), (0.3, 30), (0.6, 60)))
    assert abs(x.mean().item() - expected) < 5 * math.sqrt(expected / (2 * n))


def all_values(levels: int, dim: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(levels), repeat=dim)), dtype=torch.float32)


@pytest.mark.parametrize("kind", ["binary", "categorical"])
def test_log_prob_sums_to_one_over_all_values(kind):
    gen = torch.Generator().manual_seed(3)
    if kind == "binary":
        info, levels = DataInfo("toy", (3,), "binary", None, 2), 2
        model = BernoulliNB(info, BernoulliNBConfig(alpha=0.5))
    else:
        info, levels = DataInfo("toy", (2,), "categorical", 3, 3), 3
        model = CategoricalNB(info, CategoricalNBConfig(alpha=0.5))
    x = torch.randint(0, levels, (20, info.dim), generator=gen).float()
    model.fit_exact(x, torch.randint(0, info.num_classes, (20,), generator=gen))
    grid = all_values(levels, info.dim)  # every possible x
    total = model.log_prob(grid).exp().sum()
    assert abs(total.item() - 1) < 1e-5
    joint = sum(
        model.log_prob(grid, torch.full((len(grid),), k)).exp().sum()
        for k in range(info.num_classes)
    )
    assert abs(joint.item() - 1) < 1e-5
    # Bayes' rule: p(y | x) sums to 1 and equals p(x, y) / p(x).
    post = model.predict_log_proba(grid).exp()
    assert torch.allclose(post.sum(1), torch.ones(len(grid)), atol=1e-6)
    assert torch.allclose(
        post[:, 0],
        (model.log_prob(grid, torch.zeros(len(grid))) - model.log_prob(grid)).exp(),
        atol=1e-6,
    )


def test_gaussian_nb_log_prob_is_the_mixture_density():
    info = DataInfo("toy", (1,), "continuous", None, 2)
    x = torch.tensor([[-1.0], [1.0], [3.0], [5.0]])
    model = GaussianNB(info).fit_exact(x, torch.tensor([0, 0, 1, 1]))
    grid = torch.linspace(-10, 15, 20001).reshape(-1, 1)
    area = model.log_prob(grid).exp().sum() * (25 / 20000)
    assert abs(area.item() - 1) < 1e-4
    # Class 0 is N(0, 1 + eps), eps = 1e-9 * Var[x] = 1e-9 * 5.
    expected = math.log(0.5) - 0.5 * math.log(2 * math.pi * (1 + 5e-9))
    assert abs(model.log_prob(torch.zeros(1, 1), torch.zeros(1)).item() - expected) < 1e-5


def test_nb_loss_trains_with_fit_to_the_closed_form_optimum():
    info = DataInfo("toy", (4,), "binary", None, 2)
    gen = torch.Generator().manual_seed(4)
    y = torch.randint(0, 2, (200,), generator=gen)
    p = torch.tensor([[0.2, 0.5, 0.7, 0.9], [0.8, 0.5, 0.3, 0.1]])
    x = (torch.rand(200, 4, generator=gen) < p[y]).float()
    data = Dataset(info, x, x[:10], x[:10], y, y[:10], y[:10])
    trained = fit(
        BernoulliNB(info), data, FitConfig(steps=300, batch_size=200, lr=0.05, device="cpu")
    ).model
    exact = BernoulliNB(info, BernoulliNBConfig(alpha=1e-6)).fit_exact(x, y)  # ~ maximum likelihood
    with torch.no_grad():
        nll_trained = trained.loss(x, y)["loss"].item()
        nll_exact = exact.loss(x, y)["loss"].item()
    assert nll_exact <= nll_trained + 1e-6 and nll_trained - nll_exact < 0.01
    assert abs(nll_exact + exact.log_prob(x, y).mean().item()) < 1e-6


def test_absent_classes_are_never_predicted():
    info = DataInfo("toy", (2,), "continuous", None, 4)
    gen = torch.Generator().manual_seed(5)
    y = torch.tensor([0] * 20 + [2] * 20 + [3] * 20)
    x = torch.randn(60, 2, generator=gen) + 3 * torch.stack([y, -y], 1).float()
    test = torch.randn(200, 2, generator=gen) * 5
    for model in (GaussianNB(info), LogisticRegression(info)):
        model.fit_exact(x, y)
        log_post = model.predict_log_proba(test)
        assert torch.isneginf(log_post[:, 1]).all() and torch.isfinite(log_post[:, [0, 2, 3]]).all()
        assert set(model.predict(test).tolist()) <= {0, 2, 3}
    assert torch.isfinite(GaussianNB(info).fit_exact(x, y).log_prob(test)).all()
    # Two classes present: one logistic model (scikit-learn's binary convention).
    pair = LogisticRegression(info).fit_exact(x[y != 0], y[y != 0])
    assert (pair.weight[2] == 0).all() and (pair.weight[3] != 0).any()
    one = LogisticRegression(info).fit_exact(x[y == 3], y[y == 3])
    assert (one.predict(test) == 3).all()


def test_stratified_subset_keeps_proportions_and_every_class():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 15 + [3] * 5)
    for m in (4, 7, 20, 33, 100):
        index = stratified_subset(labels, m, np.random.default_rng(m))
        assert len(index) == m == len(set(index.tolist()))
        counts = np.bincount(labels[index], minlength=4)
        assert (counts >= 1).all()
        assert (np.abs(counts - m * np.array([0.5, 0.3, 0.15, 0.05])) <= 1).all()
    small = stratified_subset(labels, 2, np.random.default_rng(0))
    assert len(small) == 2 and len(set(labels[small].tolist())) == 2
    again = stratified_subset(labels, 33, np.random.default_rng(33))
    assert np.array_equal(again, stratified_subset(labels, 33, np.random.default_rng(33)))
    with pytest.raises(ValueError, match="m=101"):
        stratified_subset(labels, 101, np.random.default_rng(0))


def test_learning_curves_on_wine():
    info, x_train, x_test, y_train, y_test = split("wine")
    sizes = [2, 10, 40, len(x_train)]  # m = 2 < K = 3: a class is missing
    curves = learning_curves(
        torch.tensor(x_train),
        torch.tensor(y_train),
        torch.tensor(x_test),
        torch.tensor(y_test),
        default_models(info),
        sizes,
        seeds=4,
    )
    assert set(curves["errors"]) == {"nb", "lr"} and curves["sizes"] == sizes
    nb, lr = np.array(curves["errors"]["nb"]), np.array(curves["errors"]["lr"])
    assert nb.shape == lr.shape == (4, 4)
    assert (nb[0] >= 1 / 3 - 0.05).all()  # two classes seen: the third is always missed
    assert nb[-1].std() == 0 and lr[-1].std() == 0  # m = N: the same fit for every seed
    for name in ("nb", "lr"):
        s = curves["summary"][name]
        assert s["mean"][-1] < s["mean"][1] < s["mean"][0]  # more data, fewer errors
        assert all(
            lo <= mu <= hi for lo, mu, hi in zip(s["ci_low"], s["mean"], s["ci_high"], strict=True)
        )
    d = difference(curves, "nb", "lr")
    assert np.allclose(d["mean"], nb.mean(1) - lr.mean(1))


def test_crossing_interpolates_on_log_m():
    sizes = [10, 100, 1000, 10000]
    nb = [0.20, 0.15, 0.12, 0.12]
    lr = [0.30, 0.15, 0.10, 0.05]  # tie at 100 counts as NB not worse
    assert (
        crossing(sizes, nb, lr).m == pytest.approx(100) and crossing(sizes, nb, lr).below == "a->b"
    )
    lr = [0.30, 0.17, 0.10, 0.05]  # d = -0.02 at 100, +0.02 at 1000: halfway on log m
    assert crossing(sizes, nb, lr).m == pytest.approx(math.sqrt(100 * 1000))
    assert crossing(sizes, nb, [e - 0.01 for e in nb]) == crossing(
        sizes, [1, 1, 1, 1], [0, 0, 0, 0]
    )
    assert crossing(sizes, nb, [e - 0.01 for e in nb]).below == "b"
    assert crossing(sizes, nb, [e + 0.01 for e in nb]).m is None
    assert crossing(sizes, nb, [e + 0.01 for e in nb]).below == "a"
    assert crossing(sizes, [0.3, 0.1, 0.1, 0.1], [0.2, 0.2, 0.05, 0.2]).below == "a"  # back to A


def test_variant_choice_and_the_mismatched_contrast():
    binary, _, _, _, _ = split("digits_binary")
    assert isinstance(naive_bayes_for(binary), BernoulliNB)
    assert isinstance(naive_bayes_for(split("digits")[0]), CategoricalNB)
    assert isinstance(naive_bayes_for(split("wine")[0]), GaussianNB)
    assert isinstance(mismatched_naive_bayes(binary), GaussianNB)
    with pytest.raises(ValueError, match="continuous"):
        mismatched_naive_bayes(split("wine")[0])
    info, x_train, x_test, y_train, y_test = split("digits_binary")
    errors = {}
    for name, factory in default_models(info).items():
        model = factory().fit_exact(as_x(info, x_train), torch.tensor(y_train))
        errors[name] = (model.predict(as_x(info, x_test)).numpy() != y_test).mean()
    assert errors["nb_mismatched"] > errors["nb"] + 0.1  # Gaussian NB on 0/1 pixels: 30% vs 10%
    assert default_sizes(1257) == [10, 20, 40, 79, 158, 316, 630, 1257]


def test_configs_and_inputs_are_validated():
    with pytest.raises(ValueError, match="var_smoothing"):
        GaussianNBConfig(var_smoothing=0.0)
    with pytest.raises(ValueError, match="alpha"):
        BernoulliNBConfig(alpha=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        CategoricalNBConfig(alpha=0.0)
    with pytest.raises(ValueError, match="C=0"):
        LogisticConfig(C=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        LogisticConfig(max_iter=0)
    continuous = DataInfo("toy", (2,), "continuous", None, 2)
    with pytest.raises(ValueError, match="binary"):
        BernoulliNB(continuous)
    with pytest.raises(ValueError, match="categorical"):
        CategoricalNB(continuous)
    with pytest.raises(ValueError, match="num_classes"):
        GaussianNB(DataInfo("toy", (2,), "continuous"))
    with pytest.raises(ValueError, match="3 features"):
        GaussianNB(continuous).log_prob(torch.zeros(5, 3))
    model = CategoricalNB(DataInfo("toy", (2,), "categorical", 3, 2))
    with pytest.raises(ValueError, match="levels"):
        model.log_prob(torch.tensor([[0.0, 3.0]]))
