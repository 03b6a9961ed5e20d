"""Generative vs discriminative learning curves: Naive Bayes against logistic regression.

Ng & Jordan (2002) compare a generative classifier (Naive Bayes, which fits p(x, y)) with its
discriminative partner (logistic regression, which fits p(y | x) in the same hypothesis family)
as the training set grows. Their claim: NB has the higher asymptotic error but approaches it
after O(log D) examples, where LR needs O(D); so NB wins at small m and LR at large m, and the
curves cross, on many datasets.

`learning_curves` measures test error per (model, training size m, seed); each (m, seed) draws
one stratified subset that every model sees. `summarize` gives mean and 95% t-intervals over
seeds, `difference` the paired difference of two models, `crossing` the size where B (LR)
overtakes A (NB) for good. `naive_bayes_for` picks the NB variant that matches a data kind and
`mismatched_naive_bayes` the wrong one (Gaussian on binary or categorical features), to show
that the choice of event model matters.

References:
    Ng & Jordan 2002, "On discriminative vs. generative classifiers: a comparison of logistic
    regression and naive Bayes", NeurIPS 14.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import torch
from scipy import stats
from torch import Tensor

from generative.data import DataInfo
from generative.models.logistic import LogisticConfig, LogisticRegression
from generative.models.naive_bayes import BernoulliNB, CategoricalNB, GaussianNB, NaiveBayes

__all__ = [
    "Crossing",
    "crossing",
    "default_models",
    "default_sizes",
    "difference",
    "learning_curves",
    "mismatched_naive_bayes",
    "naive_bayes_for",
    "stratified_subset",
    "summarize",
]


class Classifier(Protocol):
    """What `learning_curves` needs of a model: a closed-form fit and a prediction."""

    def fit_exact(self, x: Tensor, y: Tensor) -> object: ...

    def predict(self, x: Tensor) -> Tensor: ...

    def to(self, *args: object, **kwargs: object) -> Classifier: ...


Factory = Callable[[], Classifier]


def naive_bayes_for(info: DataInfo) -> NaiveBayes:
    """The NB event model that matches the data: Gaussian for real values ("continuous",
    "dequantized"), Bernoulli for "binary", categorical for "categorical"."""
    if info.kind == "binary":
        return BernoulliNB(info)
    if info.kind == "categorical":
        return CategoricalNB(info)
    return GaussianNB(info)


def mismatched_naive_bayes(info: DataInfo) -> NaiveBayes:
    """The wrong event model, for contrast: Gaussian NB on "binary" or "categorical" data.

    Raises:
        ValueError: for real-valued data, where no other variant applies without first
            discretising the features.
    """
    if info.kind in ("binary", "categorical"):
        return GaussianNB(info)
    raise ValueError(f"no mismatched NB for kind {info.kind!r}; defined for binary, categorical")


def default_models(info: DataInfo, logistic: LogisticConfig | None = None) -> dict[str, Factory]:
    """{"nb": matched NB, "lr": logistic regression, "nb_mismatched": wrong NB (if defined)}."""
    cfg = logistic or LogisticConfig()
    models: dict[str, Factory] = {
        "nb": lambda: naive_bayes_for(info),
        "lr": lambda: LogisticRegression(info, cfg),
    }
    if info.kind in ("binary", "categorical"):
        models["nb_mismatched"] = lambda: mismatched_naive_bayes(info)
    return models


def default_sizes(n_train: int, count: int = 8, smallest: int = 10) -> list[int]:
    """`count` training sizes evenly spaced on log m from `smallest` to `n_train` (distinct)."""
    if not 1 <= smallest <= n_train or count < 1:
        raise ValueError(f"need 1 <= smallest={smallest} <= n_train={n_train} and count >= 1")
    grid = np.geomspace(smallest, n_train, count)
    return sorted({int(round(m)) for m in grid})


def stratified_subset(labels: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """(m,) indices of a random subset whose class counts follow the full set's proportions.

    Counts are m N_k / N rounded (largest remainders, ties broken at random) with at least one
    example of every class when m >= K; when m < K, m distinct classes are drawn with
    probability proportional to N_k and one example taken from each.
    """
    classes, counts = np.unique(labels, return_counts=True)
    n, k = int(counts.sum()), len(classes)
    if not 1 <= m <= n:
        raise ValueError(f"m={m}; must lie in 1..{n} (the training set size)")
    if m < k:
        take = np.zeros(k, dtype=int)
        take[rng.choice(k, size=m, replace=False, p=counts / n)] = 1
    else:
        quota = m * counts / n
        take = np.maximum(np.floor(quota).astype(int), 1)
        while take.sum() > m:  # only when the floor of 1 per class overshoots
            excess = np.where(take > 1, take - quota, -np.inf)
            take[np.lexsort((rng.random(k), -excess))[0]] -= 1
        while take.sum() < m:
            remainder = np.where(take < counts, quota - take, -np.inf)
            take[np.lexsort((rng.random(k), -remainder))[0]] += 1
    index = [
        rng.choice(np.flatnonzero(labels == c), size=t, replace=False)
        for c, t in zip(classes, take, strict=True)
        if t > 0
    ]
    return rng.permutation(np.concatenate(index))


def summarize(errors: np.ndarray, level: float = 0.95) -> dict[str, list[float]]:
    """Mean and two-sided t-interval over seeds of errors (sizes, seeds).

    mean +- t_{(1+level)/2, S-1} sd / sqrt(S), sd with S - 1 degrees of freedom; the
    interval has zero width when S = 1 (no spread to estimate).
    """
    errors = np.asarray(errors, dtype=float)
    s = errors.shape[1]
    mean = errors.mean(1)
    half = np.zeros_like(mean)
    if s > 1:
        half = stats.t.ppf((1 + level) / 2, s - 1) * errors.std(1, ddof=1) / math.sqrt(s)
    return {
        "mean": mean.tolist(),
        "ci_low": (mean - half).tolist(),
        "ci_high": (mean + half).tolist(),
    }


def learning_curves(
    x_train: Tensor,
    y_train: Tensor,
    x_test: Tensor,
    y_test: Tensor,
    models: dict[str, Factory],
    sizes: Sequence[int],
    seeds: int = 10,
) -> dict:
    """Test error of every model trained on random stratified subsets of m training examples.

    For each m in `sizes` and seed s in 0..seeds-1 one subset is drawn with
    `np.random.default_rng([s, m])` (see `stratified_subset`), and every model gets a fresh
    instance from its factory, moved to x_train's device and (floating) dtype, fitted with
    `fit_exact` on that subset and scored on the whole test set. At m = len(x_train) the
    subset is the whole set, so each model is fitted once and its error repeated over seeds.

    Args:
        x_train: (N, *shape); y_train: (N,) int labels; x_test, y_test likewise.
        models: name -> zero-argument factory of an unfitted classifier.
        sizes: training sizes, each in 1..N.
        seeds: subsets per size.
    Returns:
        {"sizes": [m], "seeds": S, "n_train": N, "n_test": N_test,
         "errors": {name: [[error per seed] per size]},
         "summary": {name: {"mean", "ci_low", "ci_high": [per size]}},
         "seconds": {name: total fit + predict seconds}}  (plain lists: JSON-ready).
    """
    n = len(x_train)
    if seeds < 1:
        raise ValueError(f"seeds={seeds}; must be at least 1")
    if not sizes or any(not 1 <= m <= n for m in sizes):
        raise ValueError(f"sizes={list(sizes)}; each must lie in 1..{n} (the training set size)")
    labels = y_train.cpu().numpy()
    errors = {name: np.zeros((len(sizes), seeds)) for name in models}
    seconds = dict.fromkeys(models, 0.0)
    for i, m in enumerate(sizes):
        for s in range(seeds if m < n else 1):
            index = stratified_subset(labels, m, np.random.default_rng([s, m]))
            index = torch.as_tensor(index, device=x_train.device)
            x, y = x_train[index], y_train[index]
            for name, factory in models.items():
                began = time.perf_counter()
                model = factory().to(x_train.device)
                if x_train.dtype.is_floating_point:
                    model = model.to(x_train.dtype)
                model.fit_exact(x, y)
                wrong = (model.predict(x_test).to(y_test.device) != y_test).double().mean()
                errors[name][i, s:] = float(wrong)  # at m = N: the one fit fills every seed
                seconds[name] += time.perf_counter() - began
    return {
        "sizes": [int(m) for m in sizes],
        "seeds": seeds,
        "n_train": n,
        "n_test": len(x_test),
        "errors": {name: e.tolist() for name, e in errors.items()},
        "summary": {name: summarize(e) for name, e in errors.items()},
        "seconds": seconds,
    }


def difference(curves: dict, a: str, b: str, level: float = 0.95) -> dict[str, list[float]]:
    """Paired error difference A - B per size (same subsets), mean and t-interval over seeds.

    Negative: A is better. The interval excluding 0 means the sign holds across subsets.
    """
    diff = np.asarray(curves["errors"][a]) - np.asarray(curves["errors"][b])
    return summarize(diff, level)


@dataclass(frozen=True)
class Crossing:
    """Where the mean error curve of B drops below that of A and stays there."""

    m: float | None
    """Training size of the last switch, interpolated linearly on log m; None if none."""
    below: Literal["a", "b", "a->b"]
    """One of "a->b" (A at or below B at the size just before m, B strictly below at every
    size after it), "b" (B below at every size) or "a" (A at or below B at the largest size:
    B never takes over for good)."""


def crossing(sizes: Sequence[float], err_a: Sequence[float], err_b: Sequence[float]) -> Crossing:
    """The first m after which B's mean error is lower than A's for all larger m.

    With d_i = err_a[i] - err_b[i] and j the last size where d_j <= 0 (A not worse), the
    crossing lies between sizes j and j+1 where the linear interpolation of d on log m is 0:
    log m* = log m_j + d_j / (d_j - d_{j+1}) (log m_{j+1} - log m_j).
    Ng & Jordan's prediction, with A = NB and B = LR, is below = "a->b".
    """
    if not len(sizes) == len(err_a) == len(err_b) or len(sizes) == 0:
        raise ValueError(
            f"sizes, err_a, err_b have lengths {len(sizes)}, {len(err_a)}, "
            f"{len(err_b)}; need the same, >= 1"
        )
    d = np.asarray(err_a, dtype=float) - np.asarray(err_b, dtype=float)
    not_worse = np.flatnonzero(d <= 0)
    if len(not_worse) == 0:
        return Crossing(None, "b")
    j = int(not_worse[-1])
    if j == len(d) - 1:
        return Crossing(None, "a")
    lo, hi = math.log(sizes[j]), math.log(sizes[j + 1])
    t = d[j] / (d[j] - d[j + 1])  # in [0, 1): d_j <= 0 < d_{j+1}
    return Crossing(math.exp(lo + t * (hi - lo)), "a->b")
