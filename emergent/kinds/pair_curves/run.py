"""The generative–discriminative pair experiment: Ng & Jordan (2002) learning curves.

For each dataset: Naive Bayes of the variant that matches the data's type, logistic
regression (L2), and, where another variant is defined, the mismatched Naive Bayes for
contrast; test error against the training-set size m over several random subsets per m.
Results go to `pair/<dataset>.json` in the run directory, one file per finished dataset, so
a resumed run continues with the next dataset.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from emergent import rundir
from emergent.kinds.pair_curves.config import PairExperiment
from emergent.kinds.pair_curves.report import build
from emergent.modelfit import load_data
from emergent.sweep.trial import Trial
from generative import pair
from generative.models.logistic import LogisticConfig


def trials(cfg: PairExperiment, run_dir: Path) -> list[Trial]:
    """One trial per dataset, its curves in `pair/<dataset>.json`."""
    return [
        Trial(
            name,
            lambda name=name: (run_dir / "pair" / f"{name}.json").is_file(),
            lambda quiet, on_result, name=name: curves(cfg, name, run_dir, quiet),
        )
        for name in cfg.datasets
    ]


def finish(cfg: PairExperiment, run_dir: Path, quiet: bool) -> None:
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """Per dataset: the final test errors of both models and where their curves cross; their
    means over datasets as `nb_error` and `lr_error`."""
    found: dict[str, float] = {}
    for path in sorted((run_dir / "pair").glob("*.json")):
        result = json.loads(path.read_text())
        name, summary = result["dataset"], result["summary"]
        found[f"{name}/nb_error"] = summary["nb"]["mean"][-1]
        found[f"{name}/lr_error"] = summary["lr"]["mean"][-1]
        if result["crossing"]["m"] is not None:
            found[f"{name}/crossing"] = float(result["crossing"]["m"])
    for model in ("nb", "lr"):
        errors = [v for k, v in found.items() if k.endswith(f"/{model}_error")]
        if errors:
            found[f"{model}_error"] = sum(errors) / len(errors)
    return found


def curves(cfg: PairExperiment, name: str, run_dir: Path, quiet: bool = False) -> None:
    """Test error against m for one dataset: Naive Bayes, logistic regression, the mismatched
    Naive Bayes where one is defined."""
    folder = run_dir / "pair"
    folder.mkdir(exist_ok=True)
    out = folder / f"{name}.json"
    began = time.perf_counter()
    data = load_data(name, cfg.seed)
    x_train = torch.cat([data.train, data.val]).double().flatten(1)
    y_train = torch.cat([data.train_labels, data.val_labels])
    x_test, y_test = data.test.double().flatten(1), data.test_labels
    sizes = list(cfg.sizes) or pair.default_sizes(len(x_train), count=10)
    sizes = [m for m in sizes if m <= len(x_train)]
    models = pair.default_models(data.info, LogisticConfig(C=cfg.C))
    result = pair.learning_curves(x_train, y_train, x_test, y_test, models, sizes, cfg.seeds)
    result["dataset"] = name
    result["kind"] = data.info.kind
    result["nb_variant"] = type(models["nb"]()).__name__
    if "nb_mismatched" in models:
        result["nb_mismatched_variant"] = type(models["nb_mismatched"]()).__name__
    result["difference_nb_lr"] = pair.difference(result, "nb", "lr")
    cross = pair.crossing(sizes, result["summary"]["nb"]["mean"], result["summary"]["lr"]["mean"])
    result["crossing"] = {"m": cross.m, "below": cross.below}
    result["wall_seconds"] = time.perf_counter() - began
    rundir.write_text_atomic(out, json.dumps(result))
    if not quiet:
        print(f"[{cfg.name}] {name}: {result['wall_seconds']:.1f} s", file=sys.stderr)
