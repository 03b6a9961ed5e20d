"""`kind: generative`: one model of `generative/` on one embedded dataset."""

from __future__ import annotations

from emergent.kinds.generative import config, report, run
from emergent.kinds.record import Kind

KIND = Kind(
    name="generative",
    summary="one model of `generative/` on one embedded dataset.",
    config=config.GenerativeExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="nll",
    preflight=run.preflight,
)
