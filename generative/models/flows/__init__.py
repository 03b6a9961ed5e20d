"""Normalizing flows with exact likelihoods: RealNVP, MAF and a neural spline flow (NSF).

Modules: `base` (change of variables, sampling, the logit map for dequantized data),
`layers` (ActNorm, couplings, MADE, the MAF layer), `spline` (rational-quadratic splines),
`realnvp`, `maf`, `nsf`.
"""

from __future__ import annotations

from generative.family import Family
from generative.models.flows.base import Flow
from generative.models.flows.maf import MAF, MAFConfig
from generative.models.flows.nsf import NSF, NSFConfig
from generative.models.flows.realnvp import RealNVP, RealNVPConfig

__all__ = [
    "FAMILIES",
    "MAF",
    "NSF",
    "Flow",
    "MAFConfig",
    "NSFConfig",
    "RealNVP",
    "RealNVPConfig",
]

KINDS = ("continuous", "dequantized")
FAMILIES = {
    "realnvp": Family(RealNVPConfig, RealNVP, KINDS, "gradient", "exact", "flow"),
    "maf": Family(MAFConfig, MAF, KINDS, "gradient", "exact", "flow"),
    "nsf": Family(NSFConfig, NSF, KINDS, "gradient", "exact", "flow"),
}
