"""Wolfpack: team versus lone hunting on a grid (`wolfpack`, version 1).

Source: Leibo et al. 2017, "Multi-agent reinforcement learning in sequential social dilemmas"
(AAMAS; arXiv:1702.03037), the Wolfpack game: when either wolf touches the prey, every wolf
within the capture radius is rewarded, and the reward grows with the number of wolves in the
radius. The story: a lone wolf can take the prey but may lose the carcass to scavengers, a
pack protects it. A lone capture pays r_lone, a capture by both wolves r_team. Whether
hunting together pays off depends on r_team and on the capture radius, which the paper
varies.

The agents are the wolves (num_wolves, 2 as in the paper). Unlike the paper, where the prey
is a third player, the prey here is scripted: each step it flees the nearest wolf with
probability prey_flee_prob (taking the move, among stay / N / E / S / W into a free cell,
that maximises the Manhattan distance to the nearest wolf, ties at random), else it moves at
random. A prey that always flees (1.0) outruns one wolf in this arena and is caught only by
a pincer; the default 0.5 lets a lone wolf catch it, but two wolves together catch it more
than twice as often.

Spaces (per wolf):
    observation: Box(0, 255, (V, V, 3), uint8), V = 2 * view_radius + 1 = 11. An egocentric
        window rotated so the wolf faces up (it sits at row r, column r, in blue). Colours:
        floor black, wall and outside grey, the prey red, other wolves their own colour
        (wolf k: `rules.WOLF_RGB[k % 8]`).
    action: Discrete(7), `rules.ACTIONS`: 0 forward, 1 backward, 2 step left, 3 step right
        (moves relative to the orientation, as in Commons Harvest), 4 turn left,
        5 turn right, 6 stay.

Dynamics, in order within a step:
    1. Wolves move and turn. Walls and the prey's cell block; collisions between wolves as
       in Commons Harvest (trading cells both stay, a stayer keeps its cell, else a random
       entrant wins).
    2. The prey moves (policy above); it cannot enter walls or wolves.
    3. Capture: a wolf orthogonally adjacent to the prey touches it. If any wolf does, the n
       wolves within Euclidean distance capture_radius of the prey (n >= 1, the toucher
       among them) are rewarded, each r_lone if n = 1, else r_team * n / 2 (proportional to
       n, and r_team for the paper's two-wolf capture).
    4. A caught prey respawns on a random floor cell at Manhattan distance >= 2 from every
       wolf; the wolves stay where they are.

Events (per step, (B, A) int32): "captures" (this wolf touched the prey), "team_captures"
(rewarded in a capture with n >= 2), "lone_captures" (rewarded alone), "near_prey" (within
capture_radius of the prey after the moves, caught or not). One prey means at most one
capture per copy per step; `emergent.metrics.hunting` counts captures, not wolves.

Episodes end by truncation at max_steps = 500 (never terminated). Map: 15 x 15, an open
arena with four corner blocks and a central cross (our layout, `config.WOLFPACK_MAP`).
Defaults (ours; the paper sweeps them): capture_radius 3, r_lone 1, r_team 3.

Version history: v1, first version.
"""

from envs.core import Rules
from envs.wolfpack import render, rules
from envs.wolfpack.config import WolfpackConfig

RULES = Rules(
    name="wolfpack",
    reset=rules.reset,
    step=rules.step,
    observe=rules.observe,
    render=render.render,
    spaces=rules.spaces,
    event_names=rules.event_names,
)


__all__ = ["RULES", "WolfpackConfig"]
