"""A sweep's Emergence section: the detected transitions and roles of its seeds'
`emergence.json`, aggregated per setting."""

from __future__ import annotations

from collections import Counter

import numpy as np

from emergent.emergence import HEADING, number
from emergent.metrics import aggregate


def across_seeds(records: dict[str, list[dict]], x_label: str = "step") -> dict:
    """A sweep's emergence: per setting, each metric's transitions over its seeds' records
    (the fraction of seeds with one, the IQM of their onsets with a 95 % stratified-bootstrap
    interval, `metrics.aggregate`), and how many seeds' agents split into roles."""
    rows, claims = [], []

    def named(setting: str, claim: str) -> str:  # a sweep of seeds alone has one setting
        return f"{setting}: {claim}" if len(records) > 1 else claim[0].upper() + claim[1:]

    for setting, found in records.items():
        labels = {t["metric"]: t.get("label", t["metric"]) for r in found
                  for t in r.get("transitions", [])}  # fmt: skip
        for metric, label in labels.items():
            onsets = [next((t["onset"] for t in r.get("transitions", []) if t["metric"] == metric),
                           None) for r in found]  # fmt: skip
            hits = np.array([o for o in onsets if o is not None], dtype=np.float64)
            rows.append([setting, label, f"{len(hits)} of {len(found)}", iqm_interval(hits)])
        roles = roles_claim([r for r in found if "learned" in r.get("roles", {})])
        if roles:
            claims.append(named(setting, roles))
    for setting, metric, seen, where in rows:
        onset = f"onset at {x_label} {where} (IQM, 95 % interval)"
        claims.append(named(setting, f"{metric} changes sharply in {seen} seeds, {onset}."))
    verdict = claims[0] if claims else "No transition in any seed of any setting."
    table = {
        "title": "Transitions across seeds",
        "columns": ["setting", "metric", "seeds with a transition", f"onset ({x_label})"],
        "rows": rows,
    }
    return {"verdict": verdict, "claims": claims, "transitions": [], "peaks": [], "pairs": [],
            "seeds": {}, "x_label": x_label, "table": table}  # fmt: skip


def roles_claim(per_seed: list[dict]) -> str:
    """How many seeds' agents split into roles, which roles, and when they first separated
    (from the seeds' emergence records)."""
    if not per_seed:
        return ""
    split = [r["roles"]["learned"] for r in per_seed if r["roles"]["learned"]["k"] >= 2]
    text = f"the agents split into roles in {len(split)} of {len(per_seed)} seeds"
    if split:
        kinds = Counter(" and ".join(r["names"]) for r in split)
        text += " (" + ", ".join(f"{name}: {n}" for name, n in kinds.most_common()) + ")"
    onsets = [next((step for step, k in r["roles_over_training"] if k >= 2), None)
              for r in per_seed if r.get("roles_over_training")]  # fmt: skip
    hits = np.array([o for o in onsets if o is not None], dtype=np.float64)
    if len(hits):
        text += f"; they first separate at agent-steps {iqm_interval(hits)}"
        text += " (IQM, 95 % interval)" if len(hits) > 1 else ""
    return text + "."


def iqm_interval(hits: np.ndarray) -> str:
    """'IQM [low, high]' of two or more values (stratified bootstrap, 95 %); one value as is."""
    if len(hits) == 1:
        return number(float(hits[0]))
    ci = aggregate.stratified_bootstrap_ci(hits, aggregate.iqm, reps=2000, rng=0)
    return f"{number(float(ci.point))} [{number(float(ci.low))}, {number(float(ci.high))}]"


def sweep_section(record: dict) -> list[str]:
    """A sweep report's Emergence section."""
    lines = [HEADING, "", record["verdict"], ""]
    lines += [f"- {c}" for c in record["claims"] if c != record["verdict"]]
    table = record["table"]
    if table["rows"]:
        lines += ["", "| " + " | ".join(table["columns"]) + " |",
                  "|---" * len(table["columns"]) + "|"]  # fmt: skip
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in table["rows"]]
    return [*lines, ""]
