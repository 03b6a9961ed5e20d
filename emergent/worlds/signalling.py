"""The Lewis signalling game (Lewis 1969; Lazaridou et al. 2018): whether a shared code emerged
and how structured it is."""

from __future__ import annotations

from emergent.metrics.communication import communication_summary
from emergent.worlds import interventions
from emergent.worlds.base import WorldAnalysis, final_rows, fmt_or_dash, when_it_changed

SUCCESS_OVER_CHANCE = 0.25
"""Success rate above random play's from which a shared code counts as emerged..."""
BITS_OVER_CHANCE = 0.5
"""...with messages carrying this many bits more about the target than random play's."""
COMPOSITIONAL = 0.5
"""Topographic similarity from which the code is called compositional."""
PARTLY_STRUCTURED = 0.2
"""Topographic similarity from which the code is partly structured (below: holistic)."""


def communication_note(rows: list[dict]) -> str:
    """Whether a shared code emerged, and how structured it is, against random play."""
    last, rand = final_rows(rows)
    if not last or not rand:
        return ""
    success, chance = last.get("success_rate"), rand.get("success_rate")
    if success is None or chance is None:
        return ""
    mi, mi_random = last.get("mutual_information"), rand.get("mutual_information")
    topsim = last.get("topographic_similarity")
    verdict = (
        "**a shared code has emerged**"
        if success > chance + SUCCESS_OVER_CHANCE
        and (mi or 0) > (mi_random or 0) + BITS_OVER_CHANCE
        else "no shared code yet"
    )
    text = (
        f"The listener picks the target in {success:.0%} of games (random play: {chance:.0%}); "
        f"messages carry {fmt_or_dash(mi)} bits about the target (random: "
        f"{fmt_or_dash(mi_random)}, the plug-in estimate's bias): {verdict}."
    )
    if topsim is not None:
        structure = (
            "compositional: similar objects get similar messages"
            if topsim >= COMPOSITIONAL
            else "partly structured"
            if topsim >= PARTLY_STRUCTURED
            else "holistic: message similarity does not follow object similarity"
        )
        text += f" Topographic similarity {topsim:.2f}: the code is {structure}."
    when = [when_it_changed(rows, "success_rate", "Games won"),
            when_it_changed(rows, "mutual_information", "Bits about the target")]  # fmt: skip
    return " ".join([text, *(w for w in when if w)])


ANALYSIS = WorldAnalysis(
    heading="Emergent communication (Lewis 1969; Lazaridou et al. 2018)",
    explanation=(
        "Success = share of games won; H(M) = entropy of the messages; I(M; S) = H(S) + H(M) − "
        "H(S, M) between messages and targets (positive signalling), in bits (plug-in "
        "estimates); topographic similarity = Spearman correlation between the share of "
        "attributes two targets differ in and the edit distance of their messages over the "
        "messages' mean length (Brighton & Kirby 2006; EGG's definition); posdis / bosdis = "
        "positional and bag-of-symbols disentanglement, in bits (Chaabouni et al. 2020)."
    ),
    metrics=(
        "success_rate",
        "mutual_information",
        "message_entropy",
        "topographic_similarity",
        "posdis",
        "bosdis",
    ),
    labels={
        "success_rate": "Games won",
        "mutual_information": "I(message; target) (bits)",
        "message_entropy": "Message entropy H(M) (bits)",
        "topographic_similarity": "Topographic similarity",
        "posdis": "Positional disentanglement (bits)",
        "bosdis": "Bag-of-symbols disentanglement (bits)",
    },
    summarize=communication_summary,
    learned="learned to communicate",
    verdict=communication_note,
    pairs=(("success_rate", "mutual_information"),),
    counted_events=("success",),
    intervene=interventions.SIGNALLING,
)
