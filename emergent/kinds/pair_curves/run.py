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
from emergent.gen_config import PairExperiment
from emergent.gen_runner import load_data
from generative import pair
from generative.models.logistic import LogisticConfig


def run(cfg: PairExperiment, run_dir: Path, quiet: bool = False) -> None:
    folder = run_dir / "pair"
    folder.mkdir(exist_ok=True)
    for name in cfg.datasets:
        out = folder / f"{name}.json"
        if out.is_file():
            continue
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
        cross = pair.crossing(
            sizes, result["summary"]["nb"]["mean"], result["summary"]["lr"]["mean"]
        )
        result["crossing"] = {"m": cross.m, "below": cross.below}
        result["wall_seconds"] = time.perf_counter() - began
        rundir.write_text_atomic(out, json.dumps(result))
        if not quiet:
            print(f"[{cfg.name}] {name}: {result['wall_seconds']:.1f} s", file=sys.stderr)
