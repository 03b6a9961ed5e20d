"""Reference: two agents guide each other to landmarks (`reference`, version 1), as MPE2's.

Source: Lowe et al. 2017, "Multi-agent actor-critic for mixed cooperative-competitive
environments" (NeurIPS), after Mordatch and Abbeel 2018, "Emergence of grounded compositional
language in multi-agent populations" (AAAI); the implementation followed step for step is
PettingZoo/MPE2's `simple_reference_v3` (MPE2 1.1, `mpe2/simple_reference/simple_reference.py`,
`_mpe_utils/core.py`, `simple_env.py`). For the same initial state and actions the
observations, rewards, terminations and truncations are those of mpe2 (tests run both side by
side).

Two agents and three landmarks (red, green, blue) in the plane, all uniform in [-1, 1]^2. Each
agent i knows a goal g_i, uniform over the landmarks and independent of the other's: the
landmark the *other* agent must reach. Each must tell the other where to go and go where it is
told: both speak and listen at every step.

Spaces (per agent, the same for both: mpe2's layout):
    observation: Box(-inf, inf, (21,), float32) = [own velocity (2), landmark l - own position
        for l = 0..2 (6), colour of g_i (3), the other agent's token as heard, one-hot (10):
        zeros before the first step, and always on a cut channel].
    action: Discrete(50), a = move + 5 * token (mpe2's encoding): move a % 5 = no-op, left,
        right, down, up (force 5 along -x, +x, -y, +y), token a // 5 in 0..9.
    Continuous actions are not supported.

Messages: each agent's token is part of the joint action and reaches the other agent's
observation after the step in which it is said, through the `channel` setting
(`envs.messages`): "open" as said (mpe2), "cut" never (zeros), "scrambled" a uniform random
token (drawn from the env's generator) for each one said.

Dynamics (`envs.particles`): velocity damped by 0.25 per step, dt = 0.1, unit mass; no
collisions (no entity collides in this scenario).

Rewards, at the positions after the move: agent i's own term is r_i = - |p_j - q_{g_i}| (how
far the *other* agent j is from the landmark i knows), and
R_i = (1 - local_ratio) (r_0 + r_1) / 2 + local_ratio r_i.

Events (per step, (B, 2) int32):
    "token": agent i's token + 1 (a code, not a count).
    "goal": g_i + 1, what agent i's token should tell.
    "reached": 1 when agent i is within 0.1 of its own target g_j (the discs touch), else 0.
`emergent.worlds.reference` reads these.

Episodes end by truncation at max_cycles = 25 (never terminated). Defaults: local_ratio 0.5;
see `ReferenceConfig`. Tests and experiments may start from a chosen layout with
`rules.make_state` (assign it to the env's `state`).

Version history: v1, first version.
"""

from envs.core import Rules
from envs.reference import render, rules
from envs.reference.config import ReferenceConfig

RULES = Rules(
    name="reference",
    reset=rules.reset,
    step=rules.step,
    observe=rules.observe,
    render=render.render,
    spaces=rules.spaces,
    event_names=rules.event_names,
)


__all__ = ["RULES", "ReferenceConfig"]
