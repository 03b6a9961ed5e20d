"""The social outcomes of Perolat et al. 2017, shared by the worlds whose agents harvest and tag
(Commons Harvest, Cleanup): definitions, labels and the metric function; and what their agents
say on the optional cheap-talk channel (`talk`)."""

from __future__ import annotations

import numpy as np

from emergent.metrics.communication import message_entropy, mutual_information
from emergent.metrics.social import social_outcomes

TALK_EVENT = "token"
"""The event of a world with cheap talk: the token an agent said + 1, 0 when it said nothing."""


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


def talk(events: dict[str, np.ndarray], about: str) -> dict[str, float]:
    """What the agents said on the cheap-talk channel, where the episodes have one ({} if not).

    token_entropy = H(k) = - sum_k p(k) log2 p(k) over every token said (bits): log2 V for
    uniform babble, 0 for one word repeated. token_information = I(k; e) = H(k) + H(e) - H(k, e)
    between the token an agent says and whether its own event `about` happened in the same step
    (bits): a token that tells others what its speaker is doing (positive signalling, Lowe et
    al. 2019) has I > 0; 0 when tokens ignore it. Plug-in estimates
    (`emergent.metrics.communication`), biased upwards on few steps.

    Args:
        events: {name: (B, T, A)} with "token" (token + 1, 0 when silent) and `about`.
        about: the event the token may be about ("apples", "clean_beams", ...).
    """
    if TALK_EVENT not in events:
        return {}
    tokens = np.asarray(events[TALK_EVENT])
    spoken = tokens > 0
    if not spoken.any():
        return {"token_entropy": float("nan"), "token_information": float("nan")}
    said = (tokens[spoken] - 1).reshape(-1, 1)  # (N, 1)
    happened = (np.asarray(events[about])[spoken] > 0).reshape(-1, 1)  # (N, 1)
    return {
        "token_entropy": message_entropy(said),
        "token_information": mutual_information(happened, said),
    }


TALK_LABELS = {
    "token_entropy": "Token entropy H(k) (bits)",
    "token_information": "I(token; own event) (bits)",
}
