"""What an RL run's Emergence section looks at: the return and the world's metrics at every
evaluation (not the training return, which moves only when a batch of episodes ends), the
world's pairs of all-or-nothing and continuous metrics, peaks that collapse (the tragedy of the
commons), and the roles the agents' final episodes show (who cleans, who eats) against random
play's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emergent import worlds
from emergent.emergence import Analysis, Curve
from emergent.kinds.rl.config import ExperimentConfig, grid_points
from emergent.logger import read_rows
from emergent.metrics import roles as roles_mod
from emergent.rollout import EpisodeLog
from emergent.sweep import grid
from emergent.worlds.base import eval_rows, final_rows, fmt_or_dash


def analysis(run_dir: Path, cfg: ExperimentConfig) -> Analysis | None:
    """One run's curves, or a grid's training returns side by side (one per point)."""
    world = worlds.analysis(cfg.world.name)
    if cfg.grid:
        ((key, _),) = cfg.grid.items()
        curves = []
        for values, _ in grid_points(cfg):
            rows = read_rows(run_dir / "points" / grid.name(values) / "metrics.jsonl")
            curves += evaluated(world, rows, ("return",), f"{key}={values[key]}")
        return Analysis(curves, x_label="agent-steps")
    rows = read_rows(run_dir / "metrics.jsonl")
    curves = evaluated(world, rows, ("return", *world.metrics, "snd"))
    curves = [c for c in curves if c.metric != "snd" or any(c.y)]  # a shared network: all 0
    claims, extra = roles_claims(world, run_dir, rows)
    last, rand = final_rows(rows)
    if isinstance(last.get("snd"), float):
        claims.append(diversity_claim(last["snd"]))  # after the roles it qualifies
    table = {
        "title": world.heading,
        "columns": ["metric", "random play", "learned (final)"],
        "rows": [
            [world.labels.get(m, m), fmt_or_dash(rand.get(m)), fmt_or_dash(last.get(m))]
            for m in ("return", *world.metrics)
            if m in last
        ],
    }
    verdict = world.verdict(rows) if world.verdict else ""
    return Analysis(
        curves,
        x_label="agent-steps",
        pairs=list(world.pairs),
        verdict=verdict,
        claims=claims,
        table=table,
        extra=extra,
    )


def evaluated(world, rows: list[dict], metrics: tuple[str, ...], run: str = "") -> list[Curve]:
    """The learned policy's curve of each metric over its evaluations."""
    learned = eval_rows(rows, "learned")
    discrete = {d for d, _ in world.pairs}
    labels = {"return": "return per agent", "snd": "System Neural Diversity", **world.labels}
    curves = []
    for metric in metrics:
        points = [(r["step"], r[metric]) for r in learned if isinstance(r.get(metric), float)]
        if points:
            x, y = zip(*points, strict=True)
            measure = "all_or_nothing" if metric in discrete else "continuous"
            curves.append(Curve(metric, labels.get(metric, metric), x, y, run=run,
                                measure=measure, peak=metric in world.peaks))  # fmt: skip
    return curves


def diversity_claim(snd: float) -> str:
    """The agents' behavioural diversity at the final evaluation (Bettini et al. 2023)."""
    if snd == 0:
        return (
            "System Neural Diversity 0: every agent acts alike on the same observation (one "
            "shared network); any roles come from what each agent sees."
        )
    return (
        f"System Neural Diversity {snd:.3f} (mean W2 between two agents' action distributions on "
        "the same observation; 0 for identical policies, at most 1.41)."
    )


def roles_claims(world, run_dir: Path, rows: list[dict]) -> tuple[list[str], dict]:
    """Roles of the final evaluation's agents beside random play's (`metrics.roles`)."""
    names = tuple(world.per_agent.values())
    final = run_dir / "episodes" / "final.npz"
    if len(names) < 2 or not final.is_file():
        return [], {}
    found = {"learned": log_roles(EpisodeLog.load(final), names)}
    randoms = sorted((run_dir / "episodes").glob("eval_random_*.npz"))
    if randoms:
        found["random"] = log_roles(EpisodeLog.load(randoms[-1]), names)
    claims = [
        f"Roles of the {who} agents, from their shares of {' and '.join(names)}: "
        f"{describe(found[who])}."
        for who in ("learned", "random")
        if who in found
    ]
    over_training = roles_over_training(rows)
    if over_training:
        claims.append(separation_claim(over_training))
    return claims, {"roles": found, "roles_over_training": over_training}


