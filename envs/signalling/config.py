"""The typed, validated configuration of the Lewis signalling game."""

from __future__ import annotations

from dataclasses import dataclass

from envs.checks import MAX_AGENTS, check_int, check_reward
from envs.messages import check_channel
from envs.signalling.split import max_held_out

MAX_OBJECTS = 2**62  # n_values ** n_attributes must stay below this (int64 object indices)
MAX_ATTRIBUTES = 16  # with MAX_VALUES: object codes of at most 2048 floats
MAX_VALUES = 128
MAX_MESSAGE_LENGTH = 32  # with MAX_VOCAB_SIZE: messages of at most 32768 one-hot floats
MAX_VOCAB_SIZE = 1024
MAX_CANDIDATES = 1024
MAX_OBS_SIZE = 2**18  # floats in one observation: 1 MiB per agent, 64 MiB for 64 agents
MAX_SPLIT_OBJECTS = 2**20  # a held-out split lists the objects: at most 1,048,576 of them
MAX_SPLIT_SEED = 10**6
SPLITS = ("train", "held_out", "all")


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
    end_token: bool = False
    """With an end token, token `envs.messages.EOS` = 0 ends the message (EGG's convention):
    whatever the speaker does afterwards, the remaining positions are 0. Without, every
    message has exactly L tokens."""
    channel: str = "open"
    """What the listener hears (`envs.messages.CHANNELS`): "open" the message as sent, "cut"
    nothing (its message rows stay zero), "scrambled" a uniformly random token for each one
    sent. The speaker always sees its own message; events record what was said."""
    held_out: int = 0
    """Objects (attribute combinations) kept out of training for a generalisation test
    (Chaabouni et al. 2020): 0, or K to n_objects - K, and only with at most
    MAX_SPLIT_OBJECTS = 2**20 objects. They are the first `held_out` objects of a permutation
    drawn with `split_seed`; every attribute value must still occur in training."""
    split: str = "train"
    """Which objects the K candidates are drawn from (`SPLITS`): "train" the objects not held
    out, "held_out" the held-out ones (a game on unseen combinations only), "all" every
    object. With held_out = 0 all three are every object."""
    split_seed: int = 0
    """Seed of the held-out split, 0 to MAX_SPLIT_SEED = 10**6; it fixes the split across runs
    and across the train and test copies of the world."""

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
        if not isinstance(self.end_token, bool):
            raise ValueError(f"signalling: end_token={self.end_token!r}; must be true or false")
        check_channel("signalling", self.channel)
        if self.split not in SPLITS:
            raise ValueError(
                f"signalling: split={self.split!r}; must be one of {', '.join(SPLITS)}"
            )
        check_int("signalling", "split_seed", self.split_seed, 0, MAX_SPLIT_SEED)
        self._check_held_out()

    def _check_held_out(self) -> None:
        """held_out is 0, or from K to n_objects - K on a world of at most 2**20 objects."""
        if isinstance(self.held_out, int) and self.held_out == 0:
            return
        if self.n_objects > MAX_SPLIT_OBJECTS:
            raise ValueError(
                f"signalling: held_out={self.held_out!r} needs at most {MAX_SPLIT_OBJECTS:,}"
                f" objects (the split lists them); this world has {self.n_objects:,}"
            )
        K = self.num_candidates
        high = max_held_out(self.n_values, self.n_attributes, K)
        if high < K:
            raise ValueError(
                f"signalling: held_out={self.held_out!r}; holding objects out needs at least"
                f" K + max(K, n_values) = {K + max(K, self.n_values)} objects and this world"
                f" has {self.n_objects}; use held_out=0"
            )
        check_int(
            "signalling",
            "held_out",
            self.held_out,
            K,
            high,
            f"0, or K = {K} candidates on both sides and max(K, n_values) objects in training",
        )

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
