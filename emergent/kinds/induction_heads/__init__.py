"""`kind: induction_heads`: a two-layer attention-only transformer and its one-layer control on
repeated random tokens; the in-context score's jump and each head's prefix matching."""

from __future__ import annotations

from emergent.kinds.induction_heads import config, emergence, report, run
from emergent.kinds.record import Kind

KIND = Kind(
    name="induction_heads",
    summary="an attention-only transformer and its one-layer control: the in-context jump.",
    config=config.InductionExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="best_prefix_matching",
    preflight=run.preflight,
    emergence=emergence.analysis,
)
