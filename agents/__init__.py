"""Learners for the worlds in `envs`.

`make(kind, seed=..., device=..., **options)` returns a trainer with
`train(env, steps, hooks) -> policy`; a policy has `act(obs)`, `save(path)` and `load(path)`.
"""

from __future__ import annotations

from agents import ppo, rllib_policy, rllib_ppo, rllib_ppo_config, sb3_ppo

AGENTS: dict[str, type] = {
    "ppo": ppo.PPO,
    "rllib_ppo": rllib_ppo.RLlibPPO,
    "sb3_ppo": sb3_ppo.SB3PPO,
}

CONFIGS: dict[str, type] = {
    "ppo": ppo.PPOConfig,
    "rllib_ppo": rllib_ppo_config.RLlibPPOConfig,
    "sb3_ppo": sb3_ppo.SB3PPOConfig,
}

POLICIES: dict[str, type] = {
    "ppo": ppo.PPOPolicy,
    "rllib_ppo": rllib_policy.RLlibPolicy,
    "sb3_ppo": sb3_ppo.SB3Policy,
}


def make(kind: str, seed: int = 0, device: str = "auto", **options: object) -> object:
    """Build trainer `kind` from its options.

    Raises:
        KeyError: unknown kind (the message lists the known ones).
        ValueError: an unknown or invalid option.
    """
    if kind not in AGENTS:
        raise KeyError(f"unknown agent {kind!r}; known: {', '.join(sorted(AGENTS))}")
    try:
        config = CONFIGS[kind](**options)
    except TypeError as err:
        raise ValueError(f"{kind}: {err}") from None
    return AGENTS[kind](config, seed=seed, device=device)


__all__ = ["AGENTS", "CONFIGS", "POLICIES", "make"]
