"""The typed, validated configuration of Spread (cooperative navigation)."""

from __future__ import annotations

from dataclasses import dataclass

from envs.checks import MAX_AGENTS, MAX_STEPS, check_int, check_number, is_finite_number


@dataclass(frozen=True)
class SpreadConfig:
    """Spread settings; defaults are those of `mpe2.simple_spread_v3` (MPE2 1.1)."""

    num_agents: int = 3
    """N agents and N landmarks in every copy (mpe2 argument `N`); 1 to `checks.MAX_AGENTS` =
    64: agents of radius 0.15 start in [-1, 1]^2, which holds about 57 side by side, contact
    forces are pairwise and an observation has 6 N floats."""
    local_ratio: float = 0.5
    """Weight of the local collision penalty; the shared landmark term is weighted by
    1 - local_ratio (mpe2 `local_ratio`); in [0, 1]."""
    max_cycles: int = 25
    """Episode length in steps; every copy is truncated at this step (mpe2 `max_cycles`); at
    most `checks.MAX_STEPS` = 100,000 (a rollout keeps the whole episode)."""
    continuous_actions: bool = False
    """Box(0, 1, (5,)) actions instead of Discrete(5) (mpe2 `continuous_actions`)."""
    max_speed: float | None = None
    """Cap on each agent's speed after integration; None (no cap) as in simple_spread, other
    MPE scenarios set one (mpe2 `Entity.max_speed`); else a finite number > 0."""

    def __post_init__(self) -> None:
        check_int("spread", "num_agents", self.num_agents, 1, MAX_AGENTS, "agents and landmarks")
        check_int("spread", "max_cycles", self.max_cycles, 1, MAX_STEPS, "episode length")
        check_number("spread", "local_ratio", self.local_ratio, 0.0, 1.0)
        if not isinstance(self.continuous_actions, bool):
            raise ValueError(
                f"spread: continuous_actions={self.continuous_actions!r}; must be true or false"
            )
        speed = self.max_speed
        if speed is not None and not (is_finite_number(speed) and speed > 0):
            raise ValueError(f"spread: max_speed={speed!r}; must be None or a finite number > 0")

    @property
    def max_steps(self) -> int:
        """Episode length, the shell's name for max_cycles."""
        return self.max_cycles

    @property
    def obs_size(self) -> int:
        """Length 6 N of one observation: 2 vel + 2 pos + 2 N landmarks + 4 (N - 1) others."""
        return 6 * self.num_agents
