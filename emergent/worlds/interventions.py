"""Interventions on the message a listener hears, one per world with a channel, and the causal
influence of communication (CIC) of learned listeners that they give.

A `MessageIntervention` (`emergent.worlds.base`) says which agents act on a heard message at
which step, which messages could be heard, and how to write one into an observation. With it,
CIC is measured from the observations of evaluation episodes: in every listener state s, each
of the M candidate messages m is written in, the policy's action distribution is read
(`Policy.action_probabilities`) and folded into what the action does (`outcome`: the
candidate picked, the move made), giving p(a | s, do(m)), and

    CIC = mean_s sum_m p(m) KL( p(a | s, do(m)) || sum_m' p(m') p(a | s, do(m')) ),

in bits (`emergent.metrics.influence.causal_influence_of_communication`). Here p(m) is uniform
over the candidates: the RL kind does not know the speaker's p(m | s) in general (with an
own-PPO speaker it could be computed; kept simple on purpose), so CIC measures how much the
listener's action depends on which message it hears, not on the messages its speaker favours.
Weighted by p(m) (not Lowe's released code's plain average, which adds log M), a listener that
ignores messages scores 0 and one that maps M messages to M distinct choices log2 M.
A policy without an action distribution (Box actions, a recurrent own-PPO policy) raises
ValueError; the RL kind then logs no CIC.

An intervention sets the message *sent*; the listener hears what the world's channel makes of
it (`envs.messages.heard`). The channel is a random map from the message sent m to the message
heard h, p(a | do(m)) = sum_h p(h | m) p(a | h): on a cut channel h is silence and on a
scrambled one random tokens, whatever m is. They are drawn once per state and shared by every
candidate m (common random numbers), so p(a | do(m)) is the same for every m and the CIC of a
cut or scrambled channel is 0 (computed, not assumed), as it is in expectation.

Ref: Lowe, Foerster, Boureau, Pineau and Dauphin 2019, "On the pitfalls of measuring emergent
communication" (AAMAS).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from emergent.metrics.influence import causal_influence_of_communication
from emergent.rollout import ActFn
from emergent.worlds.base import MessageIntervention
from envs.messages import heard, one_hot, pad_after_end
from envs.particles import NUM_ACTIONS
from envs.signalling.config import SignallingConfig
from envs.signalling.rules import obs_slices
from envs.speaker_listener import rules as sl_rules
from envs.speaker_listener.config import SpeakerListenerConfig

MAX_MESSAGES = 4096
"""Candidate messages at the most: all V ** L of them up to this many, else a uniform sample."""
ROWS_PER_CALL = 65_536
"""Observations handed to `action_probabilities` at once (bounds memory)."""

ListenerStep = tuple[np.ndarray, np.ndarray]
"""(every agent's observations (B, A, *obs_shape) at one step, the listeners' indices (K,))."""


def candidate_messages(
    vocab_size: int, length: int, end_token: bool, rng: np.random.Generator
) -> np.ndarray:
    """Distinct messages (M, L) int64 of `length` tokens in [0, vocab_size): all V ** L when
    there are at most MAX_MESSAGES, else MAX_MESSAGES drawn uniformly. With an end token,
    positions after the first EOS are padded (`envs.messages.pad_after_end`) and duplicates
    dropped, so every candidate is a message the world can deliver."""
    if vocab_size**length <= MAX_MESSAGES:
        digits = np.indices((vocab_size,) * length).reshape(length, -1).T  # (V ** L, L)
    elif length * np.log2(vocab_size) < 62:
        codes = rng.choice(vocab_size**length, size=MAX_MESSAGES, replace=False)
        digits = (codes[:, None] // vocab_size ** np.arange(length - 1, -1, -1)) % vocab_size
    else:  # too many messages to index; repeated draws are vanishingly rare
        digits = rng.integers(0, vocab_size, size=(MAX_MESSAGES, length))
    messages = pad_after_end(digits) if end_token else digits
    return np.unique(messages.astype(np.int64), axis=0)


def signalling_listeners(cfg: SignallingConfig, t: int) -> np.ndarray:
    """Listeners (agents 2p + 1) at step t = L, when they choose with the whole message."""
    if t != cfg.message_length:
        return np.zeros(0, dtype=np.int64)
    return np.arange(1, cfg.num_agents, 2)


def signalling_messages(cfg: SignallingConfig, rng: np.random.Generator) -> np.ndarray:
    """Whole messages (M, L): all V ** L (fewer with an end token) up to MAX_MESSAGES."""
    return candidate_messages(cfg.vocab_size, cfg.message_length, cfg.end_token, rng)


def signalling_intervene(
    obs: np.ndarray, messages: np.ndarray, cfg: SignallingConfig
) -> np.ndarray:
    """Listener observations (N, D) with their message block (`rules.obs_slices`) replaced by
    the one-hot of `messages` (N, L); SILENT positions stay zero, as in `rules.observe`."""
    out = np.array(obs, copy=True)
    out[:, obs_slices(cfg)["message"]] = one_hot(messages, cfg.vocab_size).reshape(len(obs), -1)
    return out


def signalling_choice(probs: np.ndarray, cfg: SignallingConfig) -> np.ndarray:
    """Probabilities (N, K) of the candidate picked, action a picking a mod K (`rules.step`)."""
    n, K = probs.shape[1], cfg.num_candidates
    return np.stack([probs[:, k::K].sum(axis=1) for k in range(K)], axis=1) if n > K else probs


SIGNALLING = MessageIntervention(
    listeners=signalling_listeners,
    messages=signalling_messages,
    intervene=signalling_intervene,
    outcome=signalling_choice,
)
"""The Lewis game: the listener's choice at step L, intervening on the whole message."""


