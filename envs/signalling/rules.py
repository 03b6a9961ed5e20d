"""Lewis signalling game rules as pure batched functions of (config, state, actions, rng).

An episode is L + 1 steps. At steps 0 .. L-1 (counted from 0) every speaker emits one token;
at step L every listener picks one of its K candidates and both players of the pair are
rewarded on success. Every copy and every pair advances in lock step, so all copies end on
the same step and the only state that differs between them is the drawn objects, the message
and the choice.

References:
    Lewis 1969, "Convention: a philosophical study". Lazaridou, Peysakhovich and Baroni 2017,
    "Multi-agent cooperation and the emergence of (natural) language" (ICLR). Lazaridou et al.
    2018, "Emergence of linguistic communication from referential games with symbolic and
    pixel input" (ICLR). Kottur et al. 2017, "Natural language does not emerge 'naturally' in
    multi-agent dialog" (EMNLP).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium
import numpy as np

from envs.messages import EOS, SILENT, heard, one_hot
from envs.signalling.config import SignallingConfig
from envs.signalling.split import attributes, split_objects

SPEAKER, LISTENER = 0, 1  # role of agent a is a % 2; its pair is a // 2
_SAMPLE_BY_SORTING = 4096  # up to this many objects, draw candidates by sorting random keys


def event_names(cfg: SignallingConfig) -> tuple[str, ...]:
    """("success", "token", "choice", "attr_0", ..., "attr_{n_attributes-1}")."""
    return ("success", "token", "choice") + tuple(f"attr_{i}" for i in range(cfg.n_attributes))


@dataclass(frozen=True)
class SignallingState:
    """All B copies, each with P speaker/listener pairs, at one step.

    Attributes:
        candidates: (B, P, K, n_attributes) int64 attribute values, K distinct objects.
        target: (B, P) int64, position of the target among the candidates.
        message: (B, P, L) int64 tokens in [0, V) as said; -1 where not yet spoken.
        heard: (B, P, L) int64 tokens the listener got (`envs.messages.heard` of `message`
            on the config's channel); -1 where nothing was heard.
        choice: (B, P) int64, the listener's pick in [0, K); -1 before the last step.
        t: (B,) int32, steps taken since reset.
    """

    candidates: np.ndarray
    target: np.ndarray
    message: np.ndarray
    heard: np.ndarray
    choice: np.ndarray
    t: np.ndarray

    @property
    def target_object(self) -> np.ndarray:
        """(B, P, n_attributes) attribute values of every pair's target."""
        idx = self.target[..., None, None]  # (B, P, 1, 1)
        return np.take_along_axis(self.candidates, idx, axis=2)[:, :, 0]


def reset(cfg: SignallingConfig, batch_size: int, rng: np.random.Generator) -> SignallingState:
    """Draw K distinct objects per pair uniformly from the config's split (`split_objects`),
    in random order, and a target position uniform in [0, K); the message and the choice
    start empty."""
    B, P, K, L = batch_size, cfg.pairs, cfg.num_candidates, cfg.message_length
    pool = split_objects(cfg)
    if pool is None:
        objects = _distinct_objects(cfg.n_objects, (B, P), K, rng)  # (B, P, K)
    else:
        objects = pool[_distinct_objects(len(pool), (B, P), K, rng)]
    return SignallingState(
        candidates=attributes(cfg, objects),
        target=rng.integers(0, K, size=(B, P)),
        message=np.full((B, P, L), SILENT, dtype=np.int64),
        heard=np.full((B, P, L), SILENT, dtype=np.int64),
        choice=np.full((B, P), -1, dtype=np.int64),
        t=np.zeros(B, dtype=np.int32),
    )


def step(
    cfg: SignallingConfig,
    state: SignallingState,
    actions: np.ndarray,
    rng: np.random.Generator | None = None,
) -> tuple[SignallingState, np.ndarray, dict[str, np.ndarray]]:
    """Advance every copy by one step (the game itself has no randomness after reset).

    Args:
        cfg: the game settings.
        state: the current state of B copies.
        actions: (B, A) integers in [0, max(V, K)), A = 2P, agents interleaved speaker,
            listener. At steps t < L a speaker's action a sends token a mod V and listeners'
            actions are ignored; at step t = L a listener's action a picks candidate a mod K
            and speakers' actions are ignored. Steps after L change nothing.
        rng: draws the scrambled tokens of a "scrambled" channel (no other chance after
            reset).
    Returns:
        The new state, rewards (B, A) float32 (success_reward or failure_reward to both
        players of a pair at step L, 0 before) and events, each (B, A) int32, speaker columns
        2p and listener columns 2p + 1:
            "success": 1 for both players at step L if the listener picked the target;
            "token": the speaker's token + 1 at steps t < L, 0 otherwise and for listeners;
            "choice": the listener's pick + 1 at step L, 0 otherwise and for speakers;
            "attr_i": the target's value of attribute i, + 1, for the speaker at step L.
    """
    B = state.t.shape[0]
    L, V, K = cfg.message_length, cfg.vocab_size, cfg.num_candidates
    act = np.asarray(actions).reshape(B, cfg.pairs, 2)  # (B, P, role)
    speaking = state.t < L  # (B,)
    choosing = state.t == L  # (B,)

    token = act[..., SPEAKER] % V  # (B, P)
    if cfg.end_token and L > 1:  # after the end token every position is EOS
        ended = (state.message == EOS).any(axis=-1)  # (B, P)
        token = np.where(ended, EOS, token)
    here = (np.arange(L) == state.t[:, None]) & speaking[:, None]  # (B, L) position spoken now
    message = np.where(here[:, None, :], token[..., None], state.message)
    if cfg.channel == "open":
        heard_now = message
    else:
        rng = rng if rng is not None else np.random.default_rng()
        got = heard(cfg.channel, token, V, rng)  # (B, P)
        heard_now = np.where(here[:, None, :], got[..., None], state.heard)
    pick = act[..., LISTENER] % K  # (B, P)
    choice = np.where(choosing[:, None], pick, state.choice)
    success = choosing[:, None] & (pick == state.target)  # (B, P)

    reward = np.where(success, cfg.success_reward, cfg.failure_reward) * choosing[:, None]
    rewards = np.repeat(reward, 2, axis=1).astype(np.float32)  # (B, A)

    def per_agent(speaker: np.ndarray, listener: np.ndarray) -> np.ndarray:
        return np.stack([speaker, listener], axis=-1).reshape(B, -1).astype(np.int32)

    zero = np.zeros_like(token)
    events = {
        "success": per_agent(success, success),
        "token": per_agent((token + 1) * speaking[:, None], zero),
        "choice": per_agent(zero, (pick + 1) * choosing[:, None]),
    }
    target_object = state.target_object  # (B, P, n_attributes)
    for i in range(cfg.n_attributes):
        events[f"attr_{i}"] = per_agent((target_object[..., i] + 1) * choosing[:, None], zero)
    new = SignallingState(state.candidates, state.target, message, heard_now, choice, state.t + 1)
    return new, rewards, events


def spaces(cfg: SignallingConfig) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Discrete]:
    """Both roles' spaces: Box(0, 1, (D,), float32) (`observe`) and Discrete(max(V, K))."""
    box = gymnasium.spaces.Box(0.0, 1.0, (obs_size(cfg),), np.float32)
    return box, gymnasium.spaces.Discrete(cfg.num_actions)


