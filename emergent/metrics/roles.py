"""Roles and behavioural diversity: how differently agents act, and whether they form roles.

Two views of the same question, one from the policies and one from the episode logs:

- System Neural Diversity (SND; Bettini, Shankar & Prorok 2023, "System Neural Diversity:
  Measuring Behavioral Heterogeneity in Multi-Agent Learning", arXiv:2305.02128): the mean
  over agent pairs of the mean over shared observations of the Wasserstein-2 distance between
  the agents' action distributions,
      SND = 2 / (A (A - 1)) sum_{i<j} (1 / N) sum_o W2(pi_i(.|o), pi_j(.|o)).
  `snd_gaussian` is the paper's continuous case; `snd_categorical` the Discrete actions of
  this project's worlds.
- Behavioural fingerprints (each agent's share of every event: who eats, cleans, tags, speaks)
  clustered into roles with k-means, the number of roles chosen by the silhouette (Rousseeuw
  1987) and a minimum separation, so that identical agents give one role; from episode logs
  (`roles_from_episodes`) with a permutation test of exchangeable agents (Good 2005), so that
  a few events' counting noise gives one role too.

How specialised the agents are in two tasks is `emergent.metrics.labour.specialisation`
(Gorelick et al. 2004); `fingerprint_specialisation` is the same index over any number of
events and equals it for the two events cleaned and apples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from emergent.metrics.aggregate import RngLike, SeedSummary, summarize_across_seeds

SILHOUETTE_MIN = 0.5
"""Silhouette above which a clustering counts as roles: 0.51-0.70 is "a reasonable structure
has been found", below 0.50 "weak and could be artificial" (Kaufman & Rousseeuw 1990,
"Finding Groups in Data", ch. 2)."""
MIN_SEPARATION = 0.5
"""...and every two roles must differ in some event by more than this many equal shares: one
role does at least 1.5 times as much of something as another that does the average. A small
number of agents split by noise alone can have a high silhouette; this keeps it one role."""
SILHOUETTE_WEAK = 0.25
"""Silhouette above which a clustering has some structure: up to 0.25 "no substantial
structure", 0.26-0.50 weak, 0.51-0.70 reasonable, above 0.70 strong (Kaufman & Rousseeuw
1990). `roles_from_episodes` accepts a weak structure once a permutation test has shown that
the agents differ beyond counting noise, which is what `SILHOUETTE_MIN` guards against when only
the averaged fingerprints are known."""
TEST_LEVEL = 0.05
"""Significance level of the permutation test of exchangeable agents."""
PERMUTATIONS = 999
"""Random relabellings in the permutation test: its p-value resolves 0.001."""
MAX_ROLES = 4
"""Largest number of roles tried by default (k = 2..MAX_ROLES, at most A - 1)."""
CODE_EVENTS: frozenset[str] = frozenset({"token", "choice"})
"""Events whose value is a code (the token said + 1, the object chosen + 1; 0 for none), not a
count: a fingerprint counts the steps where they are non-zero (the agent spoke, chose)."""
ROLE_NOUNS: dict[str, str] = {
    "cleaned": "cleaners",  # Cleanup: waste cells removed
    "clean_beams": "cleaners",
    "apples": "eaters",  # Commons, Cleanup
    "beams": "taggers",  # tagging shots fired
    "tagged": "targets",  # hit by somebody else's beam, not hitting
    "token": "speakers",  # cheap talk, Signalling
    "spoke": "speakers",
    "choice": "listeners",  # Signalling
    "captures": "hunters",  # Wolfpack
    "team_captures": "team hunters",
    "lone_captures": "lone hunters",
    "near_prey": "chasers",
}
"""The role named after its dominant event; an event not listed names the role itself."""
ONE_ROLE = "generalists"
"""The name of the single role when the agents form none."""
IDLE_ROLE = "idle"
"""The name of a role that does no event more than an equal share of."""


# ---------------------------------------------------------------------------------------------
# System Neural Diversity


def _pair_mean(distance: np.ndarray) -> np.ndarray:
    """Mean over pairs i < j of a pairwise distance (..., A, A, N) averaged over the N
    observations: (...,)."""
    A = distance.shape[-2]
    i, j = np.triu_indices(A, k=1)
    return distance.mean(axis=-1)[..., i, j].mean(axis=-1)


def _check_policies(x: np.ndarray, name: str) -> None:
    if x.ndim < 3 or x.shape[-3] < 2 or x.shape[-2] < 1 or x.shape[-1] < 1:
        raise ValueError(f"{name} must be (..., A, N, d) with A >= 2 agents, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite")


def snd_gaussian(means: np.ndarray, stds: np.ndarray) -> np.ndarray:
    """System Neural Diversity of diagonal Gaussian policies (Bettini et al. 2023, eq. 2).

    Between N(mu_i, diag sigma_i^2) and N(mu_j, diag sigma_j^2) the Wasserstein-2 distance has
    the closed form (Givens & Shortt 1984; the square roots of diagonal covariances commute)
        W2 = (||mu_i - mu_j||^2 + ||sigma_i - sigma_j||^2)^(1/2),
    and SND = 2 / (A (A - 1)) sum_{i<j} (1 / N) sum_o W2(pi_i(.|o), pi_j(.|o)).

    Args:
        means: (..., A, N, d) each agent's action mean on N shared observations.
        stds: (..., A, N, d) the standard deviations, non-negative.
    Returns:
        (...,) >= 0; 0 exactly when every agent acts alike on every observation.
    """
    mu = np.asarray(means, dtype=np.float64)
    sigma = np.asarray(stds, dtype=np.float64)
    _check_policies(mu, "means")
    if sigma.shape != mu.shape:
        raise ValueError(f"stds {sigma.shape} must have the shape of means {mu.shape}")
    _check_policies(sigma, "stds")
    if (sigma < 0).any():
        raise ValueError("stds must be non-negative")
    d_mu = mu[..., :, None, :, :] - mu[..., None, :, :, :]  # (..., A, A, N, d)
    d_sigma = sigma[..., :, None, :, :] - sigma[..., None, :, :, :]
    return _pair_mean(np.sqrt((d_mu**2 + d_sigma**2).sum(axis=-1)))


def snd_categorical(probs: np.ndarray) -> np.ndarray:
    """System Neural Diversity of policies over n discrete actions.

    W2 needs a distance between actions. Embed action a as the one-hot vertex e_a of R^n, as
    a network's output layer sees it, so that any two distinct actions are sqrt(2) apart and
    the squared cost of moving mass from a to b is c(a, b) = 2 [a != b]. A coupling gamma of p
    and q keeps at most min(p_a, q_a) on each diagonal cell, and keeping exactly that (moving
    the remaining mass anyhow) is feasible, so
        W2(p, q)^2 = min_gamma sum_ab gamma_ab c(a, b) = 2 (1 - sum_a min(p_a, q_a)) = 2 TV(p, q),
        TV(p, q) = 1/2 ||p - q||_1,   W2(p, q) = sqrt(2 TV(p, q)) = ||p - q||_1^(1/2),
    between 0 (same policy) and sqrt(2) (disjoint supports, e.g. two different deterministic
    actions). SND is then the pair and observation mean of W2, as in `snd_gaussian`.

    Args:
        probs: (..., A, N, n) each agent's action probabilities on N shared observations.
    Returns:
        (...,) in [0, sqrt(2)].
    """
    p = np.asarray(probs, dtype=np.float64)
    _check_policies(p, "probs")
    if (p < 0).any() or not np.allclose(p.sum(axis=-1), 1.0, atol=1e-6):
        raise ValueError("probs must be non-negative and sum to 1 over the last (action) axis")
    l1 = np.abs(p[..., :, None, :, :] - p[..., None, :, :, :]).sum(axis=-1)  # (..., A, A, N)
    return _pair_mean(np.sqrt(l1))


# ---------------------------------------------------------------------------------------------
# Behavioural fingerprints and roles


def fingerprints(
    events: Mapping[str, np.ndarray],
    names: Sequence[str],
    codes: Collection[str] = CODE_EVENTS,
) -> np.ndarray:
    """Each agent's share of each event, averaged over episodes: who does what.

    With x_{a,e} agent a's total of event e per episode (steps summed, episodes averaged),
        f_{a,e} = x_{a,e} / sum_b x_{b,e},
    so every column sums to 1 and worlds or events of different scales compare. An event
    nobody did is shared equally (1/A): it tells no agent apart.

    Args:
        events: per-step counters {name: (..., T, A)} as the worlds emit them (an
            `EpisodeLog.events`), all of one shape.
        names: the E events to use, in column order.
        codes: events holding a code rather than a count (see `CODE_EVENTS`), counted as the
            steps where they are non-zero.
    Returns:
        (A, E) float64 shares.
    """
    return _shares(_episode_totals(events, names, codes).mean(axis=0))


def _episode_totals(
    events: Mapping[str, np.ndarray], names: Sequence[str], codes: Collection[str]
) -> np.ndarray:
    """(episodes, A, E) each agent's total of each event per episode, steps summed."""
    if not names:
        raise ValueError("names is empty; give at least one event")
    missing = [k for k in names if k not in events]
    if missing:
        raise KeyError(f"fingerprints need events {missing}; got {sorted(events)}")
    shapes = sorted({np.shape(events[k]) for k in names})
    if len(shapes) != 1 or len(shapes[0]) < 2:
        raise ValueError(f"events {list(names)} must share one shape (..., T, A), got {shapes}")
    shape = shapes[0]
    columns = []
    for k in names:
        x = np.asarray(events[k])
        x = (x != 0) if k in codes else x
        columns.append(x.astype(np.float64).sum(axis=-2).reshape(-1, shape[-1]))
    return np.stack(columns, axis=-1)


