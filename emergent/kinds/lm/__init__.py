"""`kind: lm`: a ladder of language models on one corpus, measured exactly on held-out text."""

from __future__ import annotations

from emergent.kinds.lm import config, report, run
from emergent.kinds.record import Kind

KIND = Kind(
    name="lm",
    summary="a ladder of language models on one corpus, measured exactly on held-out text.",
    config=config.LMExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="val_nats_per_char",
    preflight=run.preflight,
)
