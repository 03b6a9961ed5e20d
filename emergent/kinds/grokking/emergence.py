"""What a grokking run's Emergence section looks at: per weight decay, the train and validation
accuracy and the validation loss of every seed against the epoch (searched on a log scale: the
delay spans decades), validation accuracy paired with validation loss (Schaeffer et al. 2023),
and whether generalisation is a transition of its own, well after memorisation (grokking), or
comes with it (the control)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emergent.emergence import Analysis, Curve
from emergent.kinds.grokking.config import GrokkingExperiment
from emergent.kinds.grokking.report import CONTROL_RATIO, cell_dir
from emergent.kinds.grokking.run import GENERALISED
from emergent.logger import read_rows
from emergent.metrics import transitions as tr

DELAYED = CONTROL_RATIO
"""A validation-accuracy transition whose midpoint lies at least this many times later than the
train-accuracy transition's is generalisation of its own, after memorisation: grokking (the
issue's control must generalise within 5x of memorising)."""
METRICS = {
    "train_acc": ("train accuracy", "all_or_nothing"),
    "val_acc": ("validation accuracy", "all_or_nothing"),
    "val_loss": ("validation loss", "continuous"),
}


def analysis(run_dir: Path, cfg: GrokkingExperiment) -> Analysis | None:
    curves, claims = [], []
    for wd in cfg.weight_decays:
        by_seed = {
            s: read_rows(cell_dir(run_dir, wd, s) / "metrics.jsonl") for s in cfg.trial_seeds
        }
        for seed, rows in by_seed.items():
            rows = [r for r in rows if r.get("kind") == "train" and r.get("step", 0) > 0]
            for key, (label, measure) in METRICS.items():
                points = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), float)]
                if points:
                    x, y = zip(*points, strict=True)
                    name, title = f"{key} wd{wd:g}", f"{label}, weight decay {wd:g}"
                    curves.append(Curve(name, title, x, y, run=f"seed {seed}",
                                        measure=measure, log_x=True))  # fmt: skip
        claims.append(delay_claim(wd, [c for c in curves if c.metric.endswith(f" wd{wd:g}")]))
    if not curves:
        return None
    pairs = [(f"val_acc wd{wd:g}", f"val_loss wd{wd:g}") for wd in cfg.weight_decays]
    return Analysis(curves, x_label="epoch", pairs=pairs, verdict=claims[0], claims=claims[1:])


def epochs_of(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values)


def delay_claim(wd: float, curves: list[Curve]) -> str:
    """Grokking or not at one weight decay: each seed's validation-accuracy transition against
    its train-accuracy transition (midpoints, on the log-epoch fit)."""
    delays, epochs, ends, marks = [], [], [], []
    seeds = sorted({c.run for c in curves})
    for seed in seeds:
        found = {}
        for c in curves:
            if c.run == seed and c.metric.split()[0] in ("train_acc", "val_acc"):
                x, y = np.log10(np.asarray(c.x, float)), np.asarray(c.y, float)
                t = tr.main_transition(x, y)
                found[c.metric.split()[0]] = None if t is None or t.direction < 0 else t
        train, val = found.get("train_acc"), found.get("val_acc")
        if train is not None and val is not None:
            delay = 10 ** (val.midpoint - train.midpoint)
            if delay >= DELAYED:
                delays.append(delay)
                epochs.append(10**val.midpoint)
                ends.append(10**val.end)
                (acc,) = [c for c in curves if c.run == seed and c.metric.startswith("val_acc")]
                marks.append(next((x for x, y in zip(acc.x, acc.y, strict=True)
                                   if y >= GENERALISED), float("nan")))  # fmt: skip
    if len(delays) == len(seeds) and seeds:
        return (
            f"**Grokking at weight decay {wd:g}**: in every seed validation accuracy rises in a "
            f"transition of its own, {min(delays):.0f}× to {max(delays):.0f}× later than train "
            f"accuracy (midpoints at epochs {epochs_of(epochs)}); it is complete at epochs "
            f"{epochs_of(ends)} (the first epochs with validation accuracy at "
            f"{GENERALISED:.0%} or more: {epochs_of(marks)})."
        )
    if not delays:
        return (
            f"Weight decay {wd:g}: no delayed transition; validation accuracy rises with train "
            f"accuracy (within {DELAYED:g}×) or not at all."
        )
    return (
        f"Weight decay {wd:g}: a delayed validation transition in {len(delays)} of {len(seeds)} "
        "seeds only."
    )
