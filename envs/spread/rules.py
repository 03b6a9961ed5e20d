"""Spread rules: pure, batched `reset`, `step` and `observe` over (B, N, ...) arrays.

Every formula and constant follows MPE2 1.1 (`mpe2/_mpe_utils/core.py` World.step,
`_mpe_utils/simple_env.py` _set_action and _execute_world_step, `simple_spread/
simple_spread.py` Scenario), so that for the same initial state and actions the
observations, rewards and ends of an episode equal those of `mpe2.simple_spread_v3`.
Positions and velocities are float64 as in mpe2; observations are cast to float32 at the end,
as mpe2's `observe` does.

Physics of one step (semi-implicit Euler on point masses, m = 1):
    u_i = 5 * (x, y) move of the action                             (action force)
    f_ij = c * (p_i - p_j) / d_ij * k * log(1 + exp(-(d_ij - 2 r) / k)),  d_ij = |p_i - p_j|
        (soft contact between agents i != j; c = 100, k = 1e-3, r = 0.15; landmarks never
        collide)
    p' = p + v dt,  v' = (1 - damping) v + (u_i + sum_j f_ij) dt      (dt = 0.1, damping 0.25)
    v' <- v' * max_speed / |v'| where |v'| > max_speed (only when a cap is configured).
Rewards at the new positions: R_i = (1 - local_ratio) G + local_ratio L_i with
    G = - sum_l min_i |p_i - q_l| (q_l landmark l) and L_i = - #{j != i : d_ij < 2 r}.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import gymnasium
import numpy as np

from envs.spread.config import SpreadConfig

DT = 0.1  # mpe2 World.dt
DAMPING = 0.25  # mpe2 World.damping
CONTACT_FORCE = 100.0  # mpe2 World.contact_force
CONTACT_MARGIN = 1e-3  # mpe2 World.contact_margin
AGENT_SIZE = 0.15  # simple_spread make_world
LANDMARK_SIZE = 0.05  # mpe2 Entity.size default (drawing only: landmarks do not collide)
SENSITIVITY = 5.0  # mpe2 _set_action, agent.accel is None
COMM_DIM = 2  # simple_spread world.dim_c; agents are silent, so the channel is all zeros
CAPTURE_RADIUS = 0.1  # simple_spread Scenario.CAPTURE_RADIUS: an agent this close occupies
NUM_ACTIONS = 5  # no-op, left, right, down, up

MOVES = SENSITIVITY * np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]], dtype=np.float64)
"""(5, 2) action force of each discrete action (mpe2 _set_action)."""

EVENT_NAMES = ("collisions", "covered")


@dataclass(frozen=True)
class SpreadState:
    """B copies of the world; N agents and N landmarks each.

    The arrays are indexed batch first, but `reset`, `make_state` and `step` store pos, vel
    and landmarks as transposed views of (2, N, B) buffers: `step` then works on
    `x.transpose(2, 1, 0)` without copying, with every vectorised loop running over B.
    """

    pos: np.ndarray  # (B, N, 2) float64 agent positions
    vel: np.ndarray  # (B, N, 2) float64 agent velocities
    landmarks: np.ndarray  # (B, N, 2) float64 landmark positions (never move)
    t: np.ndarray  # (B,) int32 steps taken this episode


class _Tables(NamedTuple):
    """Index tables of N agents, built once per N."""

    first: np.ndarray  # (P,) agent i of each pair i < j, P = N (N - 1) / 2
    second: np.ndarray  # (P,) agent j of each pair
    incidence: np.ndarray  # (N, P) +1 where the agent is `first`, -1 where `second`
    viewer: np.ndarray  # (N (N - 1),) agent i, repeated for each other agent j
    other: np.ndarray  # (N (N - 1),) the other agents j != i, in index order
    agents: np.ndarray  # (N, 1, 1) 0..N-1


@lru_cache(maxsize=32)
def _tables(N: int) -> _Tables:
    first, second = np.triu_indices(N, 1)
    incidence = np.zeros((N, len(first)))
    incidence[first, np.arange(len(first))] = 1.0
    incidence[second, np.arange(len(first))] = -1.0
    viewer, other = np.nonzero(~np.eye(N, dtype=bool))
    return _Tables(first, second, incidence, viewer, other, np.arange(N)[:, None, None])


def spaces(cfg: SpreadConfig) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Space]:
    """One agent's spaces: Box(-inf, inf, (6N,), float32) observations (`observe`), and
    Discrete(5) actions or, with continuous_actions, Box(0, 1, (5,), float32)."""
    inf = np.float32(np.inf)
    observation = gymnasium.spaces.Box(-inf, inf, (cfg.obs_size,), np.float32)
    if cfg.continuous_actions:
        return observation, gymnasium.spaces.Box(0.0, 1.0, (NUM_ACTIONS,), np.float32)
    return observation, gymnasium.spaces.Discrete(NUM_ACTIONS)


def event_names(cfg: SpreadConfig) -> tuple[str, ...]:
    """The keys of `step`'s events, the same for every config."""
    return EVENT_NAMES


