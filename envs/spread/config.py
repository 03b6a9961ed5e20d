"""The typed, validated configuration of Spread (cooperative navigation)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpreadConfig:
    """Spread settings; defaults are those of `mpe2.simple_spread_v3` (MPE2 1.1)."""

    num_agents: int = 3
    """N agents and N landmarks in every copy (mpe2 argument `N`)."""
    local_ratio: float = 0.5
    """Weight of the local collision penalty; the shared landmark term is weighted by
    1 - local_ratio (mpe2 `local_ratio`)."""
    max_cycles: int = 25
    """Episode length in steps; every copy is truncated at this step (mpe2 `max_cycles`)."""
    continuous_actions: bool = False
    """Box(0, 1, (5,)) actions instead of Discrete(5) (mpe2 `continuous_actions`)."""
    max_speed: float | None = None
    """Cap on each agent's speed after integration; None (no cap) as in simple_spread, other
    MPE scenarios set one (mpe2 `Entity.max_speed`)."""

    def __post_init__(self) -> None:
        if not _is_int(self.num_agents) or self.num_agents < 1:
            raise ValueError(f"spread: num_agents={self.num_agents!r}; must be an integer >= 1")
        if not _is_int(self.max_cycles) or self.max_cycles < 1:
            raise ValueError(f"spread: max_cycles={self.max_cycles!r}; must be an integer >= 1")
        if not _is_number(self.local_ratio) or not 0.0 <= self.local_ratio <= 1.0:
            raise ValueError(f"spread: local_ratio={self.local_ratio!r}; must be in [0, 1]")
        if not isinstance(self.continuous_actions, bool):
            raise ValueError(
                f"spread: continuous_actions={self.continuous_actions!r}; must be true or false"
            )
        if self.max_speed is not None and (not _is_number(self.max_speed) or self.max_speed <= 0):
            raise ValueError(f"spread: max_speed={self.max_speed!r}; must be None or a number > 0")

    @property
    def max_steps(self) -> int:
        """Episode length, the shell's name for max_cycles."""
        return self.max_cycles

    @property
    def obs_size(self) -> int:
        """Length 6 N of one observation: 2 vel + 2 pos + 2 N landmarks + 4 (N - 1) others."""
        return 6 * self.num_agents


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
