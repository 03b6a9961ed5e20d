"""The typed, validated configuration of the Lewis signalling game."""

from __future__ import annotations

from dataclasses import dataclass

from envs.checks import MAX_AGENTS, check_int, check_reward

MAX_OBJECTS = 2**62  # n_values ** n_attributes must stay below this (int64 object indices)
MAX_ATTRIBUTES = 16  # with MAX_VALUES: object codes of at most 2048 floats
MAX_VALUES = 128
MAX_MESSAGE_LENGTH = 32  # with MAX_VOCAB_SIZE: messages of at most 32768 one-hot floats
MAX_VOCAB_SIZE = 1024
MAX_CANDIDATES = 1024
MAX_OBS_SIZE = 2**18  # floats in one observation: 1 MiB per agent, 64 MiB for 64 agents


@dataclass(frozen=True)
class SignallingConfig:
    """Lewis referential game settings; defaults are a small game a PPO learner solves quickly.

    Objects are vectors of `n_attributes` attributes, each taking one of `n_values` values, so
    there are n_values ** n_attributes of them (Kottur et al. 2017; Lazaridou et al. 2018 use
    the same attribute x value worlds). A message of `message_length` tokens from a vocabulary
    of `vocab_size` can name vocab_size ** message_length different things.
    """

    n_attributes: int = 2
    """Attributes of an object (e.g. colour, shape); 1 to MAX_ATTRIBUTES = 16. An object's code
    is n_attributes * n_values floats, seen K + 1 times in the observations of a pair."""
    n_values: int = 4
    """Values each attribute takes; 2 to MAX_VALUES = 128 (the same code length), and
    n_values ** n_attributes below 2**62 (objects are int64 indices)."""
    message_length: int = 2
    """L, tokens the speaker sends, one per step; 1 to MAX_MESSAGE_LENGTH = 32 (the game lasts
    L + 1 steps and every observation holds an L x V one-hot message)."""
    vocab_size: int = 4
    """V, distinct tokens; 2 to MAX_VOCAB_SIZE = 1024 (L x V message floats per observation,
    max(V, K) actions)."""
    num_candidates: int = 4
    """K, objects the listener chooses among: the target and K - 1 distinct distractors; 2 to
    the n_values ** n_attributes objects and MAX_CANDIDATES = 1024 (the listener sees K codes).

    Together the sizes must keep one observation, 2 + (L + 1) + (K + 1) * n_attributes *
    n_values + L * V floats (`rules.obs_slices`), within MAX_OBS_SIZE = 2**18 (1 MiB)."""
    pairs: int = 1
    """Speaker/listener pairs per copy, each playing its own independent game; 1 to
    `checks.MAX_AGENTS` / 2 = 32 (more independent games are more copies, B)."""
    success_reward: float = 1.0
    """Reward of both players of a pair when the listener picks the target; finite, at most
    `checks.MAX_REWARD` = 1e6 in magnitude (rewards are float32)."""
    failure_reward: float = 0.0
    """Reward of both players of a pair when the listener picks a distractor; as above."""

    def __post_init__(self) -> None:
        code = "an object's code is n_attributes * n_values floats"
        check_int("signalling", "n_attributes", self.n_attributes, 1, MAX_ATTRIBUTES, code)
        check_int("signalling", "n_values", self.n_values, 2, MAX_VALUES, code)
        check_int(
            "signalling",
            "message_length",
            self.message_length,
            1,
            MAX_MESSAGE_LENGTH,
            "the game lasts L + 1 steps; an L x V one-hot message per observation",
        )
        check_int(
            "signalling",
            "vocab_size",
            self.vocab_size,
            2,
            MAX_VOCAB_SIZE,
            "an L x V one-hot message per observation",
        )
        check_int(
            "signalling",
            "pairs",
            self.pairs,
            1,
            MAX_AGENTS // 2,
            f"A = 2 * pairs agents, at most {MAX_AGENTS}",
        )
        if self.n_values**self.n_attributes >= MAX_OBJECTS:
            raise ValueError(
                f"signalling: n_values ** n_attributes = {self.n_values}**{self.n_attributes}"
                " objects; must be below 2**62"
            )
        check_int(
            "signalling",
            "num_candidates",
            self.num_candidates,
            2,
            min(self.n_objects, MAX_CANDIDATES),
            f"the {self.n_objects} distinct objects n_values ** n_attributes,"
            f" at most {MAX_CANDIDATES}",
        )
        size = self.obs_size
        if size > MAX_OBS_SIZE:
            raise ValueError(
                f"signalling: observations of {size:,} floats (2 + (L + 1) + (K + 1) *"
                " n_attributes * n_values + L * V); must be at most"
                f" {MAX_OBS_SIZE:,}: lower num_candidates, n_attributes, n_values,"
                " message_length or vocab_size"
            )
        for name in ("success_reward", "failure_reward"):
            check_reward("signalling", name, getattr(self, name))

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

    @property
    def obs_size(self) -> int:
        """Length D of one observation: role 2, phase L + 1, target and K candidates' codes
        (K + 1) * object_size, message L * V (laid out by `rules.obs_slices`)."""
        L, K, V = self.message_length, self.num_candidates, self.vocab_size
        return 2 + (L + 1) + (K + 1) * self.object_size + L * V
