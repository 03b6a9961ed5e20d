"""Rollout storage and generalised advantage estimation for `agents.ppo`.

Buffers are preallocated torch tensors shaped like CleanRL's, with an agent axis:
(T, B, A, ...) = (num_steps, copies, agents, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass
class Rollout:
    """One rollout of T steps of B copies × A agents, written in place step by step."""

    obs: Tensor
    """(T, B, A, *obs_shape), in the observation's own dtype (uint8 images stay uint8)."""
    actions: Tensor
    """(T, B, A) int64, or (T, B, A, D) float32 for Box actions (before clipping)."""
    logprobs: Tensor
    """(T, B, A) log π(a_t | s_t) under the policy that acted."""
    values: Tensor
    """(T, B, A) V(s_t) under the policy that acted."""
    rewards: Tensor
    """(T, B, A) r_t, plus γ·V(s_final) on truncated steps (see `compute_gae`)."""
    ends: Tensor
    """(T, B) 1.0 where step t ended the episode (terminated or truncated)."""
    starts: Tensor
    """(T, B) 1.0 where obs[t] begins an episode (the recurrent state is zeroed before it)."""
    next_value: Tensor
    """(B, A) V of the observation after the last step, for bootstrapping."""
    h0: Tensor | None
    """(B, A, H) recurrent state before obs[0], or None without a recurrent core."""

    @classmethod
    def allocate(
        cls,
        T: int,
        B: int,
        A: int,
        obs_shape: tuple[int, ...],
        obs_dtype: np.dtype,
        action_dim: int | None,
        rnn_size: int | None,
        device: torch.device | str,
    ) -> Rollout:
        """Zeroed buffers; `action_dim` None means discrete actions."""
        obs_torch_dtype = torch.from_numpy(np.zeros(0, dtype=obs_dtype)).dtype

        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
            return torch.zeros(shape, dtype=dtype, device=device)

        actions = (
            zeros(T, B, A, dtype=torch.int64) if action_dim is None else zeros(T, B, A, action_dim)
        )
        return cls(
            obs=zeros(T, B, A, *obs_shape, dtype=obs_torch_dtype),
            actions=actions,
            logprobs=zeros(T, B, A),
            values=zeros(T, B, A),
            rewards=zeros(T, B, A),
            ends=zeros(T, B),
            starts=zeros(T, B),
            next_value=zeros(B, A),
            h0=None if rnn_size is None else zeros(B, A, rnn_size),
        )


def compute_gae(
    rewards: Tensor,
    values: Tensor,
    ends: Tensor,
    next_value: Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[Tensor, Tensor]:
    """Generalised advantage estimates and the value targets (returns).

        δ_t = r_t + γ (1 - e_t) V(s_{t+1}) - V(s_t)
        Â_t = δ_t + γ λ (1 - e_t) Â_{t+1},        returns_t = Â_t + V(s_t)

    with e_t = 1 where step t ended its episode and V(s_T) = `next_value`. Truncation (the
    time limit, not a terminal state) is handled before this function, as SB3 does: the
    rollout adds γ·V(s_final) to the reward of the truncated step, where s_final is the last
    observation of the episode, so the cut-off future is bootstrapped and not counted as zero.

    Ref: Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized
    Advantage Estimation", eq. 16; Pardo et al. 2018, "Time Limits in Reinforcement Learning".

    Args:
        rewards, values: (T, B, A). ends: (T, B). next_value: (B, A).
    Returns:
        advantages, returns: each (T, B, A).
    """
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(len(rewards))):
        following = next_value if t == len(rewards) - 1 else values[t + 1]
        nonterminal = (1.0 - ends[t])[:, None]  # (B, 1): broadcast over agents
        delta = rewards[t] + gamma * nonterminal * following - values[t]
        last = delta + gamma * gae_lambda * nonterminal * last
        advantages[t] = last
    return advantages, advantages + values
