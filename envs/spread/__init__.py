"""Spread: cooperative navigation (`spread`, version 1), equal to `mpe2.simple_spread_v3`.

Source: Lowe et al. 2017, "Multi-agent actor-critic for mixed cooperative-competitive
environments" (NeurIPS), the "cooperative navigation" task; the implementation followed step
for step is PettingZoo/MPE2's `simple_spread_v3` (MPE2 1.1, `mpe2/simple_spread/
simple_spread.py` and `mpe2/_mpe_utils/core.py`, `simple_env.py`). For the same initial state
and actions the observations, rewards, terminations and truncations are those of mpe2 (tests
run both side by side).

N agents (radius 0.15) and N landmarks move in the plane, starting uniform in [-1, 1]^2 with
agents at rest. Agents must cover every landmark together without bumping into each other.

Spaces (per agent):
    observation: Box(-inf, inf, (6N,), float32) = [own velocity (2), own position (2),
        landmark l - own position for l = 0..N-1 (2N), agent j - own position for the other
        agents in index order (2(N-1)), their communication (2(N-1), always 0: agents are
        silent)]; 18 values for N = 3.
    action: Discrete(5) = no-op, left, right, down, up (force 5 along -x, +x, -y, +y); or,
        with continuous_actions, Box(0, 1, (5,)) with force 5 (a_2 - a_1, a_4 - a_3)
        (values outside [0, 1] are clipped, as mpe2's wrapper does).

Dynamics (`rules` has the formulas): action force plus a soft contact force between
overlapping agents, velocity damped by 0.25 per step, dt = 0.1, unit mass, optional speed cap
(max_speed, None as in simple_spread).

Rewards, at the positions after the move: R_i = (1 - local_ratio) G + local_ratio L_i, with
the shared G = - sum over landmarks of the distance to the nearest agent and the local
L_i = - (number of other agents overlapping agent i, distance < 0.3).

Events (per step, (B, N) int32): "collisions" (other agents overlapping agent i: what L_i
counts) and "covered" (landmarks within 0.1 of agent i for which i is the nearest agent, lowest
index on ties; summed over agents, the number of occupied landmarks, mpe2's benchmark
"occupied_landmarks"). Coverage of an episode = mean over steps of sum_i covered / N.

Episodes end by truncation at max_cycles = 25 (never terminated). Defaults: N = 3,
local_ratio 0.5, discrete actions; see `SpreadConfig`. Tests and experiments may start from
a chosen layout with `rules.make_state` and `SpreadEnv.set_state`.

Version history: v1, first version.
"""

from envs.core import Rules
from envs.spread import render, rules
from envs.spread.config import SpreadConfig
from envs.spread.env import SpreadEnv

RULES = Rules(
    name="spread",
    reset=rules.reset,
    step=rules.step,  # (cfg, state, actions) -> (state, obs, rewards, events), see SpreadEnv
    observe=rules.observe,
    render=render.render,
    spaces=rules.spaces,
    event_names=rules.event_names,
)


__all__ = ["RULES", "SpreadConfig", "SpreadEnv"]