def _shares(totals: np.ndarray) -> np.ndarray:
    """(..., A, E) totals as per-event shares; an event nobody did is shared equally."""
    total = totals.sum(axis=-2, keepdims=True)
    equal = np.full(totals.shape, 1.0 / totals.shape[-2])
    return np.divide(totals, total, out=equal, where=total > 0)


def fingerprint_specialisation(fingerprints: np.ndarray) -> np.ndarray:
    """Division-of-labour index over E events: `labour.specialisation` for more than two.

    Gorelick, Bertram, Killeen & Fewell 2004's D = I(X; Y) / H(Y), X the agent and Y the event,
    every event given equal weight p(Y) = 1/E, p(x | y) = f_{x,y}. With m_x = mean_y f_{x,y},
        D = (H(m) - (1/E) sum_y H(f_{.,y})) / log2 E,
    the generalised Jensen-Shannon divergence between the events' distributions over agents,
    in [0, 1]: 0 when all agents have the same share of every event, 1 when no agent does two
    events. For E = 2 it equals `labour.specialisation` of the two events' totals.

    Args:
        fingerprints: (..., A, E) per-event shares (each column sums to 1), E >= 2.
    Returns:
        (...,) in [0, 1].
    """
    f = np.asarray(fingerprints, dtype=np.float64)
    if f.ndim < 2 or f.shape[-1] < 2:
        raise ValueError(f"fingerprints must be (..., A, E) with E >= 2 events, got {f.shape}")
    if (f < 0).any() or not np.allclose(f.sum(axis=-2), 1.0, atol=1e-6):
        raise ValueError("fingerprints must be per-event shares: non-negative, columns sum to 1")

    def entropy(p: np.ndarray) -> np.ndarray:  # bits over the agent axis -2
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=-2)

    mixture = entropy(f.mean(axis=-1, keepdims=True))[..., 0]
    d = (mixture - entropy(f).mean(axis=-1)) / np.log2(f.shape[-1])
    return np.clip(d, 0.0, 1.0)


