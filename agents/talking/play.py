"""Talking agents playing the Signalling world itself: its observations in, its actions out.

The speaker reads its target's code off its observation and says its message one token per
step (it is a language model over its own tokens, so saying the whole message at the first step
and one token per step are the same); at step L the listener reads the message as heard on the
world's channel and the candidates off its observation and picks one. What the world returns
(rewards, events) is what the metrics read, as for every learner.
"""

from __future__ import annotations

import numpy as np
import torch

from agents.talking.game import SignallingGame
from envs.core import BatchedEnv
from envs.signalling.rules import LISTENER, SPEAKER, obs_slices


@torch.no_grad()
def play(
    env: BatchedEnv, game: SignallingGame, seed: int, greedy: bool = True
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """One episode in every copy of a Signalling world (every pair plays its own game).

    Args:
        env: a Signalling world whose settings match `game.world` but for the split and the
            channel.
        seed: seeds the world's reset and the agents' sampling.
        greedy: the speaker's most likely tokens and the listener's most likely pick, or
            samples of both.
    Returns:
        rewards (B, T, A), events {name: (B, T, A)} of the T = L + 1 steps, and the
        listener's choice probabilities at its step, (B, P, K).
    """
    cfg, world = env.cfg, game.world
    if (cfg.n_attributes, cfg.n_values, cfg.num_candidates, cfg.message_length) != (
        world.n_attributes,
        world.n_values,
        world.num_candidates,
        world.message_length,
    ) or (cfg.vocab_size, cfg.end_token) != (world.vocab_size, world.end_token):
        raise ValueError("play: the world's sizes differ from those the agents were built for")
    gen = torch.Generator().manual_seed(seed)
    device = game.device
    parts = obs_slices(cfg)
    B, P, K, L, V = (
        env.batch_size,
        cfg.pairs,
        cfg.num_candidates,
        cfg.message_length,
        cfg.vocab_size,
    )
    obs = env.reset(seed=seed).reshape(B, P, 2, -1)
    meaning = torch.from_numpy(obs[:, :, SPEAKER, parts["target"]]).to(device).flatten(0, 1)
    utt = game.speaker(meaning, "greedy" if greedy else "sample", gen=gen)
    tokens = utt.tokens.reshape(B, P, L).cpu().numpy()
    rewards, events = [], []
    actions = np.zeros((B, P, 2), dtype=np.int64)
    for t in range(L):
        actions[:, :, SPEAKER] = tokens[:, :, t]
        obs, *rest = _step(env, actions, rewards, events)
        obs = obs.reshape(B, P, 2, -1)
    heard = torch.from_numpy(obs[:, :, LISTENER, parts["message"]]).to(device)
    candidates = torch.from_numpy(obs[:, :, LISTENER, parts["candidates"]]).to(device)
    probs = game.listener.probabilities(
        heard.reshape(B * P, L, V), candidates.reshape(B * P, K, -1)
    )  # (B P, K)
    if greedy:
        choice = probs.argmax(-1)
    else:
        choice = torch.multinomial(probs.cpu(), 1, generator=gen).squeeze(-1)
    actions[:, :, LISTENER] = choice.reshape(B, P).cpu().numpy()
    _step(env, actions, rewards, events)
    stacked = {k: np.stack([e[k] for e in events], 1) for k in events[0]}
    return np.stack(rewards, 1), stacked, probs.reshape(B, P, K).cpu().numpy().astype(np.float64)


def _step(env: BatchedEnv, actions: np.ndarray, rewards: list, events: list) -> tuple:
    result = env.step(actions.reshape(env.batch_size, -1))
    rewards.append(result.rewards)
    events.append(result.events)
    return result
