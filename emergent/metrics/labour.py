"""Division of labour: who cleans and who eats in a public-goods world such as Cleanup.

In Cleanup (Hughes et al. 2018, "Inequity aversion improves cooperation in intertemporal
social dilemmas", NeurIPS) apples grow only while somebody cleans the river, and only eating
is rewarded. Groups that do well often split into cleaners and eaters; these functions
measure that split from an episode log alone.

Every function takes per-agent totals of one or many episodes with shape (..., A), or per-step
logs (..., T, A) where it says so, and returns one value per episode (...). With c_i the waste
agent i cleaned, e_i the apples it ate, C = sum_i c_i and E = sum_i e_i:
    cleaning share  s_i = c_i / C,   eating share  t_i = e_i / E.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def labour_totals(
    events: Mapping[str, np.ndarray], clean: str = "cleaned", eat: str = "apples"
) -> tuple[np.ndarray, np.ndarray]:
    """Per-agent totals of cleaning and eating over each episode.

    Args:
        events: per-step counters, at least `clean` and `eat`, each (..., T, A).
        clean: the event counting units of cleaning work (Cleanup: waste cells removed).
        eat: the event counting units of consumption (Cleanup: apples eaten).
    Returns:
        c, e: (..., A) float64 each.
    """
    missing = [k for k in (clean, eat) if k not in events]
    if missing:
        raise KeyError(f"labour metrics need events {missing}; got {sorted(events)}")
    c = np.asarray(events[clean], dtype=np.float64).sum(axis=-2)
    e = np.asarray(events[eat], dtype=np.float64).sum(axis=-2)
    return c, e


def shares(totals: np.ndarray) -> np.ndarray:
    """Each agent's share of the group total, s_i = x_i / sum_j x_j.

    Args:
        totals: (..., A), non-negative.
    Returns:
        (..., A); NaN in episodes where the total is 0.
    """
    totals = np.asarray(totals, dtype=np.float64)
    total = totals.sum(axis=-1, keepdims=True)
    out = np.full(totals.shape, np.nan)
    return np.divide(totals, total, out=out, where=total > 0)


def specialisation(cleaned: np.ndarray, eaten: np.ndarray) -> np.ndarray:
    """Division-of-labour index: how much knowing the task tells about who does it.

    The normalised mutual entropy of Gorelick, Bertram, Killeen & Fewell 2004 ("Normalized
    mutual entropy in biology: quantifying division of labor", American Naturalist 164:677),
    D = I(X; Y) / H(Y), X the agent and Y the task (clean or eat), with the two tasks given
    equal weight, p(Y) = (1/2, 1/2), so that D does not depend on the units of each task
    (waste cells against apples). Then H(Y) = 1 bit, p(x | clean) = s_x, p(x | eat) = t_x,
    p(x) = m_x = (s_x + t_x) / 2, and D is the Jensen-Shannon divergence in bits between
    who cleans and who eats:

        D = 1/2 sum_x s_x log2(s_x / m_x) + 1/2 sum_x t_x log2(t_x / m_x)

    D = 0 when every agent does the same share of both tasks (no division of labour),
    D = 1 when no agent does both (complete division: pure cleaners and pure eaters).

    Args:
        cleaned, eaten: per-agent totals (..., A).
    Returns:
        (...,) in [0, 1]; NaN in episodes where nobody cleaned or nobody ate.
    """
    s, t = shares(cleaned), shares(eaten)
    m = (s + t) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_s = np.where(s > 0, s * np.log2(s / m), 0.0).sum(axis=-1)
        kl_t = np.where(t > 0, t * np.log2(t / m), 0.0).sum(axis=-1)
    undefined = np.isnan(s).any(axis=-1) | np.isnan(t).any(axis=-1)
    return np.where(undefined, np.nan, np.clip((kl_s + kl_t) / 2, 0.0, 1.0))


def correlation(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation across agents of two per-agent quantities.

    r = sum_i (x_i - mean x)(y_i - mean y) / sqrt(sum_i (x_i - mean x)^2 sum_i (y_i - mean y)^2)

    For cleaning against eating, r near -1 says the agents who clean most eat least (a
    split into cleaners and eaters); for cleaning against return, r < 0 says cleaners pay
    for the apples others eat (the public-goods dilemma, Hughes et al. 2018).

    Args:
        x, y: (..., A).
    Returns:
        (...,) in [-1, 1]; NaN in episodes where x or y is the same for every agent.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dx = x - x.mean(axis=-1, keepdims=True)
    dy = y - y.mean(axis=-1, keepdims=True)
    norm = np.sqrt((dx**2).sum(axis=-1) * (dy**2).sum(axis=-1))
    varies = (np.ptp(x, axis=-1) > 0) & (np.ptp(y, axis=-1) > 0)  # exact, unlike norm > 0
    r = np.divide((dx * dy).sum(axis=-1), norm, out=np.zeros(norm.shape), where=varies)
    return np.where(varies, np.clip(r, -1.0, 1.0), np.nan)


def cleaners(cleaned: np.ndarray, eaten: np.ndarray) -> np.ndarray:
    """Number of agents who mostly clean: their share of the cleaning exceeds their share of
    the eating, s_i > t_i (a share is 0 when the group total is 0).

    Args:
        cleaned, eaten: per-agent totals (..., A).
    Returns:
        (...,) int, in [0, A - 1] (the shares sum to one, so somebody has s_i <= t_i).
    """
    s = np.nan_to_num(shares(cleaned))
    t = np.nan_to_num(shares(eaten))
    return (s > t).sum(axis=-1)


def labour_summary(
    rewards: np.ndarray,
    events: Mapping[str, np.ndarray],
    clean: str = "cleaned",
    eat: str = "apples",
) -> dict[str, float]:
    """Scalar division-of-labour metrics of a batch of episodes, for metrics.jsonl.

    Keys (each averaged over the episodes where it is defined; NaN if in none):
        top_cleaner_share: max_i s_i, the share of all cleaning done by the top cleaner.
        cleaners: agents with s_i > t_i (see `cleaners`).
        specialisation: D of `specialisation`, 0 none to 1 complete.
        clean_eat_correlation: `correlation` of c and e across agents.
        clean_return_correlation: `correlation` of c and the returns across agents.
        waste_cleaned_per_agent: C / A.

    Args:
        rewards: (B, T, A).
        events: per-step counters {name: (B, T, A)}, at least `clean` and `eat`.
    """
    c, e = labour_totals(events, clean, eat)  # (B, A) each
    returns = np.asarray(rewards, dtype=np.float64).sum(axis=-2)  # (B, A)
    per_episode = {
        "top_cleaner_share": shares(c).max(axis=-1),
        "cleaners": cleaners(c, e).astype(np.float64),
        "specialisation": specialisation(c, e),
        "clean_eat_correlation": correlation(c, e),
        "clean_return_correlation": correlation(c, returns),
        "waste_cleaned_per_agent": c.mean(axis=-1),
    }
    return {name: _mean_defined(values) for name, values in per_episode.items()}


def _mean_defined(values: np.ndarray) -> float:
    """Mean over the non-NaN entries; NaN if there are none (without a warning)."""
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float("nan")
