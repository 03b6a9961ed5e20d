"""The pair's report: learning curves of Naive Bayes against logistic regression, and whether
the measured curves cross as Ng & Jordan (2002) predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from emergent import genfigures, rundir
from emergent.kinds.pair_curves.config import PairExperiment


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def build(run_dir: Path, cfg: PairExperiment) -> Path:
    """Learning-curve figure and the report of the Naive Bayes vs logistic regression pair."""
    results = [json.loads(p.read_text()) for p in sorted((run_dir / "pair").glob("*.json"))]
    (run_dir / "plots").mkdir(exist_ok=True)
    panels = []
    for r in results:
        curves = {}
        names = {"nb": f"Naive Bayes ({r['nb_variant']})", "lr": "logistic regression"}
        if "nb_mismatched" in r["summary"]:
            names["nb_mismatched"] = f"wrong NB ({r['nb_mismatched_variant']})"
        for key, label in names.items():
            s = r["summary"][key]
            curves[label] = (np.array(s["mean"]), np.array(s["ci_low"]), np.array(s["ci_high"]))
        panels.append(
            {
                "title": f"{r['dataset']} ({r['kind']})",
                "sizes": r["sizes"],
                "curves": curves,
                "cross": r["crossing"]["m"],
            }
        )
    if panels:
        genfigures.learning_curves(
            panels,
            run_dir / "plots" / "learning_curves.png",
            "Generative (NB) against discriminative (LR): test error against m",
        )
    lines = [
        f"# {cfg.name}: Naive Bayes against logistic regression (Ng & Jordan 2002)",
        "",
        f"Run directory `{run_dir}` · {cfg.seeds} random training subsets per size · "
        "95 % t-intervals over subsets (bands in the figure).",
        "",
        "![learning curves](plots/learning_curves.png)",
        "",
        "Ng & Jordan's claim: the generative classifier (Naive Bayes) approaches its — higher — "
        "asymptotic error with far fewer examples (O(log n) against O(n) for logistic "
        "regression), so NB is better at small m and logistic regression at large m.",
        "",
        "| dataset | NB variant | m (smallest → full) | NB error | LR error | wrong NB error "
        "| where the curves cross |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["summary"]
        wrong = (
            f"{_pct(s['nb_mismatched']['mean'][0])} → {_pct(s['nb_mismatched']['mean'][-1])}"
            if "nb_mismatched" in s
            else "–"
        )
        lines.append(
            f"| {r['dataset']} | {r['nb_variant']} | {r['sizes'][0]} → {r['sizes'][-1]} | "
            f"{_pct(s['nb']['mean'][0])} → {_pct(s['nb']['mean'][-1])} | "
            f"{_pct(s['lr']['mean'][0])} → {_pct(s['lr']['mean'][-1])} | {wrong} | "
            f"{describe_crossing(r)} |"
        )
    lines += ["", "## What the curves say", ""]
    lines += [f"- **{r['dataset']}**: {verdict(r)}" for r in results]
    lines += ["", "## Why the choice of Naive Bayes variant matters", ""]
    for r in results:
        s = r["summary"]
        if "nb_mismatched" in s:
            matched, wrong = s["nb"]["mean"], s["nb_mismatched"]["mean"]
            small = (
                f"at m = {r['sizes'][0]} they tie ({_pct(matched[0])})"
                if abs(wrong[0] - matched[0]) < 0.005
                else f"at m = {r['sizes'][0]} the mismatched one is better ({_pct(wrong[0])} "
                f"against {_pct(matched[0])}): it has fewer parameters per feature to estimate"
                if wrong[0] < matched[0]
                else f"at m = {r['sizes'][0]} the matched one is already better "
                f"({_pct(matched[0])} against {_pct(wrong[0])})"
            )
            lines.append(
                f"- **{r['dataset']}** ({r['kind']} features): with all {r['sizes'][-1]} "
                f"examples {r['nb_variant']} reaches {_pct(matched[-1])} and "
                f"{r['nb_mismatched_variant']} {_pct(wrong[-1])}; {small}. A Gaussian "
                "class-conditional puts density on values the data never takes and, with "
                "near-zero variance on pixels almost constant within a class, punishes any "
                "deviation without bound, so its asymptote is worse; the matched variant "
                "models the data's actual type."
            )
    lines.append("")
    path = run_dir / "report.md"
    rundir.write_text_atomic(path, "\n".join(lines))
    return path


def describe_crossing(r: dict) -> str:
    cross = r["crossing"]
    if cross["below"] == "a->b" and cross["m"]:
        return f"NB better below m ≈ {cross['m']:.0f}, LR above"
    if cross["below"] == "b":
        return "none: LR better at every m"
    return "none: NB at or below LR at the largest m"


def verdict(r: dict) -> str:
    """A sentence with numbers: where NB wins, where LR wins, with paired intervals."""
    diff = r["difference_nb_lr"]
    sizes = r["sizes"]
    nb_better = [m for m, hi in zip(sizes, diff["ci_high"], strict=True) if hi < 0]
    lr_better = [m for m, lo in zip(sizes, diff["ci_low"], strict=True) if lo > 0]
    parts = []
    if nb_better:
        parts.append(f"NB is significantly better at m = {', '.join(map(str, nb_better))}")
    if lr_better:
        parts.append(f"LR is significantly better at m = {', '.join(map(str, lr_better))}")
    if not parts:
        parts.append("no size separates them beyond the subsets' noise")
    claim = (
        "as Ng & Jordan predict"
        if nb_better and lr_better and max(nb_better) < min(lr_better)
        else "so the claim holds only in part here: logistic regression's asymptotic advantage "
        "shows, but NB's small-sample advantage does not"
        if lr_better and not nb_better
        else "unlike the prediction"
    )
    first, last = diff["mean"][0], diff["mean"][-1]
    return (
        f"{'; '.join(parts)} ({claim}; paired NB − LR error {100 * first:+.1f} points at "
        f"m = {sizes[0]}, {100 * last:+.1f} at m = {sizes[-1]})."
    )
