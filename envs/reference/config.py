"""The typed, validated configuration of reference."""

from __future__ import annotations

from dataclasses import dataclass

from envs.checks import MAX_STEPS, check_int, check_number
from envs.messages import check_channel


@dataclass(frozen=True)
class ReferenceConfig:
    """Reference settings; defaults are those of `mpe2.simple_reference_v3` (MPE2 1.1),
    discrete actions."""

    local_ratio: float = 0.5
    """Weight of an agent's own term; the shared term (the mean of both) is weighted by
    1 - local_ratio (mpe2 `local_ratio`); in [0, 1]."""
    max_cycles: int = 25
    """Episode length in steps; every copy is truncated at this step (mpe2 `max_cycles`); at
    most `checks.MAX_STEPS` = 100,000 (a rollout keeps the whole episode)."""
    channel: str = "open"
    """What each agent hears of the other (`envs.messages.CHANNELS`): "open" the token as said
    (mpe2), "cut" nothing (its communication slots stay zero), "scrambled" a uniformly random
    token for each one said. Events record what was said."""

    def __post_init__(self) -> None:
        check_int("reference", "max_cycles", self.max_cycles, 1, MAX_STEPS, "episode length")
        check_number("reference", "local_ratio", self.local_ratio, 0.0, 1.0)
        check_channel("reference", self.channel)

    @property
    def num_agents(self) -> int:
        """Two agents, each a speaker and a listener."""
        return 2

    @property
    def max_steps(self) -> int:
        """Episode length, the shell's name for max_cycles."""
        return self.max_cycles
