"""`kind: gen_zoo`: every generative family on every dataset with one budget, over seeds."""

from __future__ import annotations

from emergent.kinds.gen_zoo import config, report, run
from emergent.kinds.record import Kind

KIND = Kind(
    name="gen_zoo",
    summary="every generative family on every dataset with one budget, over seeds.",
    config=config.ZooExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="fd",
    preflight=run.preflight,
)