def speaker_listener_listeners(cfg: SpeakerListenerConfig, t: int) -> np.ndarray:
    """The listener (agent 1) from step 1 on, when it has heard the speaker's last token."""
    return np.array([sl_rules.LISTENER]) if t >= 1 else np.zeros(0, dtype=np.int64)


def speaker_listener_messages(cfg: SpeakerListenerConfig, rng: np.random.Generator) -> np.ndarray:
    """The 3 tokens, each a message of length 1: (3, 1)."""
    return np.arange(sl_rules.VOCAB_SIZE, dtype=np.int64)[:, None]


def speaker_listener_intervene(
    obs: np.ndarray, messages: np.ndarray, cfg: SpeakerListenerConfig
) -> np.ndarray:
    """Listener observations (N, 13) with the heard token's one-hot (the last VOCAB_SIZE
    entries, `rules.observe`) set to `messages` (N, 1); SILENT writes zeros."""
    out = np.array(obs, copy=True)
    heard = slice(sl_rules.OBS_SIZE - sl_rules.VOCAB_SIZE, sl_rules.OBS_SIZE)
    out[:, heard] = one_hot(np.asarray(messages)[:, 0], sl_rules.VOCAB_SIZE)
    return out


def speaker_listener_move(probs: np.ndarray, cfg: SpeakerListenerConfig) -> np.ndarray:
    """Probabilities (N, 5) of the listener's move, its unused token (a = move + 5 * token)
    summed out."""
    return probs.reshape(len(probs), sl_rules.VOCAB_SIZE, NUM_ACTIONS).sum(axis=1)


SPEAKER_LISTENER = MessageIntervention(
    listeners=speaker_listener_listeners,
    messages=speaker_listener_messages,
    intervene=speaker_listener_intervene,
    outcome=speaker_listener_move,
)
"""MPE's speaker-listener: the listener's move at every step after the first, intervening on
the token it heard."""


