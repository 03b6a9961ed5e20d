"""Speaker-listener rules: pure, batched `reset`, `step` and `observe` over (B, 2, ...) arrays.

Every formula and constant follows MPE2 1.1 (`mpe2/simple_speaker_listener/
simple_speaker_listener.py` Scenario, `_mpe_utils/core.py` World.step, `simple_env.py`
_set_action), so that for the same initial state and actions the observations (in the
shared layout below), rewards and ends of an episode equal those of
`mpe2.simple_speaker_listener_v4`. Positions and velocities are float64 as in mpe2;
observations are float32.

One step: the speaker (agent 0, immovable) says token c = a_0 // 5; the listener (agent 1,
silent) moves by a_1 % 5 (`envs.particles.integrate`); the listener then hears
`envs.messages.heard(channel, c)`, shown from the next observation on. Both get
R = - |p_listener - q_goal|^2 at the new position.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium
import numpy as np

from envs.messages import SILENT, heard, one_hot
from envs.particles import NUM_ACTIONS, integrate, scattered, split_action
from envs.speaker_listener.config import SpeakerListenerConfig

SPEAKER, LISTENER = 0, 1
NUM_LANDMARKS = 3
VOCAB_SIZE = 3  # mpe2 world.dim_c
AGENT_SIZE = 0.075  # simple_speaker_listener make_world
LANDMARK_SIZE = 0.04
REACH_RADIUS = AGENT_SIZE + LANDMARK_SIZE
"""The listener has reached the goal when its disc touches the goal landmark's (0.115)."""
LANDMARK_COLOURS = np.array(
    [[0.65, 0.15, 0.15], [0.15, 0.65, 0.15], [0.15, 0.15, 0.65]], dtype=np.float64
)
"""(3, 3) RGB in [0, 1] of the landmarks (mpe2 reset_world): the speaker sees its goal's."""
MOVABLE = np.array([False, True])  # the speaker does not move
OBS_SIZE = 2 + 11  # role bits + the listener's mpe2 observation (the larger of the two)
NUM_JOINT_ACTIONS = NUM_ACTIONS * VOCAB_SIZE  # a = move + 5 * token

EVENT_NAMES = ("token", "goal", "reached")


@dataclass(frozen=True)
class SpeakerListenerState:
    """B copies of the world; agent 0 the speaker, agent 1 the listener."""

    pos: np.ndarray  # (B, 2, 2) float64 agent positions (the speaker's never changes)
    vel: np.ndarray  # (B, 2, 2) float64 agent velocities (the speaker's stays 0)
    landmarks: np.ndarray  # (B, 3, 2) float64 landmark positions (never move)
    goal: np.ndarray  # (B,) int64 the landmark the listener must reach, seen by the speaker
    said: np.ndarray  # (B,) int64 the speaker's last token; SILENT before the first step
    heard: np.ndarray  # (B,) int64 what the listener got of it (`messages.heard`)
    t: np.ndarray  # (B,) int32 steps taken this episode


def spaces(cfg: SpeakerListenerConfig) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Discrete]:
    """One agent's spaces: Box(-inf, inf, (13,), float32) observations (`observe`) and
    Discrete(15) actions a = move + 5 * token."""
    inf = np.float32(np.inf)
    observation = gymnasium.spaces.Box(-inf, inf, (OBS_SIZE,), np.float32)
    return observation, gymnasium.spaces.Discrete(NUM_JOINT_ACTIONS)


def event_names(cfg: SpeakerListenerConfig) -> tuple[str, ...]:
    """The keys of `step`'s events, the same for every config."""
    return EVENT_NAMES


def make_state(
    pos: np.ndarray,
    landmarks: np.ndarray,
    goal: int | np.ndarray,
    vel: np.ndarray | None = None,
    said: int | np.ndarray = SILENT,
    t: int | np.ndarray = 0,
) -> SpeakerListenerState:
    """Build a state from given positions (for tests and for starting from a chosen layout);
    the listener hears what was said.

    Args:
        pos: (B, 2, 2) or (2, 2) positions of the speaker and the listener.
        landmarks: (B, 3, 2) or (3, 2).
        goal: the goal landmark in 0..2, a number or (B,).
        vel: like `pos` (default zeros; the speaker's must be 0).
        said: the token said last, a number or (B,) (default SILENT: nothing yet).
        t: steps already taken, a number or (B,).
    """
    pos = np.array(pos, dtype=np.float64, ndmin=3)
    landmarks = np.array(landmarks, dtype=np.float64, ndmin=3)
    vel = np.zeros_like(pos) if vel is None else np.array(vel, dtype=np.float64, ndmin=3)
    if pos.shape[1:] != (2, 2) or vel.shape != pos.shape:
        raise ValueError(
            f"speaker_listener: pos {pos.shape} and vel {vel.shape}; expected (B, 2, 2)"
        )
    if landmarks.shape != (len(pos), NUM_LANDMARKS, 2):
        raise ValueError(f"speaker_listener: landmarks shape {landmarks.shape}; expected (B, 3, 2)")
    B = len(pos)
    said = np.broadcast_to(np.asarray(said, dtype=np.int64), (B,)).copy()
    return SpeakerListenerState(
        pos=pos,
        vel=vel,
        landmarks=landmarks,
        goal=np.broadcast_to(np.asarray(goal, dtype=np.int64), (B,)).copy(),
        said=said,
        heard=said.copy(),
        t=np.broadcast_to(np.asarray(t, dtype=np.int32), (B,)).copy(),
    )


