"""Cleanup: a public-goods dilemma on a grid (`cleanup`, version 1).

Source: Hughes et al. 2018, "Inequity aversion improves cooperation in intertemporal social
dilemmas" (NeurIPS). Map and constants follow the sequential-social-dilemma games of Vinitsky
et al. (github.com/eugenevinitsky/sequential_social_dilemma_games, `social_dilemmas/maps.py`
CLEANUP_MAP, `envs/cleanup.py`); movement, beams and tagging follow Commons Harvest
(`envs.commons`), through the grid worlds' shared mechanics in `envs.grid`.

A river fills with waste; apples grow in the orchard only while the river is clean enough.
Agents are rewarded only for eating apples, but apples exist only if somebody spends time
cleaning the river: each agent gains from eating while others clean, the group needs cleaners.

Spaces (per agent):
    observation: Box(0, 255, (V, V, 3), uint8), V = 2 * view_radius + 1 = 15. An egocentric
        window rotated so the agent faces up (it sits at row r, column r, in blue). Colours:
        floor black, wall and outside grey, clean river and stream grey-blue, waste brown,
        apples green, cleaning beams cyan and tagging beams yellow (fired this step), other
        agents their own colour (agent k: `rules.AGENT_RGB[k % 10]`, as in Commons). Removed
        agents see zeros.
    action: Discrete(9), `rules.ACTIONS`: Commons' eight (0 forward, 1 backward, 2 step left,
        3 step right, 4 turn left, 5 turn right, 6 stay, 7 fire the tagging beam) and
        8 fire the cleaning beam.

Cheap talk (optional, `talk_vocab` = T > 0; off by default, and then the world is exactly the
one without it: same spaces, same numbers for the same seed):
    action: Discrete(9 T), a = move + 9 * token, move as above and token in [0, T), as MPE's
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
    1. Moves and turns, as in Commons (walls block; swaps blocked; a random entrant wins).
    2. Eating: an agent ending its move on an apple eats it (+1 reward).
    3. Beams, each a width x length block ahead of the shooter with every lane stopped by the
       first wall. Tagging beam: any other agent in it is tagged and sits out the next
       tag_timeout steps, then respawns at a free spawn point. Cleaning beam: removes waste
       in its reach; a lane also stops at the first waste cell it cleans unless
       clean_through_waste (ssd). Agents do not block beams.
    4. Respawns of agents whose time out is over.
    5. Spawning, from the waste density d = polluted river cells / river cells:
       apples grow on each empty apple cell with no agent on it with probability
       p_apple * clip((d_deplete - d) / (d_deplete - d_restore), 0, 1), and 0 once
       d >= d_deplete; unless d >= d_deplete, one clean river cell (uniform) turns to waste
       with probability 1 - (1 - p_waste)^n_clean, n_clean = clean river cells.
       Defaults from ssd: p_apple 0.05, p_waste 0.5, d_deplete 0.4, d_restore 0.0.

Rewards: +1 per apple eaten, - beam_cost per tagging shot, - tag_penalty when tagged (both 0
by default as in Commons; ssd and Hughes et al. 2018 use 1 and 50 without removal, i.e.
tag_timeout=0). Cleaning is free.

Events (per step, (B, A) int32): "apples" (eaten), "cleaned" (waste cells removed by this
agent's cleaning beam; a cell under two beams counts for both), "beams" (tagging beams
fired), "clean_beams" (cleaning beams fired), "tagged" (hit this step), "removed" (1 while off
the map at the end of the step, exactly tag_timeout steps per hit), so the social metrics of
`emergent.metrics.social` and the division of labour of `emergent.metrics.labour` apply.

Episodes end by truncation at max_steps = 1000 (never terminated). The default map starts with
70 of its 119 river cells polluted (d = 0.59 >= 0.4): nothing grows until agents clean.
Defaults: 5 agents, view_radius 7, both beams 5 long and 3 wide, tag_timeout 25; see
`CleanupConfig`.

Version history: v1, first version; cheap talk added as an option that is off by default
(the default world is unchanged).
"""

from envs.cleanup import render, rules
from envs.cleanup.config import CleanupConfig
from envs.core import Rules

RULES = Rules(
    name="cleanup",
    reset=rules.reset,
    step=rules.step,
    observe=rules.observe,
    render=render.render,
    spaces=rules.spaces,
    event_names=rules.event_names,
)


__all__ = ["RULES", "CleanupConfig"]
