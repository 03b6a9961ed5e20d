"""Cleanup (Hughes et al. 2018): who cleans and who eats (division of labour), and the social
outcomes; with cheap talk, what the agents say (`social.talk`)."""

from __future__ import annotations

import numpy as np

from emergent.metrics.labour import labour_summary
from emergent.metrics.social import social_outcomes
from emergent.worlds.base import WorldAnalysis, final_rows, fmt_or_dash, when_it_changed
from emergent.worlds.social import SOCIAL, SOCIAL_EXPLANATION, SOCIAL_LABELS, TALK_LABELS, talk

DIVISION_OF_LABOUR = 0.3
"""In runs logged without roles: specialisation from which a division of labour counts as
emerged (0 none, 1 complete)..."""
ABOVE_RANDOM = 0.1
"""...and by which it must exceed random play's specialisation (whose per-episode value a few
events inflate: the roles' permutation test is the better judge)."""


def summarize(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    """Social outcomes, division of labour and, with cheap talk, the tokens and what they say
    of cleaning. NaN (undefined, e.g. shares when nobody cleaned) is written as null."""
    return {
        **social_outcomes(rewards, events["removed"]),
        **labour_summary(rewards, events),
        **talk(events, "clean_beams"),
    }


def labour_note(rows: list[dict]) -> str:
    """Who cleans and who eats at the end of training, against random play."""
    last, rand = final_rows(rows)
    if not last or not rand:
        return ""
    cleaned, cleaned_random = last.get("cleaned_per_agent"), rand.get("cleaned_per_agent")
    if cleaned is None or cleaned_random is None:
        return ""
    if not cleaned:
        return (
            "**Nobody cleans:** the learned agents removed no waste, so apples stop growing "
            "once the river is polluted. This is the free-riding outcome Hughes et al. 2018 "
            "report for selfish agents in Cleanup."
        )
    spec, spec_random = last.get("specialisation"), rand.get("specialisation")
    top = last.get("top_cleaner_share")
    parts = [
        f"Learned agents clean {cleaned:.1f} waste cells each per episode "
        f"(random play: {cleaned_random:.1f}) and eat {last.get('apples_per_agent') or 0:.1f} "
        f"apples each (random: {rand.get('apples_per_agent') or 0:.1f})."
    ]
    if spec is not None and top is not None:
        parts.append(
            f"On average {last.get('cleaners') or 0:.1f} agents mostly clean; the top cleaner "
            f"does {top:.0%} of the group's cleaning; specialisation {spec:.2f} against "
            f"{fmt_or_dash(spec_random)} for random play (0: everyone does both, 1: pure "
            f"cleaners and pure eaters): {division_of_labour(last, rand)}."
        )
    parts.append(when_it_changed(rows, "specialisation", "Specialisation"))
    return " ".join(p for p in parts if p)


def division_of_labour(last: dict, rand: dict) -> str:
    """The verdict: from the roles the final evaluation found (`metrics.roles`, which tests
    the agents' differences against their counting noise); from the specialisation index
    against random play's for runs logged before roles were."""
    if isinstance(last.get("roles"), float):
        k, k_random = int(last["roles"]), rand.get("roles")
        against = f"; random play: {int(k_random)}" if isinstance(k_random, float) else ""
        if k >= 2:
            return f"**a division of labour has emerged** ({k} roles{against})"
        return f"no division of labour yet (one role{against})"
    spec, spec_random = last.get("specialisation") or 0.0, rand.get("specialisation")
    if spec >= DIVISION_OF_LABOUR and (spec_random is None or spec > spec_random + ABOVE_RANDOM):
        return "**a division of labour has emerged**"
    return "no clear division of labour"


LABOUR_LABELS = {
    "specialisation": "Specialisation (0 none – 1 complete)",
    "top_cleaner_share": "Top cleaner's share of cleaning",
    "cleaners": "Agents who mostly clean",
    "waste_cleaned_per_agent": "Waste cleaned per agent",
}

ANALYSIS = WorldAnalysis(
    heading="Division of labour and social outcomes (Hughes et al. 2018)",
    explanation=(
        "With c_i the waste agent i cleaned and e_i the apples it ate: specialisation = "
        "I(agent; task) / H(task) with both tasks weighted equally (Gorelick et al. 2004), "
        "0 when everyone cleans and eats in equal shares, 1 for pure cleaners and pure eaters; "
        "an agent 'mostly cleans' when c_i / Σc > e_i / Σe. " + SOCIAL_EXPLANATION
    ),
    metrics=("waste_cleaned_per_agent", "specialisation", "top_cleaner_share", *SOCIAL),
    labels={**LABOUR_LABELS, **SOCIAL_LABELS, **TALK_LABELS},
    summarize=summarize,
    learned="learned to clean and harvest",
    verdict=labour_note,
    per_agent={"waste cleaned": "cleaned", "apples eaten": "apples"},
    counted_events=("apples", "cleaned", "beams", "clean_beams", "tagged", "removed"),
)