def roles_over_training(rows: list[dict]) -> list[list[int]]:
    """[agent-steps, number of roles] at every evaluation of the learned agents (the `roles`
    each evaluation logs, `metrics.roles.roles_from_episodes`)."""
    return [[r["step"], int(r["roles"])] for r in eval_rows(rows, "learned")
            if isinstance(r.get("roles"), float)]  # fmt: skip


def separation_claim(over_training: list[list[int]]) -> str:
    """When the learned agents' roles first separate, and whether they stay apart."""
    split = [step for step, k in over_training if k >= 2]
    if not split:
        return (
            "Roles over training (the roles criterion above, at every evaluation): one role at "
            f"each of the {len(over_training)} evaluations."
        )
    later = [k for step, k in over_training if step >= split[0]]
    text = (
        f"Roles over training (the roles criterion above, at every evaluation): they first "
        f"separate at agent-steps {split[0]:,} and the agents form two or more roles at "
        f"{sum(k >= 2 for k in later)} of the {len(later)} evaluations from then on"
    )
    held = held_from(over_training)
    if held is not None and held != split[0]:
        text += f"; every evaluation from {held:,} on"
    elif held is None:
        text += "; not at the last"
    return text + "."


def held_from(over_training: list[list[int]]) -> int | None:
    """The first evaluation from which every later one has two or more roles, if any."""
    held = None
    for step, k in over_training:
        held = (held if held is not None else step) if k >= 2 else None
    return held


def log_roles(log: EpisodeLog, names: tuple[str, ...]) -> dict:
    shares = roles_mod.fingerprints(log.events, names)
    found = roles_mod.roles_from_episodes(log.events, names)
    out = {
        "k": found.k,
        "names": found.describe(names),
        "labels": found.labels.tolist(),
        "silhouette": None if np.isnan(found.silhouette) else float(found.silhouette),
        "structure": found.structure,
        "p_value": found.p_value,
        "episodes": int(np.prod(np.shape(log.events[names[0]])[:-2])),
        "specialisation": float(roles_mod.fingerprint_specialisation(shares)),
        "events": list(names),
        "shares": shares.tolist(),
    }
    if found.k == 1 and not np.isnan(found.silhouette):  # the split the criteria turned down
        best = roles_mod.roles(shares, silhouette_min=0.0, min_separation=0.0)
        out["best_split"] = {"names": best.describe(names), "labels": best.labels.tolist()}
    return out


def describe(found: dict) -> str:
    evidence = noise_test(found)
    if found["k"] == 1:
        text = f"one role, {found['names'][0]} (specialisation {found['specialisation']:.2f})"
        split = found.get("best_split")
        if split is not None:
            text += (
                f"; the best split, {' and '.join(groups_of(split))}, has silhouette "
                f"{found['silhouette']:.2f}"
                + (f" ({structure_words(found['structure'])})" if "structure" in found else "")
                + turned_down(found, evidence)
            )
        return text
    structure = f", {structure_words(found['structure'])}" if "structure" in found else ""
    parts = [f"silhouette {found['silhouette']:.2f}{structure}", evidence,
             f"specialisation {found['specialisation']:.2f}"]  # fmt: skip
    return (
        f"{found['k']} roles, {' and '.join(groups_of(found))} ({'; '.join(p for p in parts if p)})"
    )


def structure_words(structure: str) -> str:
    """'a weak structure', 'no substantial structure' (`Roles.structure`)."""
    return f"{structure} structure" if structure == "no substantial" else f"a {structure} structure"


def turned_down(found: dict, evidence: str) -> str:
    """Why the best split is not roles: counting noise, or too little structure or difference."""
    if not evidence:
        return " (or its roles differ too little)"
    if found["p_value"] >= roles_mod.TEST_LEVEL:
        return f" but {evidence}"
    return f"; too little structure, or roles that differ too little, although {evidence}"


def noise_test(found: dict) -> str:
    """The permutation test's verdict in words ('' for a log written before it)."""
    p = found.get("p_value")
    if p is None:
        return ""
    if p < roles_mod.TEST_LEVEL:
        return (
            "the agents differ beyond counting noise: permutation p = "
            f"{p:.3f} over {found['episodes']} episodes"
        )
    return (
        "the agents do not differ beyond counting noise: permutation p = "
        f"{p:.2f} over {found['episodes']} episodes"
    )


def groups_of(found: dict) -> list[str]:
    """'cleaners (agents 0, 1)' for each role of a clustering."""
    out = []
    for r, name in enumerate(found["names"]):
        members = [str(a) for a, label in enumerate(found["labels"]) if label == r]
        out.append(f"{name} (agent{'s' if len(members) > 1 else ''} {', '.join(members)})")
    return out