def _batch_last(x: np.ndarray) -> np.ndarray:
    """The (B, N, 2) values of `x` as a view of a contiguous (2, N, B) buffer."""
    return np.ascontiguousarray(x.transpose(2, 1, 0)).transpose(2, 1, 0)


def make_state(
    pos: np.ndarray,
    landmarks: np.ndarray,
    vel: np.ndarray | None = None,
    t: int | np.ndarray = 0,
) -> SpreadState:
    """Build a state from given positions (for tests and for starting from a chosen layout).

    Args:
        pos: (B, N, 2) or (N, 2) agent positions.
        landmarks: the same shape as `pos`, landmark positions.
        vel: the same shape as `pos` (default zeros).
        t: steps already taken, a number or (B,).
    """
    pos = np.array(pos, dtype=np.float64, ndmin=3)
    landmarks = np.array(landmarks, dtype=np.float64, ndmin=3)
    vel = np.zeros_like(pos) if vel is None else np.array(vel, dtype=np.float64, ndmin=3)
    if pos.ndim != 3 or pos.shape[2] != 2:
        raise ValueError(f"spread: pos shape {pos.shape}; expected (B, N, 2) or (N, 2)")
    if landmarks.shape != pos.shape or vel.shape != pos.shape:
        raise ValueError(
            f"spread: landmarks {landmarks.shape} and vel {vel.shape} must match pos {pos.shape}"
        )
    t = np.broadcast_to(np.asarray(t, dtype=np.int32), pos.shape[:1]).copy()
    return SpreadState(_batch_last(pos), _batch_last(vel), _batch_last(landmarks), t)


def reset(cfg: SpreadConfig, batch_size: int, rng: np.random.Generator) -> SpreadState:
    """Agents and landmarks uniform in [-1, 1]^2, agents at rest (mpe2 reset_world)."""
    N = cfg.num_agents
    xy = rng.uniform(-1.0, 1.0, size=(batch_size, 2 * N, 2))  # agents, then landmarks
    return SpreadState(
        pos=_batch_last(xy[:, :N]),
        vel=np.zeros((2, N, batch_size)).transpose(2, 1, 0),
        landmarks=_batch_last(xy[:, N:]),
        t=np.zeros(batch_size, dtype=np.int32),
    )


def action_force(cfg: SpreadConfig, actions: np.ndarray) -> np.ndarray:
    """Force (2, N, B) float64 of the agents' own actions (B, N[, 5]) (mpe2 _set_action).

    Discrete a in 0..4: SENSITIVITY * (0, 0), (-1, 0), (+1, 0), (0, -1), (0, +1).
    Continuous a in [0, 1]^5 (clipped, as mpe2's ClipOutOfBoundsWrapper does):
    SENSITIVITY * (a_2 - a_1, a_4 - a_3), the difference taken in the actions' own dtype.
    """
    if not cfg.continuous_actions:
        return MOVES.T[:, actions.T]
    a = np.clip(actions.transpose(2, 1, 0), 0.0, 1.0)  # (5, N, B)
    return (a[2::2] - a[1::2]).astype(np.float64) * SENSITIVITY


def contact_force(p: np.ndarray) -> np.ndarray:
    """Sum over the other agents j of the soft contact forces f_ij on agent i (mpe2
    get_collision_force: a softplus penetration with margin k, pushing along p_i - p_j).

    Args:
        p: (2, N, B) agent positions.
    Returns:
        (2, N, B).
    """
    tab = _tables(p.shape[1])
    delta = p[:, tab.first] - p[:, tab.second]  # (2, P, B) p_i - p_j
    dist = np.sqrt(delta[0] * delta[0] + delta[1] * delta[1])  # (P, B)
    k = CONTACT_MARGIN
    x = (2 * AGENT_SIZE - dist) / k
    # log(1 + e^x) is exactly 0 below x = -746 (e^x underflows); skipping those pairs spares
    # exp's slow subnormal path, which apart pairs (x ~ -1000) would otherwise take
    penetration = np.logaddexp(0.0, x, out=np.zeros_like(x), where=x > -750.0) * k
    force = CONTACT_FORCE * delta / dist * penetration  # on i, (2, P, B)
    return np.matmul(tab.incidence, force)  # (N, P) @ (2, P, B) -> (2, N, B)


