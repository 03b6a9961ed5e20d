"""`kind: scale_metrics`: is emergence with scale in the models or in the metric?

Schaeffer, Miranda & Koyejo 2023 ("Are Emergent Abilities of Large Language Models a Mirage?",
arXiv:2304.15004) argue that most abilities said to emerge suddenly with scale are made by
all-or-nothing metrics: exact match needs every token of an answer right, so a smooth gain in
per-token accuracy p shows as a jump in about p^L. Here transformers of five or more sizes are
trained for the same budget on the same k-digit addition problems (one trial per size and
seed, run one after another by `emergent run` or as parallel Ray Tune trials by
`emergent sweep`); each is measured on held-out problems by exact match of its greedy answer,
per-token cross-entropy, digit accuracy and edit distance, and the report sets exact match
beside the continuous metrics against the parameter count and says, from the numbers, whether
exact match jumps while the cross-entropy improves smoothly.
"""

from __future__ import annotations

from emergent.kinds.record import Kind
from emergent.kinds.scale_metrics import config, report, run

KIND = Kind(
    name="scale_metrics",
    summary="transformers of 5+ sizes on k-digit addition: exact match vs per-token metrics.",
    config=config.ScaleMetricsExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="exact_match_steepness",
    preflight=run.preflight,
)