def obs_slices(cfg: SignallingConfig) -> dict[str, slice]:
    """Where each part lies in the flat observation vector (see `observe`)."""
    sizes = {
        "role": 2,
        "phase": cfg.max_steps,
        "target": cfg.object_size,
        "candidates": cfg.num_candidates * cfg.object_size,
        "message": cfg.message_length * cfg.vocab_size,
    }
    out, start = {}, 0
    for name, size in sizes.items():
        out[name] = slice(start, start + size)
        start += size
    return out


def obs_size(cfg: SignallingConfig) -> int:
    """Length of the flat observation vector."""
    return obs_slices(cfg)["message"].stop


def observe(cfg: SignallingConfig, state: SignallingState) -> np.ndarray:
    """Flat float32 observations in [0, 1], the concatenation of (see `obs_slices`):

    role (2): one-hot, [1, 0] speaker, [0, 1] listener;
    phase (L + 1): one-hot of the step t about to be played; all zero once the game is over;
    target (n_attributes * n_values): the target's one-hot attribute codes, concatenated
        attribute by attribute; speakers only (zeros for listeners);
    candidates (K * n_attributes * n_values): the K candidates' codes in the listener's order;
        listeners only (zeros for speakers);
    message (L * V): one-hot of each token sent so far, zeros at positions not yet spoken;
        both roles (the speaker sees its own message, the listener the message so far as
        heard on the config's channel, the whole message at step L when it chooses).

    Returns:
        (B, A, D) float32, agents interleaved speaker, listener as in `step`.
    """
    B, P = state.target.shape
    n_values, V = cfg.n_values, cfg.vocab_size
    parts = obs_slices(cfg)
    obs = np.zeros((B, P, 2, obs_size(cfg)), dtype=np.float32)
    obs[:, :, SPEAKER, parts["role"].start] = 1.0
    obs[:, :, LISTENER, parts["role"].start + 1] = 1.0
    live = state.t < cfg.max_steps
    obs[live, :, :, parts["phase"].start + state.t[live]] = 1.0
    hot_values = np.eye(n_values, dtype=np.float32)
    obs[:, :, SPEAKER, parts["target"]] = hot_values[state.target_object].reshape(B, P, -1)
    obs[:, :, LISTENER, parts["candidates"]] = hot_values[state.candidates].reshape(B, P, -1)
    obs[:, :, SPEAKER, parts["message"]] = one_hot(state.message, V).reshape(B, P, -1)
    obs[:, :, LISTENER, parts["message"]] = one_hot(state.heard, V).reshape(B, P, -1)
    return obs.reshape(B, 2 * P, -1)


def _distinct_objects(
    n_objects: int, shape: tuple[int, ...], k: int, rng: np.random.Generator
) -> np.ndarray:
    """(*shape, k) int64 object indices, k distinct ones uniformly drawn in random order.

    Few objects (or k a large share of them): the first k of a random permutation (argsort
    of uniform keys). Many objects: draw with replacement and redraw duplicates until none is
    left; by symmetry between objects the set stays uniform over k-subsets.
    """
    if n_objects <= max(_SAMPLE_BY_SORTING, 8 * k):  # else duplicates are rare
        keys = rng.random((*shape, n_objects))
        return np.argsort(keys, axis=-1)[..., :k].astype(np.int64)
    draw = rng.integers(0, n_objects, size=(*shape, k), dtype=np.int64)
    flat = draw.reshape(-1, k)
    while True:
        order = np.argsort(flat, axis=1, kind="stable")
        ranked = np.take_along_axis(flat, order, axis=1)
        repeat = np.zeros_like(flat, dtype=bool)
        rows = np.arange(len(flat))[:, None]
        repeat[rows, order[:, 1:]] = ranked[:, 1:] == ranked[:, :-1]
        if not repeat.any():
            return flat.reshape(draw.shape)
        flat[repeat] = rng.integers(0, n_objects, size=int(repeat.sum()), dtype=np.int64)
