"""`kind: pair_curves`: Naive Bayes against logistic regression as the training set grows."""

from __future__ import annotations

from emergent.kinds.pair_curves import config, report, run
from emergent.kinds.record import Kind

KIND = Kind(
    name="pair_curves",
    summary="Naive Bayes against logistic regression as the training set grows.",
    config=config.PairExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="lr_error",
)