def _observe(
    v: np.ndarray, p: np.ndarray, to_landmarks: np.ndarray, to_others: np.ndarray
) -> np.ndarray:
    """Observations (B, N, 6N) float32 from (2, N, B) v and p, (2, N, L, B) q_l - p_i and
    (2, N (N - 1), B) p_j - p_i."""
    _, N, B = p.shape
    obs = np.empty((B, N, 6 * N), dtype=np.float32)
    slots = obs.reshape(B, N, 3 * N, 2).transpose(3, 1, 2, 0)  # view (2, N, 3N, B)
    slots[:, :, 0] = v
    slots[:, :, 1] = p
    slots[:, :, 2 : 2 + N] = to_landmarks
    slots[:, :, 2 + N : 1 + 2 * N] = to_others.reshape(2, N, N - 1, B)
    slots[:, :, 1 + 2 * N :] = 0.0  # communication of the other (silent) agents
    return obs


def _relative(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2, N, L, B) q_l - p_i and (2, N (N - 1), B) p_j - p_i for j != i, from (2, N, B) p
    and (2, L, B) q."""
    tab = _tables(p.shape[1])
    return q[:, None] - p[:, :, None], p[:, tab.other] - p[:, tab.viewer]


def observe(cfg: SpreadConfig, state: SpreadState) -> np.ndarray:
    """Observations (B, N, 6N) float32, each agent's vector laid out as in mpe2:

    [v_i (2), p_i (2), q_l - p_i for every landmark l (2N), p_j - p_i for every other agent j
    in index order (2(N-1)), their communication, always 0 (2(N-1))].
    """
    p = state.pos.T  # (2, N, B)
    return _observe(state.vel.T, p, *_relative(p, state.landmarks.T))


def step(
    cfg: SpreadConfig, state: SpreadState, actions: np.ndarray
) -> tuple[SpreadState, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Advance every copy by one step (deterministic: there is no noise in Spread).

    Args:
        actions: (B, N) integers in 0..4, or (B, N, 5) floats with continuous actions.
    Returns:
        (new state, observations (B, N, 6N) float32, rewards (B, N) float32, events), events
        (B, N) int32: "collisions", the other agents overlapping agent i after the move
        (d_ij < 2 r, what the local penalty counts); "covered", the landmarks within
        CAPTURE_RADIUS whose nearest agent (lowest index on ties) is i, so that summed over
        agents it is the number of occupied landmarks (mpe2 benchmark_data).
    """
    p, v, q = state.pos.T, state.vel.T, state.landmarks.T  # (2, N, B) views
    _, N, B = p.shape
    force = action_force(cfg, actions) + contact_force(p)
    p = p + v * DT
    v = v * (1 - DAMPING) + force * DT  # mass 1
    if cfg.max_speed is not None:
        speed = np.sqrt(v[0] * v[0] + v[1] * v[1])  # (N, B)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(speed > cfg.max_speed, v / speed * cfg.max_speed, v)
    new = SpreadState(pos=p.T, vel=v.T, landmarks=state.landmarks, t=state.t + 1)

    to_landmarks, to_others = _relative(p, q)
    gap = np.sqrt(to_others[0] * to_others[0] + to_others[1] * to_others[1])
    collisions = (gap < 2 * AGENT_SIZE).reshape(N, N - 1, B).sum(axis=1)  # (N, B)
    dist = np.sqrt(to_landmarks[0] * to_landmarks[0] + to_landmarks[1] * to_landmarks[1])
    nearest = dist.min(axis=0)  # (L, B) over agents
    shared = -nearest.sum(axis=0)  # (B,) G
    rewards = shared * (1 - cfg.local_ratio) - collisions * cfg.local_ratio  # (N, B)
    occupied = nearest < CAPTURE_RADIUS  # (L, B)
    covered = ((dist.argmin(axis=0) == _tables(N).agents) & occupied).sum(axis=1)  # (N, B)
    events = {
        "collisions": np.ascontiguousarray(collisions.T, dtype=np.int32),
        "covered": np.ascontiguousarray(covered.T, dtype=np.int32),
    }
    obs = _observe(v, p, to_landmarks, to_others)
    return new, obs, np.ascontiguousarray(rewards.T, dtype=np.float32), events