@dataclass(frozen=True)
class Roles:
    """Agents clustered into roles by their fingerprints (`roles`).

    Fingerprints are compared as relative rates r_{a,e} = f_{a,e} / mean_b f_{b,e}: 1 is an
    equal share, 2 twice the average agent's.
    """

    k: int  # number of roles; 1 when the agents form none
    labels: np.ndarray  # (A,) int role of each agent, numbered by first appearance
    centroids: np.ndarray  # (k, E) mean relative rate of each role's agents
    silhouette: float  # best silhouette over k = 2..max_roles (NaN when none could be tried)
    separation: float  # of that clustering: min over role pairs of max over events |c_i - c_j|
    p_value: float = float("nan")  # permutation test of exchangeable agents (NaN: not tested)

    @property
    def structure(self) -> str:
        """Kaufman & Rousseeuw's (1990) words for the best clustering's silhouette: "strong",
        "reasonable", "weak" or "no substantial" (also when none could be tried)."""
        s = self.silhouette
        if not s > SILHOUETTE_WEAK:
            return "no substantial"
        return "strong" if s > 0.7 else "reasonable" if s > SILHOUETTE_MIN else "weak"

    def describe(self, names: Sequence[str], nouns: Mapping[str, str] = ROLE_NOUNS) -> list[str]:
        """A short name per role from its dominant event, the one it does most of relative to
        the average agent (`ROLE_NOUNS`, e.g. "cleaners" for "cleaned"); `ONE_ROLE` when k = 1,
        `IDLE_ROLE` for a role above average in nothing; repeated names are numbered.

        Args:
            names: the E events of the fingerprints' columns.
        Returns:
            k names, in role order.
        """
        if len(names) != self.centroids.shape[1]:
            raise ValueError(f"{len(names)} names for {self.centroids.shape[1]} events")
        if self.k == 1:
            return [ONE_ROLE]
        dominant = self.centroids.argmax(axis=1)
        out = [
            nouns.get(names[e], names[e]) if self.centroids[r, e] > 1.0 else IDLE_ROLE
            for r, e in enumerate(dominant)
        ]
        return [f"{n} {out[:r].count(n) + 1}" if out.count(n) > 1 else n for r, n in enumerate(out)]


