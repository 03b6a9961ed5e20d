"""What an induction-head run's Emergence section looks at: the in-context score, the held-out
loss and the best head's prefix matching of the model and of its one-layer control against the
training step; the jump is claimed when the model's in-context score has a transition and the
control's has none (Olsson et al. 2022)."""

from __future__ import annotations

from pathlib import Path

from emergent.emergence import Analysis, Curve
from emergent.kinds.induction_heads.config import InductionExperiment
from emergent.kinds.induction_heads.report import LABELS
from emergent.logger import read_rows
from emergent.metrics import transitions as tr

CONTROL_SHARE = 0.1
"""A control whose largest transition is below this share of the model's jump does not jump."""
METRICS = {
    "in_context": "in-context score (nats)",
    "best_prefix_matching": "best head's prefix matching",
    "loss": "held-out loss (nats)",
}


def analysis(run_dir: Path, cfg: InductionExperiment) -> Analysis | None:
    curves = []
    for label in LABELS:
        rows = [r for r in read_rows(run_dir / "models" / label / "metrics.jsonl")
                if r.get("kind") == "eval"]  # fmt: skip
        for key, title in METRICS.items():
            points = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), float)]
            if points:
                x, y = zip(*points, strict=True)
                curves.append(Curve(key, title, x, y, run=label))
    if not curves:
        return None
    return Analysis(curves, x_label="step", verdict=verdict(curves))


def verdict(curves: list[Curve]) -> str:
    """The jump of the model's in-context score against the control's curve."""
    found = {}
    for c in curves:
        if c.metric == "in_context":
            found[c.run] = tr.main_transition(c.x, c.y)
    model, control = found.get("model"), found.get("control")
    if model is None or model.direction > 0:
        return "No induction-head jump: the model's in-context score has no falling transition."
    text = (
        f"**Induction heads form in a jump**: the model's in-context score falls from "
        f"{model.before:.2f} to {model.after:.2f} nats between steps {model.onset:,.0f} and "
        f"{model.end:,.0f}"
    )
    if "control" not in found:
        return text + "."
    if control is None:
        return text + "; its one-layer control shows no transition."
    share = abs(control.jump / model.jump)
    if share < CONTROL_SHARE:
        return (
            text + f"; its one-layer control moves only {control.jump:+.2f} nats ({share:.0%} of "
            "the model's jump)."
        )
    return text + f"; the one-layer control changes too ({control.jump:+.2f} nats, {share:.0%})."
