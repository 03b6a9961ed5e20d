"""A sweep's Emergence section: each setting's transitions and roles over its seeds."""

from __future__ import annotations

from emergent.sweep.emergence import across_seeds, sweep_section


def seed_record(onset: float | None, k: int, first_roles: int | None) -> dict:
    transitions = (
        [] if onset is None else [{"metric": "return", "label": "return per agent", "onset": onset}]
    )
    names = ["cleaners", "eaters"] if k >= 2 else ["generalists"]
    over = [[100, 1], [200, 1 if first_roles != 200 else 2], [300, 2 if first_roles else 1]]
    roles = {"learned": {"k": k, "names": names}}
    return {"transitions": transitions, "roles": roles, "roles_over_training": over}


def test_transitions_and_roles_are_counted_over_seeds():
    records = {"seed grid": [seed_record(1_000, 2, 200), seed_record(1_400, 2, 300),
                             seed_record(None, 1, None)]}  # fmt: skip
    out = across_seeds(records, x_label="agent-steps")
    assert out["table"]["rows"][0][:3] == ["seed grid", "return per agent", "2 of 3"]
    roles = out["claims"][0]
    assert roles.startswith("The agents split into roles in 2 of 3 seeds")  # one setting
    assert "(cleaners and eaters: 2)" in roles
    assert "they first separate at agent-steps" in roles and "(IQM, 95 % interval)" in roles
    section = "\n".join(sweep_section(out))
    assert "| seed grid | return per agent | 2 of 3 |" in section


def test_no_roles_in_any_seed_and_no_transition_say_so():
    two = {"a": [seed_record(None, 1, None)] * 2, "b": [seed_record(None, 2, 300)]}
    out = across_seeds(two)
    assert out["claims"][:2] == ["a: the agents split into roles in 0 of 2 seeds.",
                                 "b: the agents split into roles in 1 of 1 seeds "
                                 "(cleaners and eaters: 1); they first separate at agent-steps "
                                 "300."]  # fmt: skip
    assert across_seeds({"a": [{"transitions": []}]})["verdict"].startswith("No transition")