def reset(
    cfg: SpeakerListenerConfig, batch_size: int, rng: np.random.Generator
) -> SpeakerListenerState:
    """A goal landmark uniform in 0..2; agents and landmarks uniform in [-1, 1]^2, at rest;
    nothing said yet (mpe2 reset_world)."""
    return SpeakerListenerState(**scattered(batch_size, (), NUM_LANDMARKS, rng))


def observe(cfg: SpeakerListenerConfig, state: SpeakerListenerState) -> np.ndarray:
    """Observations (B, 2, 13) float32: [role one-hot (2), the agent's mpe2 observation,
    zero-padded to 11]:

    speaker  [1, 0, colour of the goal landmark (3), 0 (8)];
    listener [0, 1, v (2), q_l - p for the landmarks l = 0..2 (6), heard token one-hot (3),
        all zeros before the first step or on a cut channel].
    """
    B = len(state.t)
    obs = np.zeros((B, 2, OBS_SIZE), dtype=np.float32)
    obs[:, SPEAKER, 0] = obs[:, LISTENER, 1] = 1.0
    obs[:, SPEAKER, 2:5] = LANDMARK_COLOURS[state.goal]
    listener = obs[:, LISTENER]  # view (B, 13)
    listener[:, 2:4] = state.vel[:, LISTENER]
    listener[:, 4:10] = (state.landmarks - state.pos[:, LISTENER, None]).reshape(B, 6)
    listener[:, 10:13] = one_hot(state.heard, VOCAB_SIZE)
    return obs


def step(
    cfg: SpeakerListenerConfig,
    state: SpeakerListenerState,
    actions: np.ndarray,
    rng: np.random.Generator,
) -> tuple[SpeakerListenerState, np.ndarray, dict[str, np.ndarray]]:
    """Advance every copy by one step.

    Args:
        actions: (B, 2) integers in 0..14, a = move + 5 * token: the speaker's token is
            a_0 // 5 (its move is ignored: it cannot move), the listener's move a_1 % 5 (its
            token is ignored: it is silent).
        rng: draws the scrambled tokens (unused on an open or cut channel).
    Returns:
        (new state, rewards (B, 2) float32, events), events (B, 2) int32: "token", the
        speaker's token + 1 in the speaker's column (0 for the listener); "goal", the goal
        landmark + 1 in the speaker's column, what its token should tell (0 for the
        listener); "reached", 1 in the listener's column when it is within REACH_RADIUS of
        the goal after the move.
    """
    moves, tokens = split_action(actions)
    pos, vel = integrate(state.pos, state.vel, moves, MOVABLE)
    said = tokens[:, SPEAKER].astype(np.int64)
    B = len(said)
    new = SpeakerListenerState(
        pos=pos,
        vel=vel,
        landmarks=state.landmarks,
        goal=state.goal,
        said=said,
        heard=heard(cfg.channel, said, VOCAB_SIZE, rng),
        t=state.t + 1,
    )
    to_goal = state.landmarks[np.arange(B), state.goal] - pos[:, LISTENER]  # (B, 2)
    dist2 = to_goal[:, 0] ** 2 + to_goal[:, 1] ** 2  # (B,) as mpe2's np.sum(np.square(.))
    rewards = np.repeat(-dist2[:, None], 2, axis=1).astype(np.float32)
    zero = np.zeros(B, dtype=np.int32)
    events = {
        "token": np.stack([said + 1, zero], axis=1).astype(np.int32),
        "goal": np.stack([state.goal + 1, zero], axis=1).astype(np.int32),
        "reached": np.stack([zero, dist2 < REACH_RADIUS**2], axis=1).astype(np.int32),
    }
    return new, rewards, events
