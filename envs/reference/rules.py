"""Reference rules: pure, batched `reset`, `step` and `observe` over (B, 2, ...) arrays.

Every formula and constant follows MPE2 1.1 (`mpe2/simple_reference/simple_reference.py`
Scenario, `_mpe_utils/core.py` World.step, `simple_env.py` _execute_world_step and
_set_action), so that for the same initial state and actions the observations, rewards and
ends of an episode equal those of `mpe2.simple_reference_v3`. Positions and velocities are
float64 as in mpe2; observations are float32.

One step: agent i moves by a_i % 5 (`envs.particles.integrate`) and says c_i = a_i // 5; the
other agent then hears `envs.messages.heard(channel, c_i)`, shown from the next observation
on. Agent i knows goal g_i, the landmark the other agent j must reach; at the new positions
    r_i = - |p_j - q_{g_i}|,   R_i = (1 - local_ratio) (r_0 + r_1) / 2 + local_ratio r_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium
import numpy as np

from envs.messages import SILENT, heard, one_hot
from envs.particles import NUM_ACTIONS, integrate, scattered, split_action
from envs.reference.config import ReferenceConfig

NUM_LANDMARKS = 3
VOCAB_SIZE = 10  # mpe2 world.dim_c
AGENT_SIZE = 0.05  # mpe2 Entity.size default
LANDMARK_SIZE = 0.05
REACH_RADIUS = AGENT_SIZE + LANDMARK_SIZE
"""An agent has reached its target when its disc touches the target landmark's (0.1)."""
LANDMARK_COLOURS = np.array(
    [[0.75, 0.25, 0.25], [0.25, 0.75, 0.25], [0.25, 0.25, 0.75]], dtype=np.float64
)
"""(3, 3) RGB in [0, 1] of the landmarks (mpe2 reset_world): agent i sees its g_i's."""
OBS_SIZE = 2 + 2 * NUM_LANDMARKS + 3 + VOCAB_SIZE  # 21
OTHER = np.array([1, 0])  # the other agent of each

EVENT_NAMES = ("token", "goal", "reached")


@dataclass(frozen=True)
class ReferenceState:
    """B copies of the world with two agents."""

    pos: np.ndarray  # (B, 2, 2) float64 agent positions
    vel: np.ndarray  # (B, 2, 2) float64 agent velocities
    landmarks: np.ndarray  # (B, 3, 2) float64 landmark positions (never move)
    goal: np.ndarray  # (B, 2) int64 g_i, seen by agent i: the landmark the other must reach
    said: np.ndarray  # (B, 2) int64 each agent's last token; SILENT before the first step
    heard: np.ndarray  # (B, 2) int64 what the other agent got of it (`messages.heard`)
    t: np.ndarray  # (B,) int32 steps taken this episode


def spaces(cfg: ReferenceConfig) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Discrete]:
    """One agent's spaces: Box(-inf, inf, (21,), float32) observations (`observe`) and
    Discrete(50) actions a = move + 5 * token (mpe2's)."""
    inf = np.float32(np.inf)
    observation = gymnasium.spaces.Box(-inf, inf, (OBS_SIZE,), np.float32)
    return observation, gymnasium.spaces.Discrete(NUM_ACTIONS * VOCAB_SIZE)


def event_names(cfg: ReferenceConfig) -> tuple[str, ...]:
    """The keys of `step`'s events, the same for every config."""
    return EVENT_NAMES


