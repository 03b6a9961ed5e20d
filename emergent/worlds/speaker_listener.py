"""Cooperative communication (Lowe et al. 2017, MPE's speaker-listener): whether the speaker
names the goal and the listener goes where it is told.

Read from the per-step log of `envs.speaker_listener`: rewards R = - d^2 (d the listener's
distance to the goal, the same for both agents) and the speaker's "token" and "goal" events
(code + 1). The communication statistics pair each step's token with the goal the speaker
sees (`token_statistics`, shared with `emergent.worlds.reference`).
"""

from __future__ import annotations

import numpy as np

from emergent.metrics.communication import message_entropy, mutual_information
from emergent.worlds import interventions
from emergent.worlds.base import WorldAnalysis, final_rows, fmt_or_dash

LISTENER = 1
INFORMATIVE_BITS = 0.5
"""I(goal; token) above random play's from which the speaker names the goal (of at most
log2 3 = 1.58 bits for three goals)."""
CLOSER = 0.4
"""Final distance, as a share of random play's, below which the listener goes to the goal:
waiting among the landmarks, without a code, already halves it (0.62 against 1.23)."""


def final_steps(steps: int) -> int:
    """The last fifth of an episode of `steps` steps (at least one step), as Spread's."""
    return max(1, steps // 5)


def token_statistics(events: dict[str, np.ndarray]) -> dict[str, float]:
    """Message entropy H(M) and I(goal; M), in bits (plug-in estimates,
    `emergent.metrics.communication`), over every (episode, step, speaker) with a goal: the
    token said and the goal the speaker sees.

    Args:
        events: with "token" and "goal" (B, T, A), code + 1, 0 where the agent does not speak.
    """
    goal, token = np.asarray(events["goal"]), np.asarray(events["token"])
    spoke = (goal > 0) & (token > 0)
    meanings = (goal[spoke] - 1)[:, None]  # (N, 1)
    messages = (token[spoke] - 1)[:, None]  # (N, 1), one token per step
    if len(messages) == 0:
        return {"message_entropy": float("nan"), "mutual_information": float("nan")}
    return {
        "message_entropy": message_entropy(messages),
        "mutual_information": mutual_information(meanings, messages),
    }


def speaker_listener_summary(
    rewards: np.ndarray, events: dict[str, np.ndarray]
) -> dict[str, float]:
    """Scalars for metrics.jsonl.

    final_distance = mean over episodes and the last fifth of steps of d = sqrt(-R_listener);
    reached_share = share of episodes whose last step ends with the listener at the goal
    ("reached"); message_entropy and mutual_information as in `token_statistics`.

    Args:
        rewards: (B, T, 2), R = - d^2.
        events: {"token", "goal", "reached"}, each (B, T, 2).
    """
    steps = rewards.shape[1]
    d = np.sqrt(np.maximum(-np.asarray(rewards[:, -final_steps(steps) :, LISTENER]), 0.0))
    return {
        "final_distance": float(d.mean()),
        "reached_share": float(np.asarray(events["reached"])[:, -1, LISTENER].mean()),
        **token_statistics(events),
    }


def naming_verdict(
    rows: list[dict], both: str, names_only: str, follows_only: str
) -> tuple[str, dict, dict] | None:
    """(the verdict, the last learned and random rows) from the final distance and I(goal;
    token) against random play (`INFORMATIVE_BITS`, `CLOSER`): `both` when the tokens name the
    goals and the agents go there, `names_only`, `follows_only`, or no shared code; None
    without both rows and both metrics. Shared with `emergent.worlds.reference`."""
    last, rand = final_rows(rows)
    keys = ("final_distance", "mutual_information")
    if not last or not rand or any(r.get(k) is None for r in (last, rand) for k in keys):
        return None
    names = last["mutual_information"] > rand["mutual_information"] + INFORMATIVE_BITS
    follows = last["final_distance"] < CLOSER * rand["final_distance"]
    if names:
        return (both if follows else names_only), last, rand
    return (follows_only if follows else "no shared code yet"), last, rand


def communication_note(rows: list[dict]) -> str:
    """Whether the speaker names the goal and the listener follows, against random play."""
    found = naming_verdict(
        rows,
        "**the speaker names the goal and the listener goes there**",
        "the speaker names the goal, but the listener does not yet go there",
        "the listener moves towards the landmarks, but the tokens say little about the goal: "
        "it may be heading for the middle of them rather than for the goal",
    )
    if found is None:
        return ""
    verdict, last, rand = found
    return (
        f"Over the last fifth of the episode the listener is {last['final_distance']:.2f} from "
        f"the goal (random play: {rand['final_distance']:.2f}); tokens carry "
        f"{fmt_or_dash(last['mutual_information'])} bits about the goal (random: "
        f"{fmt_or_dash(rand['mutual_information'])}, of at most 1.58): {verdict}."
    )


ANALYSIS = WorldAnalysis(
    heading="Cooperative communication (Lowe et al. 2017)",
    explanation=(
        "Final distance = mean distance of the listener to the goal over the last fifth of the "
        "episode (d = sqrt(-R)); reached = share of episodes ending with the listener touching "
        "the goal; H(M) = entropy of the speaker's tokens; I(M; G) = H(G) + H(M) − H(G, M) "
        "between token and goal over all steps, in bits (plug-in estimates)."
    ),
    metrics=("final_distance", "reached_share", "mutual_information", "message_entropy"),
    labels={
        "final_distance": "Listener's distance to the goal (last fifth)",
        "reached_share": "Episodes ending at the goal",
        "mutual_information": "I(token; goal) (bits)",
        "message_entropy": "Token entropy H(M) (bits)",
    },
    summarize=speaker_listener_summary,
    learned="learned to bring the listener towards the goal",
    verdict=communication_note,
    counted_events=("reached",),
    intervene=interventions.SPEAKER_LISTENER,
)
