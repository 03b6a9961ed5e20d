"""The analyses of the communicating particle worlds (speaker-listener, reference): their
metrics from hand-made logs, and verdicts from the numbers (`test_worlds.py` runs every
world's analysis on a real log)."""

from __future__ import annotations

import numpy as np
import pytest

from emergent.worlds import reference, speaker_listener


def log(goal: np.ndarray, token: np.ndarray, distance: np.ndarray, speakers: list[int]):
    """Events of B episodes of T steps, 2 agents, where the agents in `speakers` see goal[b]
    and say token[b, t], and every agent is `distance[b, t]` from its target."""
    B, T = token.shape
    events = {k: np.zeros((B, T, 2), dtype=np.int32) for k in ("token", "goal", "reached")}
    for k in speakers:
        events["goal"][:, :, k] = goal[:, None] + 1
        events["token"][:, :, k] = token + 1
    events["reached"][:] = (distance < 0.1)[:, :, None]
    return events


def test_speaker_listener_summary_reads_distance_from_rewards_and_codes_from_events():
    goal = np.array([0, 1, 2, 0])
    token = np.repeat(goal[:, None], 10, axis=1)  # a perfect code
    distance = np.full((4, 10), 0.5)
    distance[:2, -1] = 0.05
    rewards = np.repeat(-(distance**2)[:, :, None], 2, axis=2)
    out = speaker_listener.speaker_listener_summary(rewards, log(goal, token, distance, [0]))
    assert out["final_distance"] == pytest.approx((0.5 + 0.05) / 2 * 0.5 + 0.5 * 0.5)
    assert out["reached_share"] == 0.5
    assert out["mutual_information"] == pytest.approx(out["message_entropy"])
    assert out["message_entropy"] == pytest.approx(1.5)  # goals 0, 1, 2, 0
    shuffled = np.zeros_like(token)  # a constant token says nothing
    out = speaker_listener.speaker_listener_summary(rewards, log(goal, shuffled, distance, [0]))
    assert out["mutual_information"] == 0.0 and out["message_entropy"] == 0.0


def test_reference_summary_is_the_mean_distance_whatever_the_local_ratio():
    goal = np.array([0, 1, 2, 0])
    token = np.repeat(goal[:, None], 5, axis=1)
    distance = np.full((4, 5), 0.3)
    rewards = np.full((4, 5, 2), -0.3)
    rewards[..., 0] -= 0.1  # local_ratio > 0: one agent worse, the other better by as much
    rewards[..., 1] += 0.1
    out = reference.reference_summary(rewards, log(goal, token, distance, [0, 1]))
    assert out["final_distance"] == pytest.approx(0.3) and out["reached_share"] == 0.0
    assert out["mutual_information"] == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("note", "module"),
    [("communication_note", speaker_listener), ("reference_note", reference)],
)
def test_verdicts_speak_from_the_numbers(note, module):
    rand = {"kind": "eval", "policy": "random", "step": 0, "final_distance": 1.2}
    rand["mutual_information"] = 0.01
    learned = {"kind": "eval", "policy": "learned", "step": 10, "final_distance": 0.2}
    learned["mutual_information"] = 1.4
    text = getattr(module, note)([rand, learned])
    assert "**" in text and "0.20" in text and "1.40 bits" in text
    learned["mutual_information"] = 0.1
    assert "say little" in getattr(module, note)([rand, learned])
    learned["final_distance"] = 1.1
    assert "no shared code yet" in getattr(module, note)([rand, learned])
    assert getattr(module, note)([rand]) == ""
