"""`kind: grokking`: (a + b) mod p learnt full batch, memorisation long before generalisation.

Power et al. 2022 ("Grokking: generalization beyond overfitting on small algorithmic datasets",
arXiv:2201.02177) found that a small network trained on part of a modular-arithmetic table
fits its training pairs early and generalises to the rest only much later, and that weight
decay drives the delay; Nanda et al. 2023 ("Progress measures for grokking via mechanistic
interpretability", arXiv:2301.05217) read the algorithm the network then uses in the Fourier
structure of its embeddings. Each trial trains one model (`mlp` or `transformer`) with
full-batch AdamW at one weight decay and one seed; the report gives the epochs of memorisation
and generalisation, their ratio per weight decay, and the embeddings' Fourier power.
"""

from __future__ import annotations

from emergent.kinds.grokking import config, emergence, report, run
from emergent.kinds.record import Kind

KIND = Kind(
    name="grokking",
    summary="(a + b) mod p full batch: memorisation, then generalisation, per weight decay.",
    config=config.GrokkingExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="ratio",
    preflight=run.preflight,
    emergence=emergence.analysis,
)
