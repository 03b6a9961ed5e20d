"""Naive Bayes: the generative half of the generative-discriminative pair.

A Naive Bayes model is a generative model of (x, y) whose features are independent given
the class:

    p(x, y) = pi_y prod_{d=1}^{D} p(x_d | y),    p(x) = sum_y p(x, y),

so its likelihood is exact, it classifies by Bayes' rule p(y | x) = p(x, y) / p(x), and it
samples class-conditional data by drawing every feature of class y independently. Three
feature models, one per data kind:

- `GaussianNB` (real features):  x_d | y ~ N(mu_yd, sigma2_yd).
- `BernoulliNB` (0/1 features):  x_d | y ~ Bernoulli(p_yd).
- `CategoricalNB` (levels 0..C-1, e.g. digits 0..16):  x_d | y ~ Categorical(theta_yd).

`fit_exact(x, y)` sets the maximum-likelihood parameters in closed form, smoothed exactly as
scikit-learn does by default (Gaussian: every variance plus var_smoothing x the largest
feature variance; Bernoulli and categorical: Lidstone counts + alpha, alpha = 1 is Laplace),
with the empirical class prior pi_y = N_y / N. Classes absent from the data get pi_y = 0
(log prior -inf), so they are never predicted. The same parameters are `nn.Parameter`s under
unconstrained parametrisations (logits, log-variances), so `loss` (the negative joint
log-likelihood) can also train them with `generative.train.fit`; closed form is the normal path.

Inputs of any shape are flattened to D = info.dim features.

References:
    Ng & Jordan 2002, "On discriminative vs. generative classifiers: a comparison of logistic
    regression and naive Bayes", NeurIPS 14.
    McCallum & Nigam 1998, "A comparison of event models for naive Bayes text classification".
    Pedregosa et al. 2011, scikit-learn (`sklearn.naive_bayes`), whose smoothing we follow.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.base import GenerativeModel
from generative.config_checks import check_float
from generative.data import DataInfo
from generative.family import Family
from generative.models.gaussian import normal_log_prob

__all__ = [
    "BernoulliNB",
    "BernoulliNBConfig",
    "CategoricalNB",
    "CategoricalNBConfig",
    "GaussianNB",
    "GaussianNBConfig",
    "FAMILIES",
    "NaiveBayes",
]


@dataclass(frozen=True)
class GaussianNBConfig:
    """Settings of `GaussianNB`."""

    var_smoothing: float = 1e-9
    """Added to every variance, as a fraction of the largest per-feature variance of the
    training data (scikit-learn's default); finite and > 0 so no density is infinite."""

    def __post_init__(self) -> None:
        check_float("var_smoothing", self.var_smoothing, 0.0, open_low=True)


@dataclass(frozen=True)
class BernoulliNBConfig:
    """Settings of `BernoulliNB`."""

    alpha: float = 1.0
    """Lidstone pseudo-count added to both outcomes of every feature (1 = Laplace); finite
    and > 0 (0 gives log 0)."""

    def __post_init__(self) -> None:
        check_float("alpha", self.alpha, 0.0, open_low=True)


@dataclass(frozen=True)
class CategoricalNBConfig:
    """Settings of `CategoricalNB`."""

    alpha: float = 1.0
    """Lidstone pseudo-count added to every level of every feature (1 = Laplace); finite and
    > 0 (0 gives log 0)."""

    def __post_init__(self) -> None:
        check_float("alpha", self.alpha, 0.0, open_low=True)


def _inverse_cdf(probs: Tensor, u: Tensor) -> Tensor:
    """Index k with cdf_{k-1} <= u < cdf_k; probs (..., C), u (...) in [0, 1) -> (...) int64."""
    cdf = probs.cumsum(-1)
    cdf = cdf / cdf[..., -1:]  # last entry exactly 1, so the index stays below C
    return (cdf <= u.unsqueeze(-1)).sum(-1)


class NaiveBayes(GenerativeModel):
    """Shared part of the Naive Bayes models: class prior, Bayes' rule, sampling, fitting.

    Subclasses give the per-class feature log-likelihood sum_d log p(x_d | y), its
    closed-form fit, and class-conditional feature samples.
    """

    likelihood = "exact"

    def __init__(self, info: DataInfo) -> None:
        super().__init__(info)
        if info.num_classes is None or info.num_classes < 1:
            raise ValueError(
                f"num_classes={info.num_classes}; Naive Bayes needs labelled data (>= 1 class)"
            )
        self.num_classes = info.num_classes
        # (K,) log pi up to a constant; -inf for classes absent from the fitted data
        self.prior_logits = nn.Parameter(torch.zeros(info.num_classes))

    @abstractmethod
    def class_log_likelihood(self, x: Tensor) -> Tensor:
        """(B, D) flat features -> (B, K) sum_d log p(x_d | y = k)."""

    @abstractmethod
    def _fit_features(self, x: Tensor, onehot: Tensor, counts: Tensor) -> None:
        """Closed-form feature parameters from x (N, D), onehot (N, K), counts (K,); float64."""

    @abstractmethod
    def _sample_features(self, y: Tensor, gen: torch.Generator | None) -> Tensor:
        """(n,) classes -> (n, D) features drawn from p(x | y), on y's device."""

    def _flatten(self, x: Tensor) -> Tensor:
        flat = x.reshape(len(x), -1)
        if flat.shape[1] != self.info.dim:
            raise ValueError(
                f"x has {flat.shape[1]} features per example; {self.info.name} has "
                f"{self.info.dim} (shape {self.info.shape})"
            )
        return flat.to(self.prior_logits.dtype)

    def log_prior(self) -> Tensor:
        """(K,) log pi_y."""
        return F.log_softmax(self.prior_logits, dim=0)

    def joint_log_prob(self, x: Tensor) -> Tensor:
        """(B, *shape) -> (B, K) log p(x, y = k) = log pi_k + sum_d log p(x_d | k)."""
        return self.log_prior() + self.class_log_likelihood(self._flatten(x))

    def log_prob(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """(B,) exact log p(x) = logsumexp_k log p(x, k), or log p(x, y) when y is given."""
        joint = self.joint_log_prob(x)
        if y is None:
            return torch.logsumexp(joint, dim=1)
        return joint.gather(1, y.long().reshape(-1, 1)).squeeze(1)

    def predict_log_proba(self, x: Tensor) -> Tensor:
        """(B, K) log p(y = k | x) by Bayes' rule."""
        return F.log_softmax(self.joint_log_prob(x), dim=1)

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        """(B,) int64 argmax_k p(y = k | x)."""
        return self.joint_log_prob(x).argmax(dim=1)

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """Negative log-likelihood per example: -mean log p(x, y), or -mean log p(x) without y.

        Diagnostics: "class_nll" = -mean log p(y | x), the classification loss the joint
        likelihood implies (only with labels).
        """
        joint = self.joint_log_prob(x)  # (B, K)
        log_px = torch.logsumexp(joint, dim=1)
        if y is None:
            return {"loss": -log_px.mean()}
        log_pxy = joint.gather(1, y.long().reshape(-1, 1)).squeeze(1)
        return {"loss": -log_pxy.mean(), "class_nll": (log_px - log_pxy).mean()}

    @torch.no_grad()
    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, *shape) draws of x | y; y = `cond` (n,) when given, else y ~ pi.

        The noise comes from `gen` on its device (else the global RNG of the model's device)
        and the result is moved to the model's device, so a CPU generator with a fixed seed
        gives the same samples wherever the model lives.
        """
        device = gen.device if gen is not None else self.device
        if cond is None:
            probs = self.log_prior().exp().to(device)
            u = torch.rand(n, generator=gen, device=device, dtype=probs.dtype)
            y = _inverse_cdf(probs.expand(n, -1), u)
        else:
            if cond.shape != (n,):
                raise ValueError(f"cond has shape {tuple(cond.shape)}; expected ({n},)")
            y = cond.long().to(device)
        x = self._sample_features(y, gen)  # (n, D)
        return x.to(self.device).reshape(n, *self.info.shape)

    @torch.no_grad()
    def fit_exact(self, x: Tensor, y: Tensor) -> NaiveBayes:
        """Set the smoothed maximum-likelihood parameters from x (N, *shape), y (N,); self.

        pi_y = N_y / N (the empirical prior); the feature parameters are the subclass's.
        Statistics are accumulated in float64 and stored in the parameters' dtype.
        """
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"x has {len(x)} examples and y {len(y)}; need the same, >= 1")
        flat = self._flatten(x).double()
        onehot = F.one_hot(y.long().to(flat.device), self.num_classes).double()  # (N, K)
        counts = onehot.sum(0)  # (K,)
        self.prior_logits.copy_((counts / counts.sum()).log())
        self._fit_features(flat, onehot, counts)
        return self


class GaussianNB(NaiveBayes):
    """x_d | y ~ N(mu_yd, sigma2_yd):  log p(x | y) = -1/2 sum_d [(x_d - mu_yd)^2 / sigma2_yd
    + log(2 pi sigma2_yd)].

    Fit: mu_yd and sigma2_yd are the class mean and (1/N_y) variance, every sigma2_yd plus
    epsilon = var_smoothing * max_d Var[x_d] (variance over all training examples).
    Works on any kind of data (it is the mismatched model for binary or categorical data).
    """

    def __init__(self, info: DataInfo, cfg: GaussianNBConfig | None = None) -> None:
        super().__init__(info)
        self.cfg = cfg or GaussianNBConfig()
        self.mu = nn.Parameter(torch.zeros(self.num_classes, info.dim))  # (K, D)
        self.log_var = nn.Parameter(torch.zeros(self.num_classes, info.dim))  # (K, D)

    def class_log_likelihood(self, x: Tensor) -> Tensor:
        return normal_log_prob(x.unsqueeze(1), self.mu, self.log_var).sum(-1)  # (B, K)

    def _fit_features(self, x: Tensor, onehot: Tensor, counts: Tensor) -> None:
        n_y = counts.clamp_min(1).unsqueeze(1)  # (K, 1); absent classes keep mu 0
        mu = onehot.T @ x / n_y  # (K, D)
        centred = x - mu[onehot.argmax(1)]  # (N, D), each example minus its class mean
        var = onehot.T @ centred**2 / n_y
        max_var = float(x.var(0, correction=0).max())
        epsilon = self.cfg.var_smoothing * (max_var if max_var > 0 else 1.0)
        var = torch.where(counts.unsqueeze(1) > 0, var + epsilon, torch.ones_like(var))
        self.mu.copy_(mu)
        self.log_var.copy_(var.log())

    def _sample_features(self, y: Tensor, gen: torch.Generator | None) -> Tensor:
        mu = self.mu.to(y.device)[y]  # (n, D)
        std = (0.5 * self.log_var.to(y.device)[y]).exp()
        return mu + std * torch.randn(mu.shape, generator=gen, device=y.device, dtype=mu.dtype)


class BernoulliNB(NaiveBayes):
    """x_d | y ~ Bernoulli(p_yd):  log p(x | y) = sum_d [x_d log p_yd + (1 - x_d) log(1 - p_yd)].

    Fit: p_yd = (N_yd + alpha) / (N_y + 2 alpha), N_yd the count of x_d = 1 in class y.
    Stored as logits log(p / (1 - p)). Needs kind "binary" (values 0/1).
    """

    def __init__(self, info: DataInfo, cfg: BernoulliNBConfig | None = None) -> None:
        if info.kind != "binary":
            raise ValueError(f"BernoulliNB needs kind 'binary'; {info.name} is {info.kind!r}")
        super().__init__(info)
        self.cfg = cfg or BernoulliNBConfig()
        # (K, D) log-odds of x_d = 1 given the class
        self.logits = nn.Parameter(torch.zeros(self.num_classes, info.dim))

    def class_log_likelihood(self, x: Tensor) -> Tensor:
        return x @ F.logsigmoid(self.logits).T + (1 - x) @ F.logsigmoid(-self.logits).T

    def _fit_features(self, x: Tensor, onehot: Tensor, counts: Tensor) -> None:
        alpha = self.cfg.alpha
        p = (onehot.T @ x + alpha) / (counts.unsqueeze(1) + 2 * alpha)  # (K, D)
        self.logits.copy_(p.log() - (-p).log1p())

    def _sample_features(self, y: Tensor, gen: torch.Generator | None) -> Tensor:
        p = torch.sigmoid(self.logits.to(y.device)[y])  # (n, D)
        u = torch.rand(p.shape, generator=gen, device=y.device, dtype=p.dtype)
        return (u < p).to(p.dtype)


class CategoricalNB(NaiveBayes):
    """x_d | y ~ Categorical(theta_yd) over levels 0..C-1:  log p(x | y) = sum_d log theta_yd[x_d].

    Fit: theta_ydc = (N_ydc + alpha) / (N_y + alpha C), N_ydc the count of x_d = c in class y
    (scikit-learn's CategoricalNB with min_categories = C). Stored as logits (K, D, C).
    Needs kind "categorical" with num_categories = C; values are rounded to the nearest level.
    """

    def __init__(self, info: DataInfo, cfg: CategoricalNBConfig | None = None) -> None:
        if info.kind != "categorical" or info.num_categories is None or info.num_categories < 2:
            raise ValueError(
                f"CategoricalNB needs kind 'categorical' with num_categories >= 2; {info.name} "
                f"is {info.kind!r} with num_categories={info.num_categories}"
            )
        super().__init__(info)
        self.cfg = cfg or CategoricalNBConfig()
        self.num_categories = info.num_categories
        # (K, D, C) log theta up to a constant per (k, d)
        self.logits = nn.Parameter(torch.zeros(self.num_classes, info.dim, self.num_categories))

    def _levels(self, x: Tensor) -> Tensor:
        levels = x.round().long()  # (B, D)
        if levels.numel() and (levels.min() < 0 or levels.max() >= self.num_categories):
            raise ValueError(
                f"x has levels {int(levels.min())}..{int(levels.max())}; "
                f"allowed 0..{self.num_categories - 1}"
            )
        return levels

    def class_log_likelihood(self, x: Tensor) -> Tensor:
        log_theta = F.log_softmax(self.logits, dim=-1).permute(1, 2, 0)  # (D, C, K)
        d = torch.arange(x.shape[1], device=x.device)
        return log_theta[d, self._levels(x)].sum(1)  # (B, D, K) -> (B, K)

    def _fit_features(self, x: Tensor, onehot: Tensor, counts: Tensor) -> None:
        levels = F.one_hot(self._levels(x), self.num_categories).double()  # (N, D, C)
        n_ydc = torch.einsum("nk,ndc->kdc", onehot, levels)
        alpha = self.cfg.alpha
        theta = (n_ydc + alpha) / (counts.reshape(-1, 1, 1) + alpha * self.num_categories)
        self.logits.copy_(theta.log())

    def _sample_features(self, y: Tensor, gen: torch.Generator | None) -> Tensor:
        theta = F.softmax(self.logits.to(y.device)[y], dim=-1)  # (n, D, C)
        u = torch.rand(theta.shape[:-1], generator=gen, device=y.device, dtype=theta.dtype)
        return _inverse_cdf(theta, u).to(theta.dtype)


FAMILIES = {
    "gaussian_nb": Family(
        GaussianNBConfig, GaussianNB, ("continuous",), "closed_form", "exact", "naive_bayes"
    ),
    "bernoulli_nb": Family(
        BernoulliNBConfig, BernoulliNB, ("binary",), "closed_form", "exact", "naive_bayes"
    ),
    "categorical_nb": Family(
        CategoricalNBConfig, CategoricalNB, ("categorical",), "closed_form", "exact", "naive_bayes"
    ),
}
