"""Speaker-listener: cooperative communication (`speaker_listener`, version 1), as MPE2's.

Source: Lowe et al. 2017, "Multi-agent actor-critic for mixed cooperative-competitive
environments" (NeurIPS), the "cooperative communication" task; the implementation followed
step for step is PettingZoo/MPE2's `simple_speaker_listener_v4` (MPE2 1.1,
`mpe2/simple_speaker_listener/simple_speaker_listener.py`, `_mpe_utils/core.py`,
`simple_env.py`). For the same initial state and actions the observations (in the layout
below, which holds mpe2's unchanged), rewards, terminations and truncations are those of mpe2
(tests run both side by side).

Two agents and three landmarks (red, green, blue) in the plane, all uniform in [-1, 1]^2. The
speaker (agent 0) sees only the colour of the goal landmark, one of the three uniformly, and
cannot move; the listener (agent 1) sees the landmarks and the speaker's token, but not the
goal, and cannot speak. Both are rewarded by how close the listener gets to the goal, so the
speaker must name it and the listener must understand the name.

Both roles share one observation space and one action space, so one parameter-shared policy
can learn both, told apart by the role bits (as in `signalling`):

Spaces (per agent):
    observation: Box(-inf, inf, (13,), float32) = [role one-hot (2): [1, 0] speaker, [0, 1]
        listener; then the agent's mpe2 observation, zero-padded to 11]:
        speaker: colour of the goal landmark (3) (mpe2's 3 values), then 8 zeros;
        listener: own velocity (2), landmark l - own position for l = 0..2 (6), the heard
        token's one-hot (3) (mpe2's 11 values; zeros before the first step, and always on a
        cut channel).
    action: Discrete(15), a = move + 5 * token, the encoding mpe2 uses for agents that both
        move and speak (simple_reference): the speaker says token a // 5 in 0..2 (its move
        is ignored: it cannot move); the listener moves by a % 5 = no-op, left, right, down,
        up (force 5 along -x, +x, -y, +y; its token is ignored: it is silent). mpe2's
        speaker action c in Discrete(3) is a = 5 c here, the listener's m in Discrete(5) is
        a = m. Uniform actions give uniform tokens and uniform moves.
    Continuous actions are not supported.

Message: the speaker's token is part of the joint action and reaches the listener's
observation after the step in which it is said, through the `channel` setting
(`envs.messages`): "open" as said (mpe2), "cut" never (zeros), "scrambled" a uniform random
token (drawn from the env's generator) for each one said.

Dynamics (`envs.particles`): velocity damped by 0.25 per step, dt = 0.1, unit mass; no
collisions (no entity collides in this scenario).

Rewards, at the positions after the move, the same for both agents:
R = - |p_listener - q_goal|^2 (squared distance, as in mpe2).

Events (per step, (B, 2) int32; column 0 the speaker, 1 the listener):
    "token": the speaker's token + 1 (a code, not a count), 0 for the listener.
    "goal": the goal landmark + 1 (what the token should tell), 0 for the listener.
    "reached": 1 for the listener when it is within 0.115 of the goal (its disc touches the
        goal's), else 0; 0 for the speaker.
`emergent.worlds.speaker_listener` reads these.

Episodes end by truncation at max_cycles = 25 (never terminated). Tests and experiments may
start from a chosen layout with `rules.make_state` (assign it to the env's `state`).

Version history: v1, first version.
"""

from envs.core import Rules
from envs.speaker_listener import render, rules
from envs.speaker_listener.config import SpeakerListenerConfig

RULES = Rules(
    name="speaker_listener",
    reset=rules.reset,
    step=rules.step,
    observe=rules.observe,
    render=render.render,
    spaces=rules.spaces,
    event_names=rules.event_names,
)


__all__ = ["RULES", "SpeakerListenerConfig"]
