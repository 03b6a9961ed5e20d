"""`kind: communication`: a speaker and a listener (`agents.talking`) on the Signalling world
with held-out objects, trained by the Gumbel-softmax channel or PPO and measured in the world;
with grounding, the speaker starts from a language model of Shakespeare (one trial per beta)."""

from __future__ import annotations

from emergent.kinds.communication import config, report, run
from emergent.kinds.record import Kind

KIND = Kind(
    name="communication",
    summary="talking agents on Signalling: success, held-out objects, language, CIC.",
    config=config.CommunicationExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="success_train",
    preflight=run.preflight,
)
