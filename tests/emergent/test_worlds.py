"""Every world's analysis reads a real episode log of that world and yields its metrics."""

from __future__ import annotations

import numpy as np
import pytest

import envs
from emergent import worlds
from emergent.rollout import random_policy, run_episodes
from emergent.worlds import cleanup, wolfpack
from emergent.worlds.base import when_it_changed

SHORT = {name: {"max_steps": 40} for name in ("commons", "cleanup", "wolfpack")}


@pytest.mark.parametrize("name", sorted(worlds.WORLDS))
def test_summary_has_every_plotted_metric(name):
    env = envs.make(name, batch_size=2, seed=0, **SHORT.get(name, {}))
    log = run_episodes(env, random_policy(env.action_space, np.random.default_rng(0)), seed=1)
    summary = worlds.analysis(name).summarize(log.rewards, log.events)
    assert set(worlds.analysis(name).metrics) <= set(summary)
    assert all(isinstance(v, float) for v in summary.values())


def test_unknown_world_gets_returns_and_events_only():
    assert worlds.analysis("no_such_world").metrics == ()


def test_verdicts_speak_from_the_numbers():
    rows = [
        {
            "kind": "eval",
            "policy": "random",
            "step": 0,
            "cleaned_per_agent": 1.0,
            "apples_per_agent": 2.0,
            "specialisation": 0.05,
        },
        {
            "kind": "eval",
            "policy": "learned",
            "step": 10,
            "cleaned_per_agent": 30.0,
            "apples_per_agent": 40.0,
            "specialisation": 0.8,
            "top_cleaner_share": 0.9,
            "cleaners": 2.0,
        },
    ]
    text = cleanup.labour_note(rows)
    assert "a division of labour has emerged" in text and "90%" in text
    # With the roles each evaluation logs, they decide (specialisation high by chance alone).
    rows[0]["roles"], rows[1]["roles"] = 1.0, 1.0
    assert "no division of labour yet (one role; random play: 1)" in cleanup.labour_note(rows)
    rows[1]["roles"] = 2.0
    assert "a division of labour has emerged** (2 roles; random play: 1)" in (
        cleanup.labour_note(rows)
    )
    rows[1]["cleaned_per_agent"] = 0.0
    assert "Nobody cleans" in cleanup.labour_note(rows)
    hunt = [
        {
            "kind": "eval",
            "policy": "random",
            "step": 0,
            "captures_per_episode": 0.5,
            "team_capture_share": 0.1,
        },
        {
            "kind": "eval",
            "policy": "learned",
            "step": 10,
            "captures_per_episode": 6.0,
            "team_capture_share": 0.75,
            "wolves_per_capture": 1.9,
        },
    ]
    text = wolfpack.hunting_note(hunt)
    assert "6.0 times per episode" in text and "75%" in text and "geometry" in text


def test_world_prose_says_when_a_metric_changed_sharply():
    noise = np.random.default_rng(0).normal(0.0, 0.02, 20)
    steps = np.arange(0, 20_000, 1_000)
    jump = 0.2 + 0.5 * (steps >= 10_000) + noise

    def rows(y: np.ndarray) -> list[dict]:
        return [{"kind": "eval", "policy": "learned", "step": int(s), "success_rate": float(v)}
                for s, v in zip(steps, y, strict=True)]  # fmt: skip

    text = when_it_changed(rows(jump), "success_rate", "Games won")
    assert text.startswith("Games won: a sharp rise between agent-steps 9,000 and 10,000")
    assert when_it_changed(rows(jump)[:5], "success_rate", "Games won") == ""  # too few
    assert when_it_changed(rows(0.3 + noise), "success_rate", "Games won") == ""