def _relative(fingerprints: np.ndarray) -> np.ndarray:
    """(A, E) fingerprints as relative rates f / mean over agents (1 where the mean is 0)."""
    f = np.asarray(fingerprints, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 1 or f.shape[1] < 1:
        raise ValueError(f"fingerprints must be (A, E), got shape {f.shape}")
    if not np.isfinite(f).all() or (f < 0).any():
        raise ValueError("fingerprints must be finite and non-negative")
    scale = f.mean(axis=0)
    return np.divide(f, scale, out=np.ones_like(f), where=scale > 0)


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Renumber labels by first appearance, so the same partition always reads the same."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


def _separation(centroids: np.ndarray) -> float:
    """min over role pairs of max over events |c_i - c_j| (the Chebyshev distance)."""
    gaps = np.abs(centroids[:, None] - centroids[None]).max(axis=-1)  # (k, k)
    return float(gaps[np.triu_indices(len(centroids), k=1)].min())


def roles(
    fingerprints: np.ndarray,
    max_roles: int = MAX_ROLES,
    silhouette_min: float = SILHOUETTE_MIN,
    min_separation: float = MIN_SEPARATION,
    random_state: int = 0,
) -> Roles:
    """Cluster the agents into roles by what they do.

    k-means (scikit-learn, 10 restarts, fixed `random_state`) on the relative rates
    r_{a,e} = f_{a,e} / mean_b f_{b,e} for each k = 2..min(max_roles, A - 1, distinct agents);
    the k with the best mean silhouette s = mean_a (b_a - a_a) / max(a_a, b_a) (Rousseeuw
    1987, "Silhouettes: a graphical aid to the interpretation and validation of cluster
    analysis", J. Comput. Appl. Math. 20:53) is kept if s > `silhouette_min` and every two
    roles' centroids differ by more than `min_separation` in some event; otherwise k = 1, one
    role for all. The silhouette alone would split identical agents' sampling noise, which
    with few agents can look clustered; the separation asks for a difference a reader would
    call a role. Fewer than 3 agents always give one role (the silhouette needs k < A).
    Neither criterion knows how many events the shares rest on: with a few events per agent
    (short episodes, random play) counting noise alone can pass both; `roles_from_episodes`
    tests for it when the episodes are at hand.

    Args:
        fingerprints: (A, E) per-event shares from `fingerprints` (any non-negative per-agent
            rates work: only their ratio to the agents' mean matters).
        max_roles: the largest k tried.
        silhouette_min: see `SILHOUETTE_MIN`.
        min_separation: see `MIN_SEPARATION`, in equal shares.
        random_state: the k-means seed.
    Returns:
        Roles.
    """
    if max_roles < 1:
        raise ValueError(f"max_roles={max_roles}; must be >= 1")
    r = _relative(fingerprints)
    nan = float("nan")
    n_distinct = len(np.unique(r, axis=0))
    best: tuple[float, np.ndarray] | None = None
    for k in range(2, min(max_roles, len(r) - 1, n_distinct) + 1):
        with threadpool_limits(1):  # a few agents: OpenMP threads only add (much) overhead
            labels = KMeans(k, n_init=10, random_state=random_state).fit_predict(r)
        if len(np.unique(labels)) < k:
            continue
        s = float(silhouette_score(r, labels))
        if best is None or s > best[0]:
            best = (s, labels)
    if best is None:
        return Roles(1, np.zeros(len(r), dtype=np.int64), r.mean(0, keepdims=True), nan, nan)
    s, labels = best
    labels = _canonical(labels)
    centroids = np.stack([r[labels == j].mean(axis=0) for j in range(labels.max() + 1)])
    separation = _separation(centroids)
    if s > silhouette_min and separation > min_separation:
        return Roles(len(centroids), labels, centroids, s, separation)
    return Roles(1, np.zeros(len(r), dtype=np.int64), r.mean(0, keepdims=True), s, separation)


def exchangeable_p(
    events: Mapping[str, np.ndarray],
    names: Sequence[str],
    codes: Collection[str] = CODE_EVENTS,
    permutations: int = PERMUTATIONS,
    rng: RngLike = 0,
) -> float:
    """p-value of the hypothesis that the agents are exchangeable: that who did what in each
    episode is as if the agents' labels were drawn at random.

    A permutation test (Good 2005, "Permutation, Parametric and Bootstrap Tests of
    Hypotheses"): the statistic is the spread of the relative rates,
        S = sum_{a,e} (r_{a,e} - mean_b r_{b,e})^2,   r_{a,e} = f_{a,e} / mean_b f_{b,e},
    with f the `fingerprints`; the null distribution relabels the agents of every episode
    independently at random, which keeps each episode's counts and so their noise; and
        p = (1 + #{S_perm >= S}) / (1 + permutations)   (Phipson & Smyth 2010).
    A few events per agent (short episodes, random play) give agents unequal shares by
    chance alone, and the test knows it; agents that do different things episode after
    episode give a small p. One episode gives p = 1: relabelling it changes nothing.

    Args:
        events: per-step counters {name: (episodes..., T, A)}, as for `fingerprints`.
        names: the events to use.
        codes: see `fingerprints`.
        permutations: random relabellings drawn.
        rng: a seed or a `np.random.Generator`.
    Returns:
        p in (0, 1].
    """
    if permutations < 1:
        raise ValueError(f"permutations={permutations}; must be >= 1")
    totals = _episode_totals(events, names, codes)  # (episodes, A, E)
    generator = np.random.default_rng(rng)
    order = np.argsort(generator.random((permutations, *totals.shape[:2])), axis=-1)
    shuffled = np.take_along_axis(totals[None], order[..., None], axis=2)  # (P, episodes, A, E)
    observed = _spread(totals.mean(axis=0))
    null = _spread(shuffled.mean(axis=1))
    as_large = null >= observed - 1e-9 * max(observed, 1.0)  # ties up to rounding count
    return float((1 + as_large.sum()) / (1 + permutations))


def _spread(totals: np.ndarray) -> np.ndarray:
    """(...,) the statistic S of `exchangeable_p` from (..., A, E) mean totals."""
    f = _shares(totals)
    scale = f.mean(axis=-2, keepdims=True)
    r = np.divide(f, scale, out=np.ones_like(f), where=scale > 0)
    return ((r - r.mean(axis=-2, keepdims=True)) ** 2).sum(axis=(-2, -1))


def roles_from_episodes(
    events: Mapping[str, np.ndarray],
    names: Sequence[str],
    codes: Collection[str] = CODE_EVENTS,
    max_roles: int = MAX_ROLES,
    level: float = TEST_LEVEL,
    permutations: int = PERMUTATIONS,
    rng: RngLike = 0,
) -> Roles:
    """Roles from episode logs: `roles` of the `fingerprints`, decided with the episodes'
    counting noise in view.

    The agents form roles when (1) they are not exchangeable (`exchangeable_p` < `level`): they
    differ beyond what their few events could show by chance; (2) the best clustering has at
    least a weak structure (silhouette > `SILHOUETTE_WEAK`); (3) every two roles differ by
    more than `MIN_SEPARATION` equal shares in some event. With the noise tested, the silhouette
    only has to say that the differences fall into groups rather than along a continuum, so
    a weak structure is enough; `roles` alone, which cannot know the noise, asks for a
    reasonable one.

    Args:
        events, names, codes: see `fingerprints`; several episodes are needed for (1).
        max_roles: the largest k tried.
        level: the test's significance level.
        permutations, rng: see `exchangeable_p`.
    Returns:
        Roles, with the test's `p_value`.
    """
    p = exchangeable_p(events, names, codes, permutations, rng)
    found = roles(fingerprints(events, names, codes), max_roles, silhouette_min=SILHOUETTE_WEAK)
    if p >= level and found.k > 1:
        labels = np.zeros(len(found.labels), dtype=np.int64)
        centroids = _relative(fingerprints(events, names, codes)).mean(0, keepdims=True)
        found = Roles(1, labels, centroids, found.silhouette, found.separation)
    return dataclasses.replace(found, p_value=p)


# ---------------------------------------------------------------------------------------------
# Across seeds


class RolesAcrossSeeds(NamedTuple):
    """How often roles emerge over seeds (`roles_across_seeds`)."""

    n_roles: np.ndarray  # (S,) int, roles found in each seed
    multi_role: SeedSummary  # of the indicator k >= 2: .mean is the fraction of seeds with roles
    snd: SeedSummary | None  # of the per-seed SND, when given

    @property
    def multi_role_fraction(self) -> float:
        """Fraction of seeds whose agents formed at least two roles."""
        return self.multi_role.mean


def roles_across_seeds(
    per_seed: Sequence[Roles | np.ndarray],
    snd: Sequence[float] | np.ndarray | None = None,
    max_roles: int = MAX_ROLES,
    reps: int = 2000,
    confidence: float = 0.95,
    rng: RngLike = 0,
) -> RolesAcrossSeeds:
    """Number of roles per seed, the fraction of seeds with roles and the SND across seeds.

    Intervals are `aggregate.summarize_across_seeds` (mean and IQM with percentile stratified
    bootstrap intervals, Agarwal et al. 2021); the fraction's is over the indicator k_s >= 2.

    Args:
        per_seed: one `Roles`, or one (A, E) fingerprint array (clustered with `roles` and
            `max_roles`), per seed.
        snd: (S,) per-seed SND values (NaN seeds dropped and counted), or None.
    Returns:
        RolesAcrossSeeds.
    """
    if not per_seed:
        raise ValueError("per_seed is empty; give one Roles or fingerprint array per seed")
    found = [x if isinstance(x, Roles) else roles(x, max_roles) for x in per_seed]
    n_roles = np.array([x.k for x in found])
    values = {"multi_role": (n_roles >= 2).astype(np.float64)}
    if snd is not None:
        values["snd"] = np.asarray(snd, dtype=np.float64)
        if values["snd"].shape != n_roles.shape:
            raise ValueError(f"snd has shape {values['snd'].shape}; expected ({len(n_roles)},)")
    rows = summarize_across_seeds(values, reps, confidence, rng)
    return RolesAcrossSeeds(n_roles, rows[0], rows[1] if snd is not None else None)
