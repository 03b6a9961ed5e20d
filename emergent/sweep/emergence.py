"""A sweep's Emergence section: the detected transitions and roles of its seeds'
`emergence.json`, aggregated per setting."""

from __future__ import annotations

import numpy as np

from emergent.emergence import HEADING, number
from emergent.metrics import aggregate


def across_seeds(records: dict[str, list[dict]], x_label: str = "step") -> dict:
    """A sweep's emergence: per setting, each metric's transitions over its seeds' records
    (the fraction of seeds with one, the IQM of their onsets with a 95 % stratified-bootstrap
    interval, `metrics.aggregate`), and how many seeds' agents split into roles."""
    rows, claims = [], []
    for setting, found in records.items():
        metrics = list(dict.fromkeys(t["metric"] for r in found for t in r.get("transitions", [])))
        for metric in metrics:
            onsets = [next((t["onset"] for t in r.get("transitions", []) if t["metric"] == metric),
                           None) for r in found]  # fmt: skip
            hits = np.array([o for o in onsets if o is not None], dtype=np.float64)
            if len(hits) > 1:
                ci = aggregate.stratified_bootstrap_ci(hits, aggregate.iqm, reps=2000, rng=0)
                low, high = number(float(ci.low)), number(float(ci.high))
                where = f"{number(float(ci.point))} [{low}, {high}]"
            else:
                where = number(float(hits[0]))
            rows.append([setting, metric, f"{len(hits)} of {len(found)}", where])
        split = [r["roles"]["learned"]["k"] >= 2 for r in found if "learned" in r.get("roles", {})]
        if split:
            claims.append(
                f"{setting}: the agents split into roles in {sum(split)} of {len(split)} seeds."
            )
    for setting, metric, seen, where in rows:
        claims.append(
            f"{setting}: {metric} changes sharply in {seen} seeds, onset at {x_label} {where} "
            "(IQM, 95 % interval)."
        )
    verdict = claims[0] if claims else "No transition in any seed of any setting."
    table = {
        "title": "Transitions across seeds",
        "columns": ["setting", "metric", "seeds with a transition", f"onset ({x_label})"],
        "rows": rows,
    }
    return {"verdict": verdict, "claims": claims, "transitions": [], "peaks": [], "pairs": [],
            "seeds": {}, "x_label": x_label, "table": table}  # fmt: skip


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
