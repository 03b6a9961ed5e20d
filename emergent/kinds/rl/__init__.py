"""`kind: rl` (the default): learners trained in a world, its emergence measured over training."""

from __future__ import annotations

from emergent.kinds.record import Kind
from emergent.kinds.rl import config, emergence, report, run

KIND = Kind(
    name="rl",
    summary="(the default) learners trained in a world, their emergence measured over training.",
    config=config.ExperimentConfig,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="return",
    preflight=run.preflight,
    emergence=emergence.analysis,
)
