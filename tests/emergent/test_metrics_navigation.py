"""Coverage and collisions of Spread episodes, on hand-made logs."""

from __future__ import annotations

import numpy as np

from emergent.metrics.navigation import collisions_per_step, coverage, navigation_summary


def test_coverage_counts_occupied_landmarks_per_step():
    covered = np.zeros((1, 4, 3), dtype=np.int32)  # (B, T, N)
    covered[0, 2:, 0] = 1  # one landmark held for the last two steps
    covered[0, 3, 1] = 2  # agent 1 nearest to two landmarks at the last step
    assert coverage(covered)[0] == (0 + 0 + 1 + 3) / 4 / 3
    assert coverage(covered, final_steps=1)[0] == 1.0


def test_collisions_count_pairs_once():
    collisions = np.zeros((2, 2, 3), dtype=np.int32)
    collisions[0, 0, :2] = 1  # agents 0 and 1 overlap at step 0
    np.testing.assert_allclose(collisions_per_step(collisions), [0.5, 0.0])


def test_summary_keys():
    events = {"covered": np.ones((2, 10, 3), np.int32), "collisions": np.zeros((2, 10, 3))}
    out = navigation_summary(np.zeros((2, 10, 3)), events)
    assert out == {"coverage": 1.0, "final_coverage": 1.0, "collisions_per_step": 0.0}
