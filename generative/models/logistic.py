"""Multinomial logistic regression: the discriminative half of the generative-discriminative pair.

p(y = k | x) = softmax_k(W z + b),   z = (x - shift) / scale,

fitted by full-batch L-BFGS to the minimiser of scikit-learn's objective (C = 1 by default)

    C sum_i -log p(y_i | x_i) + 1/2 ||W||_F^2      (no penalty on the intercept b).

It models p(y | x) only, so it is a plain `nn.Module` classifier, not a `GenerativeModel`: it
has no likelihood of x and cannot sample.

Conventions, chosen to match scikit-learn's `LogisticRegression(C=C)` exactly:

- K >= 3 classes present: the full (over-parametrised) softmax with all K rows penalised.
- 2 classes present: one logistic model w, c (logit of the second class), penalised 1/2 ||w||^2,
  stored as W = [0; w], b = [0, c]. (A 2-row softmax would halve the effective penalty.)
- Classes absent from the fitted data get b_k = -inf: never predicted, as scikit-learn, which
  only knows the classes it saw. One class present: it is always predicted.
- `standardize=True` (the default): z-scores with the training mean and (1/N) standard
  deviation, constant features left unscaled, as `sklearn.preprocessing.StandardScaler`. The
  Ng & Jordan comparison uses it because an L2 penalty on raw features (breast cancer spans
  1e-3..1e3) penalises features by their units, and L-BFGS then needs far more iterations.
  A reference in scikit-learn is `make_pipeline(StandardScaler(), LogisticRegression(C=C))`.

References:
    Ng & Jordan 2002, "On discriminative vs. generative classifiers: a comparison of logistic
    regression and naive Bayes", NeurIPS 14.
    Liu & Nocedal 1989, "On the limited memory BFGS method for large scale optimization".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.config_checks import check_float, check_int
from generative.data import DataInfo

__all__ = ["MODELS", "LogisticConfig", "LogisticRegression"]

TOLERANCE_GRAD = 1e-9
"""L-BFGS stops when max |gradient| of the per-example objective (above / (C N)) is below."""


@dataclass(frozen=True)
class LogisticConfig:
    """Settings of `LogisticRegression`."""

    C: float = 1.0
    """Inverse L2 strength: minimise C sum_i NLL_i + 1/2 ||W||^2 (scikit-learn's C); finite and
    > 0."""
    max_iter: int = 1000
    """L-BFGS iterations at most (a warning says when they run out); 1 to 1,000,000, a
    thousand times the default, which converges on every dataset here."""
    standardize: bool = True
    """Z-score features with the training mean and standard deviation before the linear map."""

    def __post_init__(self) -> None:
        check_float("C", self.C, 0.0, open_low=True)
        check_int("max_iter", self.max_iter, 1, 1_000_000)


class LogisticRegression(nn.Module):
    """L2-regularised multinomial logistic regression on flattened inputs (D = info.dim)."""

    def __init__(self, info: DataInfo, cfg: LogisticConfig | None = None) -> None:
        super().__init__()
        if info.num_classes is None or info.num_classes < 1:
            raise ValueError(f"num_classes={info.num_classes}; logistic regression needs labels")
        self.info = info
        self.cfg = cfg or LogisticConfig()
        self.num_classes = info.num_classes
        self.weight = nn.Parameter(torch.zeros(self.num_classes, info.dim))  # W (K, D)
        self.bias = nn.Parameter(torch.zeros(self.num_classes))  # b (K,)
        self.register_buffer("shift", torch.zeros(info.dim))  # (D,)
        self.register_buffer("scale", torch.ones(info.dim))  # (D,)
        self.iterations = 0  # L-BFGS iterations of the last fit_exact

    def _flatten(self, x: Tensor) -> Tensor:
        flat = x.reshape(len(x), -1)
        if flat.shape[1] != self.info.dim:
            raise ValueError(
                f"x has {flat.shape[1]} features per example; {self.info.name} has "
                f"{self.info.dim} (shape {self.info.shape})"
            )
        return flat

    def forward(self, x: Tensor) -> Tensor:
        """(B, *shape) -> (B, K) logits W z + b."""
        z = (self._flatten(x).to(self.weight.dtype) - self.shift) / self.scale
        return z @ self.weight.T + self.bias

    def predict_log_proba(self, x: Tensor) -> Tensor:
        """(B, K) log p(y = k | x)."""
        return F.log_softmax(self(x), dim=1)

    @torch.no_grad()
    def predict(self, x: Tensor) -> Tensor:
        """(B,) int64 argmax_k p(y = k | x)."""
        return self(x).argmax(dim=1)

    def fit_exact(self, x: Tensor, y: Tensor) -> LogisticRegression:
        """Minimise C sum_i NLL_i + 1/2 ||W||^2 on x (N, *shape), y (N,) by L-BFGS; self.

        The optimisation runs in float64 on the parameters' device, from W = 0, b = 0
        (deterministic, no warm start), with a strong-Wolfe line search.
        """
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"x has {len(x)} examples and y {len(y)}; need the same, >= 1")
        device = self.weight.device
        flat = self._flatten(x).to(device=device, dtype=torch.float64)  # (N, D)
        y = y.long().to(device)
        shift = torch.zeros(flat.shape[1], dtype=torch.float64, device=device)
        scale = torch.ones_like(shift)
        if self.cfg.standardize:
            shift = flat.mean(0)
            std = flat.std(0, correction=0)
            scale = torch.where(std > 0, std, torch.ones_like(std))
        z = (flat - shift) / scale
        present = torch.unique(y)  # sorted class ids
        weight = torch.zeros(self.num_classes, flat.shape[1], dtype=torch.float64, device=device)
        bias = torch.full((self.num_classes,), -torch.inf, dtype=torch.float64, device=device)
        self.iterations = 0
        if len(present) == 1:
            bias[present] = 0.0
        elif len(present) == 2:
            w, c = self._lbfgs(z, (y == present[1]).double(), outputs=1)
            weight[present[1]] = w[0]
            bias[present[0]], bias[present[1]] = 0.0, c[0]
        else:
            index = torch.searchsorted(present, y)  # y relabelled 0..P-1
            w, c = self._lbfgs(z, index, outputs=len(present))
            weight[present], bias[present] = w, c
        with torch.no_grad():
            self.weight.copy_(weight)
            self.bias.copy_(bias)
            self.shift.copy_(shift)
            self.scale.copy_(scale)
        return self

    def _lbfgs(self, z: Tensor, target: Tensor, outputs: int) -> tuple[Tensor, Tensor]:
        """(W (P, D), b (P,)) minimising [sum_i NLL_i + ||W||^2 / (2C)] / N from zero.

        outputs = 1: binary logistic loss with target (N,) in {0, 1}; else softmax
        cross-entropy with target (N,) in 0..P-1.
        """
        n = len(z)
        w = torch.zeros(outputs, z.shape[1], dtype=z.dtype, device=z.device, requires_grad=True)
        c = torch.zeros(outputs, dtype=z.dtype, device=z.device, requires_grad=True)
        opt = torch.optim.LBFGS(
            [w, c],
            lr=1.0,
            max_iter=self.cfg.max_iter,
            max_eval=2 * self.cfg.max_iter,
            tolerance_grad=TOLERANCE_GRAD,
            tolerance_change=1e-12,
            history_size=10,
            line_search_fn="strong_wolfe",
        )

        def objective() -> Tensor:
            opt.zero_grad()
            logits = z @ w.T + c  # (N, P)
            if outputs == 1:
                nll = F.binary_cross_entropy_with_logits(logits[:, 0], target, reduction="sum")
            else:
                nll = F.cross_entropy(logits, target, reduction="sum")
            loss = (nll + 0.5 * (w**2).sum() / self.cfg.C) / n
            loss.backward()
            return loss

        with torch.enable_grad():
            opt.step(objective)
        self.iterations = int(opt.state[w]["n_iter"])
        if self.iterations >= self.cfg.max_iter:
            warnings.warn(
                f"LogisticRegression: L-BFGS used all max_iter={self.cfg.max_iter} iterations "
                "without converging; raise max_iter or standardize the features",
                RuntimeWarning,
                stacklevel=3,
            )
        return w.detach(), c.detach()


MODELS = {"logistic": (LogisticConfig, LogisticRegression)}
