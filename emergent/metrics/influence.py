"""Influence of one agent on another's actions, measured by intervention: positive listening.

Both metrics are a mutual information under intervention, computed from the policies'
probabilities rather than from counts of what happened: for each state s, replace what the
influencer did (its message, or its action) by every alternative x, read the influenced
agent's action distribution p(y | s, do(x)), and take

    I(X; Y | s) = sum_x p(x | s) KL( p(y | s, do(x)) || sum_x' p(x' | s) p(y | s, do(x')) ),

the information the influencer's choice carries about the other's action; in bits, like
`emergent.metrics.communication`. It is 0 exactly when the influenced agent ignores X, and at
most H(X | s). Interventions make it a causal quantity: a listener whose actions merely
correlate with messages through the shared state scores 0.

The ablation every claim needs (the same trained agents with the channel cut or scrambled,
`envs.messages.heard`) is one intervention among these: include the all-SILENT message among
the candidates of `action_probs_under_interventions` to see what a cut channel does to the
listener in each state.

References:
    Lowe, Foerster, Boureau, Pineau and Dauphin 2019, "On the pitfalls of measuring emergent
    communication" (AAMAS): causal influence of communication (CIC); released code
    `facebookresearch/measuring-emergent-comm`, `eval.py:calc_cic`. Jaques et al. 2019,
    "Social influence as intrinsic motivation for multi-agent deep reinforcement learning"
    (ICML). Pearl 2009, "Causality" (the do-operator).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TOLERANCE = 1e-4
"""How far from 1 a probability vector may sum (float32 softmax outputs) before it is refused."""


def causal_influence_of_communication(
    action_probs: np.ndarray, message_probs: np.ndarray | None = None
) -> float:
    """Causal influence of communication, CIC (Lowe et al. 2019): how much the listener's
    next action depends on the message, by intervening on the message. In bits.

    CIC = (1 / N) sum_n sum_m p(m | s_n) KL( p(a | s_n, do(m)) || p(a | s_n) ),
    p(a | s_n) = sum_m' p(m' | s_n) p(a | s_n, do(m'))

    the one-step CIC of the paper, the interventional mutual information I(M; A | s) averaged
    over the N sampled states, p(m | s_n) the speaker's distribution over the candidate
    messages in state s_n. The marginal weights each message by p(m), as the paper defines
    it. Lowe's released code (`calc_cic`) averages the joint p(a, m) uniformly over the M
    messages instead, p(a) = (1/M) sum_m p(a, m), which is M times too small and adds log M:
    there a listener that ignores messages scores log M, here 0.

    Values: 0 exactly for a listener whose action distribution does not depend on the
    message (and for M = 1 candidate); H(p(m | s)) for a deterministic listener that maps
    each message to its own action (log2 M for uniform p(m)); never above H(p(m | s)).
    Messages with p(m | s) = 0 do not count. NaN for N = 0 states.

    Args:
        action_probs: (N, M, A), p(a | s_n, do(m)) for each of M candidate messages (see
            `action_probs_under_interventions`); each (n, m) row sums to 1.
        message_probs: (M,) for every state, or (N, M) per state, p(m | s_n); uniform if
            None. With a sample of candidates rather than all messages, pass the speaker's
            probabilities of the sampled ones renormalised: CIC is then over that support.
    Returns:
        CIC in bits, in [0, log2 M].
    """
    p_a = _distributions(action_probs, "action_probs", ndim=3)  # (N, M, A)
    N, M, _ = p_a.shape
    if message_probs is None:
        message_probs = np.full(M, 1.0 / M)
    p_m = _distributions(np.broadcast_to(message_probs, (N, M)), "message_probs", ndim=2)
    return float(_interventional_information(p_a, p_m).mean()) if N else float("nan")


def action_probs_under_interventions(
    probs_fn: Callable[[np.ndarray], np.ndarray], candidates: np.ndarray, n_states: int
) -> np.ndarray:
    """The listener's action distributions p(a | s_n, do(m)) for every candidate message m.

    For each row m of `candidates`, calls probs_fn with that message in all N states and
    stacks the answers: the input `causal_influence_of_communication` needs.

    Args:
        probs_fn: messages (N, L) -> p(a | s_n, message_n) (N, A); it holds the N states
            (e.g. a closure over the listener's observations with the message part replaced).
        candidates: (M, L) messages to try: all V ** L of them when that is small
            (`np.array(list(itertools.product(range(V), repeat=L)))`), else a sample; a row of
            SILENT (-1) is a cut channel.
        n_states: N.
    Returns:
        (N, M, A) float64.
    """
    candidates = np.asarray(candidates)
    if candidates.ndim != 2:
        raise ValueError(f"candidates: shape {candidates.shape}; expected (M, L)")
    probs = [
        np.asarray(probs_fn(np.repeat(m[None], n_states, axis=0)), dtype=np.float64)
        for m in candidates
    ]  # M x (N, A)
    shapes = {p.shape for p in probs}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] != n_states:
        raise ValueError(f"probs_fn must return ({n_states}, A) for every message; got {shapes}")
    return np.stack(probs, axis=1)


def social_influence(p_j_given_k: np.ndarray, p_k: np.ndarray) -> float:
    """Social influence of agent k on agent j (Jaques et al. 2019) as a metric: the expected
    influence reward, I(a_k; a_j | s) under intervention on a_k, averaged over states. In bits.

    SI = (1 / N) sum_n sum_a p(a_k = a | s_n) KL( p(a_j | s_n, do(a_k = a)) || p(a_j | s_n) ),
    p(a_j | s_n) = sum_a' p(a_k = a' | s_n) p(a_j | s_n, do(a_k = a'))

    Jaques et al. note that this expectation of their reward is the mutual information
    between the two agents' actions. 0 exactly when j ignores k's action (and for one
    action); H(p_k) when j copies it (or maps each of k's actions to its own action).
    NaN for N = 0 states.

    Args:
        p_j_given_k: (N, Ak, Aj), p(a_j | s_n, a_k) for every action of k, counterfactually
            (j's policy evaluated as if k had taken each action, or a model of j's policy:
            the paper's "model of other agents" variant); each (n, a_k) row sums to 1.
        p_k: (N, Ak), k's policy p(a_k | s_n).
    Returns:
        SI in bits, in [0, log2 Ak].
    """
    p_j, p_k = _pair(p_j_given_k, p_k)
    return float(_interventional_information(p_j, p_k).mean()) if len(p_j) else float("nan")


def social_influence_reward(
    p_j_given_k: np.ndarray, p_k: np.ndarray, taken: np.ndarray
) -> np.ndarray:
    """Social influence intrinsic reward of agent k (Jaques et al. 2019), per state, in bits.

    c_n = KL( p(a_j | s_n, a_k = taken_n) || sum_a' p(a_k = a' | s_n) p(a_j | s_n, do(a_k = a')) )

    how far k's taken action moved j's policy from what j would do with k's action
    marginalised out. With several influenced agents the paper sums c over them; its total
    reward is alpha * (environment reward) + beta * c, both weights the trainer's. The
    expectation of c over taken ~ p_k is `social_influence`. 0 when j ignores a_k; -log2
    p_k(taken) when j copies a_k; infinite for a taken action that p_k deems impossible
    while j reacts to it.

    Args:
        p_j_given_k: (N, Ak, Aj), as in `social_influence`.
        p_k: (N, Ak), k's policy.
        taken: (N,) int, the action k took in each state.
    Returns:
        (N,) float64, non-negative.
    """
    p_j, p_k = _pair(p_j_given_k, p_k)
    taken = np.asarray(taken)
    outside = taken.size > 0 and (taken.min() < 0 or taken.max() >= p_k.shape[1])
    if taken.shape != (len(p_j),) or outside:
        raise ValueError(f"taken: expected ({len(p_j)},) actions in [0, {p_k.shape[1]})")
    marginal = np.einsum("nx,nxy->ny", p_k, p_j)  # (N, Aj)
    return _kl(p_j[np.arange(len(p_j)), taken], marginal)


def _interventional_information(p_y_given_x: np.ndarray, p_x: np.ndarray) -> np.ndarray:
    """sum_x p(x) KL(p(y | do(x)) || sum_x' p(x') p(y | do(x'))) per state: (N, X, Y), (N, X) ->
    (N,); terms with p(x) = 0 count 0."""
    marginal = np.einsum("nx,nxy->ny", p_x, p_y_given_x)  # (N, Y)
    kl = _kl(p_y_given_x, marginal[:, None, :])  # (N, X)
    return (p_x * np.where(p_x > 0, kl, 0.0)).sum(axis=1)  # no 0 * inf


def _kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) in bits over the last axis (broadcast), 0 log 0 = 0; inf where p > 0 = q."""
    shape = np.broadcast(p, q).shape
    p, q = np.broadcast_to(p, shape), np.broadcast_to(q, shape)
    terms = np.zeros(shape)
    on = p > 0
    with np.errstate(divide="ignore"):
        terms[on] = p[on] * (np.log2(p[on]) - np.log2(q[on]))
    return np.maximum(terms.sum(axis=-1), 0.0)  # >= 0 up to rounding


def _pair(p_j_given_k: np.ndarray, p_k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p_j = _distributions(p_j_given_k, "p_j_given_k", ndim=3)  # (N, Ak, Aj)
    p_k = _distributions(p_k, "p_k", ndim=2)  # (N, Ak)
    if p_k.shape != p_j.shape[:2]:
        raise ValueError(f"p_k: shape {p_k.shape}; expected {p_j.shape[:2]} (N, Ak)")
    return p_j, p_k


def _distributions(x: np.ndarray, name: str, ndim: int) -> np.ndarray:
    """x as float64 after checking its shape and that its last axis holds distributions."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != ndim:
        raise ValueError(f"{name}: {x.ndim} axes (shape {x.shape}); expected {ndim}")
    if x.size and (x.min() < 0 or np.abs(x.sum(axis=-1) - 1).max() > TOLERANCE):
        raise ValueError(f"{name}: rows must be probabilities (non-negative, summing to 1)")
    return x
