"""Reference (Lowe et al. 2017, after Mordatch and Abbeel 2018): whether two agents that each
know the other's goal tell it, and go where they are told.

Read from the per-step log of `envs.reference`: rewards R_i = (1 - local_ratio) (r_0 + r_1) / 2
+ local_ratio r_i with r_i = - (distance of the other agent to the landmark i knows), so that
the mean over both agents is - the mean distance of the agents to their targets whatever
local_ratio; and the "token", "goal" (code + 1) and "reached" events of both agents.
"""

from __future__ import annotations

import numpy as np

from emergent.worlds.base import WorldAnalysis, fmt_or_dash
from emergent.worlds.speaker_listener import final_steps, naming_verdict, token_statistics


def reference_summary(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    """Scalars for metrics.jsonl.

    final_distance = - mean over episodes, the last fifth of steps and the agents of R (the
    mean distance of an agent to its target); reached_share = share of (episode, agent)
    ending at the target ("reached" at the last step); message_entropy and
    mutual_information between each agent's token and the goal it knows
    (`speaker_listener.token_statistics`).

    Args:
        rewards: (B, T, 2).
        events: {"token", "goal", "reached"}, each (B, T, 2).
    """
    steps = rewards.shape[1]
    return {
        "final_distance": float(-np.asarray(rewards[:, -final_steps(steps) :]).mean()),
        "reached_share": float(np.asarray(events["reached"])[:, -1].mean()),
        **token_statistics(events),
    }


def reference_note(rows: list[dict]) -> str:
    """Whether the agents tell each other their goals and follow, against random play."""
    found = naming_verdict(
        rows,
        "**the agents tell each other their goals and go where they are told**",
        "the agents name the goals, but do not yet go where they are told",
        "the agents close in on the landmarks, but their tokens say little about the goals",
    )
    if found is None:
        return ""
    verdict, last, rand = found
    return (
        f"Over the last fifth of the episode an agent is on average {last['final_distance']:.2f}"
        f" from its target (random play: {rand['final_distance']:.2f}); tokens carry "
        f"{fmt_or_dash(last['mutual_information'])} bits about the goal their speaker knows "
        f"(random: {fmt_or_dash(rand['mutual_information'])}, of at most 1.58): {verdict}."
    )


ANALYSIS = WorldAnalysis(
    heading="Mutual reference (Lowe et al. 2017; Mordatch and Abbeel 2018)",
    explanation=(
        "Final distance = mean distance of an agent to its target over the last fifth of the "
        "episode (minus the agents' mean reward); reached = share of agents ending the episode "
        "touching their target; H(M) = entropy of the tokens; I(M; G) = H(G) + H(M) − H(G, M) "
        "between each agent's token and the goal it knows, over all steps, in bits (plug-in "
        "estimates)."
    ),
    metrics=("final_distance", "reached_share", "mutual_information", "message_entropy"),
    labels={
        "final_distance": "Distance to the target (last fifth)",
        "reached_share": "Agents ending at their target",
        "mutual_information": "I(token; goal) (bits)",
        "message_entropy": "Token entropy H(M) (bits)",
    },
    summarize=reference_summary,
    learned="learned to bring each other towards their targets",
    verdict=reference_note,
    counted_events=("reached",),
)
