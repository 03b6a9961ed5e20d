"""The typed, validated configuration of the Lewis signalling game."""

from __future__ import annotations

from dataclasses import dataclass

MAX_OBJECTS = 2**62  # n_values ** n_attributes must stay below this (int64 object indices)


@dataclass(frozen=True)
class SignallingConfig:
    """Lewis referential game settings; defaults are a small game a PPO learner solves quickly.

    Objects are vectors of `n_attributes` attributes, each taking one of `n_values` values, so
    there are n_values ** n_attributes of them (Kottur et al. 2017; Lazaridou et al. 2018 use
    the same attribute x value worlds). A message of `message_length` tokens from a vocabulary
    of `vocab_size` can name vocab_size ** message_length different things.
    """

    n_attributes: int = 2
    """Attributes of an object (e.g. colour, shape)."""
    n_values: int = 4
    """Values each attribute takes."""
    message_length: int = 2
    """L, tokens the speaker sends, one per step."""
    vocab_size: int = 4
    """V, distinct tokens."""
    num_candidates: int = 4
    """K, objects the listener chooses among: the target and K - 1 distinct distractors."""
    pairs: int = 1
    """Speaker/listener pairs per copy, each playing its own independent game."""
    success_reward: float = 1.0
    """Reward of both players of a pair when the listener picks the target."""
    failure_reward: float = 0.0
    """Reward of both players of a pair when the listener picks a distractor."""

    def __post_init__(self) -> None:
        for name, low in (
            ("n_attributes", 1),
            ("n_values", 2),
            ("message_length", 1),
            ("vocab_size", 2),
            ("num_candidates", 2),
            ("pairs", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"signalling: {name}={value!r}; must be an integer >= {low}")
        if self.n_values**self.n_attributes >= MAX_OBJECTS:
            raise ValueError(
                f"signalling: n_values ** n_attributes = {self.n_values}**{self.n_attributes}"
                " objects; must be below 2**62"
            )
        if self.num_candidates > self.n_objects:
            raise ValueError(
                f"signalling: num_candidates={self.num_candidates}; at most the"
                f" {self.n_objects} distinct objects (n_values ** n_attributes)"
            )
        for name in ("success_reward", "failure_reward"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                raise ValueError(f"signalling: {name}={value!r}; must be a number")

    @property
    def n_objects(self) -> int:
        """Distinct objects, n_values ** n_attributes."""
        return self.n_values**self.n_attributes

    @property
    def num_agents(self) -> int:
        """A = 2 * pairs: agent 2p speaks and agent 2p + 1 listens in pair p."""
        return 2 * self.pairs

    @property
    def max_steps(self) -> int:
        """Episode length L + 1: L speaking steps, then the listener's choice."""
        return self.message_length + 1

    @property
    def num_actions(self) -> int:
        """Size max(V, K) of the action space shared by speakers and listeners."""
        return max(self.vocab_size, self.num_candidates)

    @property
    def object_size(self) -> int:
        """Length n_attributes * n_values of an object's concatenated one-hot code."""
        return self.n_attributes * self.n_values
