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

Cheap talk (optional, `talk_vocab` = T > 0; off by default, and then the world is exactly the
one without it: same spaces, same numbers for the same seed):
    action: Discrete(8 T), a = move + 8 * token, move as above and token in [0, T), as MPE's
        `simple_reference` flattens its move x say actions. Every agent in the game says one
        token every step; there is no silence token (a "silent" symbol would be one more token
        to listeners, and a scrambled channel draws uniformly from all T): agents off the map,
        and only they, say nothing (SILENT).
    observation: (V, V, 3 + T) uint8: the RGB window, then channel 3 + k = 255 on the cell of
        every other agent within the window that was heard saying token k on the last step
        (heard by all within its view, literally). An agent does not hear itself: its centre
        cell is 0 in every token channel, so a cut channel leaves no trace of any message.
    channel: "open" delivers tokens as said; "cut" delivers none; "scrambled" replaces each
        said token by a uniform one, the same for all its listeners (`envs.messages.heard`,
        drawn from the env's generator after everything else in the step), to ablate the
        channel of agents trained with it open (Lowe et al. 2019).
    event "token": the token said + 1 (a code, not a count), 0 for agents off the map.
    render: a small square in the token's colour (`envs.grid.TOKEN_RGB`) on each speaker.

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

Version history: v1, first version; cheap talk added as an option that is off by default
(the default world is unchanged).
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
