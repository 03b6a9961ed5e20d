"""Normalizing flows with exact likelihoods: RealNVP, MAF and a neural spline flow (NSF).

Modules: `base` (change of variables, sampling, the logit map for dequantized data),
`layers` (ActNorm, couplings, MADE, the MAF layer), `spline` (rational-quadratic splines),
`realnvp`, `maf`, `nsf`.
"""

from __future__ import annotations

from generative.models.flows.base import Flow
from generative.models.flows.maf import MAF, MAFConfig
from generative.models.flows.nsf import NSF, NSFConfig
from generative.models.flows.realnvp import RealNVP, RealNVPConfig

__all__ = [
    "MAF",
    "MODELS",
    "NSF",
    "Flow",
    "MAFConfig",
    "NSFConfig",
    "RealNVP",
    "RealNVPConfig",
]

MODELS = {
    "realnvp": (RealNVPConfig, RealNVP),
    "maf": (MAFConfig, MAF),
    "nsf": (NSFConfig, NSF),
}
