"""Config of the generative–discriminative pair experiment (`kind: pair_curves`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from emergent.config import check_range, check_seed, from_dict, plain, run_name
from emergent.modelspec import check_dataset


@dataclass(frozen=True)
class PairExperiment:
    """Ng & Jordan (2002): Naive Bayes against logistic regression as the train set grows."""

    name: str
    datasets: tuple[str, ...] = ("breast_cancer", "wine", "digits_tabular", "digits_binary")
    sizes: tuple[int, ...] = ()
    """Training-set sizes m; empty = about 10 sizes log-spaced from 2 per class to the full set."""
    seeds: int = 10
    C: float = 1.0
    """Inverse L2 strength of logistic regression (scikit-learn's convention)."""
    seed: int = 0
    kind: str = "pair_curves"

    def __post_init__(self) -> None:
        if self.seeds < 2:
            raise ValueError(f"seeds={self.seeds}; need at least 2 for confidence bands")
        check_range("seeds", self.seeds, 2, 10_000, "random training subsets per size")
        if any(not 2 <= m <= 1_000_000 for m in self.sizes) or len(self.sizes) > 1_000:
            raise ValueError(
                f"sizes={list(self.sizes)}; at most 1,000 sizes, each from 2 to 1,000,000"
            )
        if not 0 < self.C <= 1e12:
            raise ValueError(f"C={self.C}; must be positive and at most 1e12")


def parse(raw: dict) -> PairExperiment:
    raw = {k: v for k, v in raw.items() if k != "kind"}
    run_name(raw)
    check_seed(raw.get("seed", 0))
    for data in raw.get("datasets", []) or []:
        check_dataset(data, "datasets")
    return from_dict(PairExperiment, raw, "pair_curves")


def to_dict(cfg: PairExperiment) -> dict:
    return {"kind": cfg.kind, **plain(dataclasses.asdict(cfg))}
