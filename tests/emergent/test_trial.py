"""Trials: the groups a parallel executor runs one after another so that a trial reading
another's result starts after it."""

from __future__ import annotations

from emergent.sweep.trial import Trial, waves


def trial(name: str, done: bool = False, needs: tuple[str, ...] = ()) -> Trial:
    return Trial(name, lambda: done, lambda quiet, on_result: None, needs)


def names(groups: list[list[Trial]]) -> list[list[str]]:
    return [[t.name for t in group] for group in groups]


def test_a_trial_runs_in_the_group_after_the_trials_it_needs():
    trials = [trial("dream/seed0"), trial("real/seed0"), trial("dream/seed1"),
              trial("tau=0.5", needs=("dream/seed0",)),
              trial("gif", needs=("tau=0.5",))]  # fmt: skip
    assert names(waves(trials)) == [
        ["dream/seed0", "real/seed0", "dream/seed1"], ["tau=0.5"], ["gif"]]  # fmt: skip


def test_finished_trials_are_left_out_and_free_what_needs_them():
    trials = [trial("dream/seed0", done=True), trial("real/seed0"),
              trial("tau=0.5", needs=("dream/seed0",)), trial("tau=1", done=True)]  # fmt: skip
    assert names(waves(trials)) == [["real/seed0", "tau=0.5"]]
    assert waves([trial("a", done=True)]) == []
