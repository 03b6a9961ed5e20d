"""Commons Harvest: a common-pool resource dilemma on a grid (`commons`, version 1).

Source: Perolat et al. 2017, "A multi-agent reinforcement learning model of common-pool
resource appropriation" (NeurIPS); Leibo et al. 2017, "Multi-agent reinforcement learning in
sequential social dilemmas" (AAMAS). Map and constants follow the sequential-social-dilemma
games of Vinitsky et al. (github.com/eugenevinitsky/sequential_social_dilemma_games,
`social_dilemmas/maps.py` HARVEST_MAP, `envs/harvest.py`).

Agents collect apples. An empty apple cell regrows faster the more apples surround it, so
eating the last apples of a patch kills it for the rest of the episode: each agent gains from
harvesting now, the group gains from restraint.

Spaces (per agent):
    observation: Box(0, 255, (V, V, 3), uint8), V = 2 * view_radius + 1 = 15. An egocentric
        window rotated so the agent faces up (it sits at row r, column r, in blue). Colours:
        floor black, wall and outside grey, apples green, beams of this step yellow, other
        agents their own colour (agent k: `rules.AGENT_RGB[k % 10]`). Removed agents see zeros.
    action: Discrete(8), `rules.ACTIONS`: 0 forward, 1 backward, 2 step left, 3 step right
        (moves relative to the orientation, as in ssd and Melting Pot), 4 turn left,
        5 turn right, 6 stay, 7 fire the tagging beam.

Dynamics, in order within a step:
    1. Moves and turns. Walls block. Two agents trading cells both stay; otherwise an agent
       standing in a cell keeps it and, among agents entering one cell, a random one wins.
    2. Eating: an agent ending its move on an apple eats it (+1 reward).
    3. Beams: a beam_width x beam_length block ahead of the shooter, each lane stopped by the
       first wall. Any other agent in a beam is tagged and leaves the map: it misses the next
       tag_timeout steps and then respawns at a free random spawn point, facing a random way.
    4. Respawns of agents whose time out is over.
    5. Regrowth: an empty apple cell with no agent on it regrows with probability
       regrowth_probs[min(n, 3)] * regrowth_scale (clipped to 1), n = apples in its 3 x 3
       neighbourhood; defaults (0, 0.005, 0.02, 0.05) from ssd.

Rewards: +1 per apple eaten, - beam_cost per shot, - tag_penalty when tagged (both 0 by
default, as in Perolat et al. 2017).

Events (per step, (B, A) int32): "apples" (eaten), "beams" (fired), "tagged" (hit this step),
"removed" (1 while off the map at the end of the step; exactly tag_timeout steps per hit,
starting with the step of the hit). Peace = A - mean over steps of sum_k removed.

Episodes end by truncation at max_steps = 1000 (never terminated). Defaults: 5 agents,
view_radius 7, beam 5 long and 3 wide, tag_timeout 25 (Perolat et al. 2017); see
`CommonsConfig`.

Version history: v1, first version.
"""

from envs.commons import render, rules
from envs.commons.config import CommonsConfig
from envs.core import Rules

RULES = Rules(
    name="commons",
    reset=rules.reset,
    step=rules.step,
    observe=rules.observe,
    render=render.render,
    spaces=rules.spaces,
    event_names=rules.event_names,
)


__all__ = ["RULES", "CommonsConfig"]
