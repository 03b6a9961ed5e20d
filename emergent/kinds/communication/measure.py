"""What a trained speaker and listener are measured on, in the Signalling world itself.

- Success: games won when the pair plays the world (`agents.talking.play`, greedy), on the
  training split, on the held-out attribute combinations (Chaabouni et al. 2020), and with the
  channel cut or scrambled (the same agents; Lowe et al. 2019's ablation). Chance is 1 / K.
- The language: the speaker's greedy message for every object of a split, against its
  attribute values: message entropy, positive signalling I(M; S), topographic similarity,
  posdis and bosdis (`emergent.metrics.communication`, EGG's definitions, in bits), beside the
  same messages shuffled across objects (a language with the same words and no structure).
- Positive listening: the causal influence of communication (`emergent.metrics.influence`) at
  listener states of training games. From the listener's side the message is random: the
  target is any of its K candidates, so p(m | s) puts 1/K on the speaker's message for each
  candidate. Each intervention do(m) sets the message sent; it reaches the listener through the
  world's channel, so on a scrambled channel the listener hears random tokens whatever m is and
  the CIC is 0 (`causal_influence`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

import envs
from agents.talking import SignallingGame, play
from emergent.metrics.communication import (
    bag_of_symbols_disentanglement,
    message_entropy,
    positional_disentanglement,
    positive_signalling,
    topographic_similarity,
)
from emergent.metrics.influence import causal_influence_of_communication
from envs.messages import heard, one_hot
from envs.signalling import SignallingConfig
from envs.signalling.rules import reset
from envs.signalling.split import attributes, held_out_objects, split_objects

CHANNELS = ("open", "cut", "scrambled")
NOISE_DRAWS = 16
"""Draws of a scrambled channel's random tokens averaged in p(a | do(m))."""


def world(env: SignallingConfig, split: str = "train", channel: str = "open") -> SignallingConfig:
    """The experiment's world with another split or channel."""
    return dataclasses.replace(env, split=split, channel=channel)


def success(game: SignallingGame, env: SignallingConfig, games: int, seed: int) -> float:
    """Share of `games` games won, the pair playing world `env` greedily (one copy per game)."""
    batch = envs.WORLDS["signalling"].make(batch_size=games, seed=seed, **dataclasses.asdict(env))
    _, events, _ = play(batch, game, seed)
    return float(events["success"][:, -1, 1].mean())


def successes(game: SignallingGame, env: SignallingConfig, games: int, seed: int) -> dict:
    """Success on the training and held-out splits (open channel), and on the training split
    with the channel cut and scrambled; `chance` = 1 / K."""
    out = {
        "success_train": success(game, world(env, "train"), games, seed),
        "success_held_out": success(game, world(env, "held_out"), games, seed),
        "success_cut": success(game, world(env, "train", "cut"), games, seed),
        "success_scrambled": success(game, world(env, "train", "scrambled"), games, seed),
    }
    return {**out, "chance": 1.0 / env.num_candidates}


def objects_of(env: SignallingConfig, split: str) -> np.ndarray:
    """Object indices of a split ("train", "held_out" or "all")."""
    if split == "held_out":
        return np.asarray(held_out_objects(world(env, split)))
    pool = split_objects(world(env, split))
    return np.arange(env.n_objects) if pool is None else np.asarray(pool)


@torch.no_grad()
def messages_for(game: SignallingGame, env: SignallingConfig, objects: np.ndarray) -> np.ndarray:
    """(N, L) the speaker's greedy messages for objects (N,)."""
    values = torch.from_numpy(attributes(env, objects)).to(game.device)
    return game.speaker(game.codes(values), "greedy").tokens.cpu().numpy()


def language(game: SignallingGame, env: SignallingConfig, seed: int) -> dict:
    """The structure of the speaker's language over the training objects and over every
    object, beside the same messages shuffled across objects (seeded)."""
    out: dict[str, float] = {}
    rng = np.random.default_rng([seed, 7])
    for split in ("train", "all"):
        objects = objects_of(env, split)
        meanings = attributes(env, objects)
        messages = messages_for(game, env, objects)
        shuffled = messages[rng.permutation(len(messages))]
        for label, said in (("", messages), ("shuffled_", shuffled)):
            key = f"{label}{split}"
            out[f"topsim_{key}"] = topographic_similarity(meanings, said)
            out[f"posdis_{key}"] = positional_disentanglement(meanings, said)
            out[f"bosdis_{key}"] = bag_of_symbols_disentanglement(meanings, said, env.vocab_size)
        out[f"entropy_{split}"] = message_entropy(messages)
        out[f"positive_signalling_{split}"] = positive_signalling(meanings, messages)
        out[f"distinct_messages_{split}"] = float(len(np.unique(messages, axis=0)))
        out[f"objects_{split}"] = float(len(objects))
    return out


@torch.no_grad()
def causal_influence(
    game: SignallingGame, env: SignallingConfig, states: int, channel: str, seed: int
) -> float:
    """CIC in bits at `states` listener states of training games, messages sent on `channel`
    (see the module docstring).

    The channel is a random map from the message sent m to the message heard h, so
    p(a | do(m)) = sum_h p(h | m) p(a | h). Open: h = m; cut: h is silence whatever m is;
    scrambled: h is `NOISE_DRAWS` draws of random tokens, the same draws for every m (common
    random numbers), so p(a | do(m)) is the same for every m and the CIC is exactly 0, as it
    is in expectation for any number of draws.
    """
    rng = np.random.default_rng([seed, 11])
    K, L, V = env.num_candidates, env.message_length, env.vocab_size
    state = reset(world(env, "train"), states, rng)
    candidates = state.candidates[:, 0]  # (N, K, n_attributes)
    codes = game.codes(torch.from_numpy(candidates.reshape(-1, env.n_attributes)))
    said = game.speaker(codes.to(game.device), "greedy").tokens.cpu().numpy()
    sent = said.reshape(states, K, L)  # (N, M = K, L): do(m_k), the message for candidate k
    draws = NOISE_DRAWS if channel == "scrambled" else 1
    noise = heard(channel, np.broadcast_to(sent[:, :1], (draws, states, 1, L)), V, rng)
    cand_codes = F.one_hot(torch.from_numpy(candidates), env.n_values).float().flatten(2)
    cand_codes = cand_codes[:, None].expand(states, K, K, -1).reshape(states * K, K, -1)
    action_probs = np.zeros((states, K, K))
    for d in range(draws):
        got = sent if channel == "open" else np.broadcast_to(noise[d], sent.shape)
        hot = torch.from_numpy(one_hot(got, V))  # (N, M, L, V), silence as zero rows
        probs = game.listener.probabilities(
            hot.reshape(states * K, L, V).to(game.device), cand_codes.to(game.device)
        )
        action_probs += probs.reshape(states, K, K).cpu().numpy().astype(np.float64) / draws
    return causal_influence_of_communication(action_probs)
