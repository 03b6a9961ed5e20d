"""`kind: diffusion`: pixel and latent diffusion on the digits, DDPM on the 2-D toys."""

from __future__ import annotations

from emergent.kinds.diffusion import config, report, run
from emergent.kinds.record import Kind

KIND = Kind(
    name="diffusion",
    summary="pixel and latent diffusion on the digits, DDPM on the 2-D toys.",
    config=config.DiffusionExperiment,
    parse=config.parse,
    to_dict=config.to_dict,
    trials=run.trials,
    finish=run.finish,
    results=run.results,
    report=report.build,
    metric="fd",
    preflight=run.preflight,
)
