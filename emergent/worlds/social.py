"""The social outcomes of Perolat et al. 2017, shared by the worlds whose agents harvest and tag
(Commons Harvest, Cleanup): definitions, labels and the metric function."""

from __future__ import annotations

import numpy as np

from emergent.metrics.social import social_outcomes


def social(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    return social_outcomes(rewards, events["removed"])


SOCIAL = ("efficiency", "equality", "sustainability", "peace")
SOCIAL_LABELS = {
    "efficiency": "Efficiency U (reward / step)",
    "equality": "Equality E (1 − Gini)",
    "sustainability": "Sustainability S (mean reward time)",
    "peace": "Peace P (agents in play / step)",
}
SOCIAL_EXPLANATION = (
    "Efficiency U = Σ_i R_i / T; equality E = 1 − Σ_i Σ_j |R_i − R_j| / (2N Σ_i R_i); "
    "sustainability S = mean over agents of the mean time step of their rewards; "
    "peace P = (N·T − Σ_i Σ_t 1[i tagged out at t]) / T. Measured on the evaluation episodes."
)
