"""`kind: world_model`: a generative world model of a grid world (`agents.world_models`: World
Models' VAE + MDN-RNN or DIAMOND's diffusion), trained on recorded experience and measured on
held-out experience: open-loop errors, rewards, samplers, throughput, real and imagined GIFs."""

from __future__ import annotations

from emergent.kinds.record import Kind
from emergent.kinds.world_model import config, emergence, report, run

KIND = Kind(
    name="world_model",
    summary="a world model of a grid world: open-loop error, rewards, the dream it makes.",
    config=config.WorldModelExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="one_step_reduction",
    preflight=run.preflight,
    emergence=emergence.analysis,
)