def make_state(
    pos: np.ndarray,
    landmarks: np.ndarray,
    goal: np.ndarray,
    vel: np.ndarray | None = None,
    said: int | np.ndarray = SILENT,
    t: int | np.ndarray = 0,
) -> ReferenceState:
    """Build a state from given positions (for tests and for starting from a chosen layout);
    each agent hears what the other said.

    Args:
        pos: (B, 2, 2) or (2, 2) agent positions.
        landmarks: (B, 3, 2) or (3, 2).
        goal: (B, 2) or (2,), g_i in 0..2 for each agent.
        vel: like `pos` (default zeros).
        said: the tokens said last, a number, (2,) or (B, 2) (default SILENT: nothing yet).
        t: steps already taken, a number or (B,).
    """
    pos = np.array(pos, dtype=np.float64, ndmin=3)
    landmarks = np.array(landmarks, dtype=np.float64, ndmin=3)
    vel = np.zeros_like(pos) if vel is None else np.array(vel, dtype=np.float64, ndmin=3)
    if pos.shape[1:] != (2, 2) or vel.shape != pos.shape:
        raise ValueError(f"reference: pos {pos.shape} and vel {vel.shape}; expected (B, 2, 2)")
    if landmarks.shape != (len(pos), NUM_LANDMARKS, 2):
        raise ValueError(f"reference: landmarks shape {landmarks.shape}; expected (B, 3, 2)")
    B = len(pos)
    said = np.broadcast_to(np.asarray(said, dtype=np.int64), (B, 2)).copy()
    return ReferenceState(
        pos=pos,
        vel=vel,
        landmarks=landmarks,
        goal=np.broadcast_to(np.asarray(goal, dtype=np.int64), (B, 2)).copy(),
        said=said,
        heard=said.copy(),
        t=np.broadcast_to(np.asarray(t, dtype=np.int32), (B,)).copy(),
    )


def reset(cfg: ReferenceConfig, batch_size: int, rng: np.random.Generator) -> ReferenceState:
    """Goals uniform in 0..2 (independent for the two agents); agents and landmarks uniform in
    [-1, 1]^2, at rest; nothing said yet (mpe2 reset_world)."""
    return ReferenceState(**scattered(batch_size, (2,), NUM_LANDMARKS, rng))


def observe(cfg: ReferenceConfig, state: ReferenceState) -> np.ndarray:
    """Observations (B, 2, 21) float32, each agent's vector laid out as in mpe2:

    [v_i (2), q_l - p_i for the landmarks l = 0..2 (6), colour of g_i (3), the other agent's
    token as heard, one-hot (10): zeros before the first step or on a cut channel].
    """
    B = len(state.t)
    obs = np.empty((B, 2, OBS_SIZE), dtype=np.float32)
    obs[..., 0:2] = state.vel
    obs[..., 2:8] = (state.landmarks[:, None] - state.pos[:, :, None]).reshape(B, 2, 6)
    obs[..., 8:11] = LANDMARK_COLOURS[state.goal]
    obs[..., 11:] = one_hot(state.heard[:, OTHER], VOCAB_SIZE)
    return obs


def step(
    cfg: ReferenceConfig, state: ReferenceState, actions: np.ndarray, rng: np.random.Generator
) -> tuple[ReferenceState, np.ndarray, dict[str, np.ndarray]]:
    """Advance every copy by one step.

    Args:
        actions: (B, 2) integers in 0..49, a = move + 5 * token (mpe2's discrete encoding):
            move a % 5 = no-op, left, right, down, up; token a // 5 in 0..9.
        rng: draws the scrambled tokens (unused on an open or cut channel).
    Returns:
        (new state, rewards (B, 2) float32, events), events (B, 2) int32: "token", agent i's
        token + 1 (a code, not a count); "goal", g_i + 1, what agent i's token should tell;
        "reached", 1 when agent i is within REACH_RADIUS of its own target g_j after the move.
    """
    moves, tokens = split_action(actions)
    pos, vel = integrate(state.pos, state.vel, moves)
    said = tokens.astype(np.int64)
    new = ReferenceState(
        pos=pos,
        vel=vel,
        landmarks=state.landmarks,
        goal=state.goal,
        said=said,
        heard=heard(cfg.channel, said, VOCAB_SIZE, rng),
        t=state.t + 1,
    )
    b = np.arange(len(pos))[:, None]
    gap = pos[:, OTHER] - state.landmarks[b, state.goal]  # (B, 2, 2) p_j - q_{g_i}
    dist = np.sqrt(gap[..., 0] ** 2 + gap[..., 1] ** 2)  # (B, 2) -r_i
    shared = (-dist[:, 0] - dist[:, 1]) / 2  # (B,) mpe2's sum over agents / 2
    rewards = shared[:, None] * (1 - cfg.local_ratio) - dist * cfg.local_ratio
    events = {
        "token": (said + 1).astype(np.int32),
        "goal": (state.goal + 1).astype(np.int32),
        "reached": (dist[:, OTHER] < REACH_RADIUS).astype(np.int32),
    }
    return new, rewards.astype(np.float32), events
