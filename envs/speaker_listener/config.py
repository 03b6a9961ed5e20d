"""The typed, validated configuration of speaker-listener."""

from __future__ import annotations

from dataclasses import dataclass

from envs.checks import MAX_STEPS, check_int
from envs.messages import check_channel


@dataclass(frozen=True)
class SpeakerListenerConfig:
    """Speaker-listener settings; defaults are those of `mpe2.simple_speaker_listener_v4`
    (MPE2 1.1), discrete actions."""

    max_cycles: int = 25
    """Episode length in steps; every copy is truncated at this step (mpe2 `max_cycles`); at
    most `checks.MAX_STEPS` = 100,000 (a rollout keeps the whole episode)."""
    channel: str = "open"
    """What the listener hears (`envs.messages.CHANNELS`): "open" the speaker's token as said
    (mpe2), "cut" nothing (its communication slots stay zero), "scrambled" a uniformly random
    token for each one said. Events record what was said."""

    def __post_init__(self) -> None:
        check_int("speaker_listener", "max_cycles", self.max_cycles, 1, MAX_STEPS, "episode length")
        check_channel("speaker_listener", self.channel)

    @property
    def num_agents(self) -> int:
        """Two agents: 0 the speaker, 1 the listener."""
        return 2

    @property
    def max_steps(self) -> int:
        """Episode length, the shell's name for max_cycles."""
        return self.max_cycles