class ListenerRecorder:
    """An act function that keeps every agent's observations at the steps where someone
    listens (counted from the episode's start), for `causal_influence`; one per episode batch.
    """

    def __init__(
        self, act: ActFn, intervention: MessageIntervention, config: Any, num_agents: int
    ) -> None:
        self.act, self.intervention, self.config = act, intervention, config
        self.num_agents = num_agents
        self.steps: list[ListenerStep] = []
        self.t = 0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        listeners = np.asarray(self.intervention.listeners(self.config, self.t))
        if len(listeners):
            batched = obs.reshape(-1, self.num_agents, *obs.shape[1:])  # (B, A, *obs_shape)
            self.steps.append((np.array(batched, copy=True), listeners))
        self.t += 1
        return self.act(obs)


def action_probs_by_message(
    probabilities: Callable[[np.ndarray], np.ndarray],
    step: ListenerStep,
    messages: np.ndarray,
    intervention: MessageIntervention,
    config: Any,
) -> np.ndarray:
    """p(a | s, do(m)) (B·K, M, n) for the K listeners of every copy at one step, each of the
    M messages written into the listeners' observations while the other agents' stay as they
    were (so per-agent networks still see rows copy-major, B·A at a time)."""
    obs, listeners = step
    B, A = obs.shape[:2]
    shape = obs.shape[2:]
    K, L = len(listeners), messages.shape[1]
    per_call = max(1, ROWS_PER_CALL // (B * A))  # messages per call
    out = []
    for start in range(0, len(messages), per_call):
        chunk = messages[start : start + per_call]  # (m, L)
        x = np.repeat(obs[None], len(chunk), axis=0)  # (m, B, A, *obs_shape)
        tokens = np.broadcast_to(chunk[:, None, None], (len(chunk), B, K, L)).reshape(-1, L)
        heard = x[:, :, listeners].reshape(-1, *shape)  # (m·B·K, *obs_shape)
        written = intervention.intervene(heard, tokens, config)
        x[:, :, listeners] = written.reshape(len(chunk), B, K, *shape)
        p = probabilities(x.reshape(-1, *shape)).reshape(len(chunk), B, A, -1)
        p = p[:, :, listeners].reshape(len(chunk) * B * K, -1)
        if intervention.outcome is not None:
            p = intervention.outcome(p, config)
        out.append(p.reshape(len(chunk), B, K, -1))  # (m, B, K, n)
    p = np.concatenate(out, axis=0)  # (M, B, K, n)
    return np.moveaxis(p, 0, 2).reshape(B * K, len(messages), -1)


def causal_influence(
    probabilities: Callable[[np.ndarray], np.ndarray],
    steps: list[ListenerStep],
    intervention: MessageIntervention,
    config: Any,
    rng: np.random.Generator,
) -> float:
    """CIC in bits of a policy (its `action_probabilities`) over recorded listener steps,
    p(m) uniform over the world's candidate messages (see the module docstring); NaN when
    nobody listened."""
    messages = np.asarray(intervention.messages(config, rng))
    channel = getattr(config, "channel", "open")
    total, states = 0.0, 0
    for obs, listeners in steps:
        B, A = obs.shape[:2]
        copies = max(1, ROWS_PER_CALL // (A * len(messages)))  # bounds (states, M, n) in memory
        for start in range(0, B, copies):
            part = (obs[start : start + copies], listeners)
            got = messages
            if channel != "open":  # one draw of the channel, the same for every m (docstring)
                vocab = getattr(config, "vocab_size", None) or int(messages.max()) + 1
                once = heard(channel, messages[:1], vocab, rng)  # (speaker_listener: 3 tokens)
                got = np.repeat(once, len(messages), axis=0)
            p = action_probs_by_message(probabilities, part, got, intervention, config)
            total += causal_influence_of_communication(p) * len(p)
            states += len(p)
    return total / states if states else float("nan")


__all__ = [
    "MAX_MESSAGES",
    "SIGNALLING",
    "SPEAKER_LISTENER",
    "ListenerRecorder",
    "candidate_messages",
    "causal_influence",
]
