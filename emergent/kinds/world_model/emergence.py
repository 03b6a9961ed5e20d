"""What a world-model run's Emergence section looks at. With a dream: the dream gap, the return
a dream-trained policy is promised in the dream against what it gets in the real world, beside
the real-trained learner's curve (searched for its transition) and random play; without one:
the training losses of each stage, and how far ahead the model imagines better than copying."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emergent import cells, emergence
from emergent.emergence import Analysis, Curve
from emergent.kinds.world_model.config import WorldModelExperiment
from emergent.kinds.world_model.dream_report import interval, read
from emergent.kinds.world_model.report import read_result


def analysis(run_dir: Path, cfg: WorldModelExperiment) -> Analysis | None:
    if cfg.dream is not None:
        return dream_gap(run_dir, cfg)
    found = emergence.losses(run_dir, cfg)
    result = read_result(run_dir / cells.RESULT)
    if found is None or result is None:
        return found
    errors, copy = result["errors"]["model"], result["errors"]["copy_last"]
    model = np.asarray(next(iter(errors.values())))
    ahead = int(np.argmax(model >= np.asarray(copy))) if (model >= copy).any() else len(copy)
    found.verdict = (
        f"The model's one-step error is {result['one_step_reduction']:.0%} below copying the "
        "last frame's"
        + (
            f", and stays closer for all {len(copy)} steps imagined ahead"
            if ahead == len(copy)
            else f", for {ahead} steps ahead"
        )  # fmt: skip
        + f"; with shuffled actions its error is {result['shuffled_over_real']:.2f}× as large."
    )
    return found


def dream_gap(run_dir: Path, cfg: WorldModelExperiment) -> Analysis | None:
    d = cfg.dream
    dreams = {s: read(run_dir / "dream" / f"seed{s}" / cells.RESULT) for s in d.seeds}
    reals = {s: read(run_dir / "real" / f"seed{s}" / cells.RESULT) for s in d.seeds}
    done = {s: r for s, r in dreams.items() if r is not None}
    if not done:
        return None
    curves = [reference(ref["curve"], s) for s, ref in reals.items() if ref and ref.get("curve")]
    real = [r["real_return"] for r in done.values()]
    dream = [r["dream_return"] for r in done.values()]
    rand = [r["random_return"] for r in done.values()]
    gap = [a - b for a, b in zip(dream, real, strict=True)]
    verdict = (
        f"**The dream gap**: trained only in the dream, the policy is promised "
        f"{interval(dream)} there and gets {interval(real)} in the real world (random play "
        f"{interval(rand)}); the dream overrates it by {interval(gap)} per episode."
    )
    table = {
        "title": "The dream against the world",
        "columns": ["seed", "real agent-steps", "return in the dream", "in the real world",
                    "random play"],
        "rows": [[str(s), f"{r['real_agent_steps']:,}", f"{r['dream_return']:.1f}",
                  f"{r['real_return']:.1f}", f"{r['random_return']:.1f}"]
                 for s, r in done.items()],
    }  # fmt: skip
    extra = {"dream_gap": {"dream": dream, "real": real, "random": rand}}
    return Analysis(curves, "real agent-steps", verdict=verdict, table=table, extra=extra)


def reference(curve: list[dict], seed: int) -> Curve:
    """The real-trained learner's real return against its agent-steps."""
    x = [r["agent_steps"] for r in curve]
    y = [r["real_return"] for r in curve]
    return Curve("real_return", "real return, trained in the world", x, y, run=f"seed {seed}")
