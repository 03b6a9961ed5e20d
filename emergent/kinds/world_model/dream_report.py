"""The dream part of a world-model report: the learner trained only in the dream, played in the
real world, against random play and against the same learner trained in the real world (at
equal real agent-steps, at equal wall time, and at the reference's end), and the temperature
table; intervals over seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emergent import cells
from emergent.gentables import num, table
from emergent.kinds.world_model.config import WorldModelExperiment
from emergent.kinds.world_model.plots import dream_curves
from emergent.metrics.aggregate import mean, stratified_bootstrap_ci

TARGET_RATIO = 0.8
"""The issue's target: the dream-trained policy's real return at least this fraction of the
real-trained learner's..."""
TARGET_BUDGET = 0.1
"""...using at most this fraction of its real agent-steps."""
WORLD_MODELS_TABLE = (
    "World Models' VizDoom (table 2): at tau = 0.1, 2,086 in the dream against 193 in the real "
    "game; at tau = 1.15, 1,092 real"
)


def read(path: Path) -> dict | None:
    return cells.read_result(path, lambda r: "seed" in r or "temperature" in r)


def at_steps(curve: list[dict], steps: int) -> float:
    """The reference's real return at the first evaluation at or after `steps`."""
    for row in curve:
        if row["agent_steps"] >= steps:
            return row["real_return"]
    return curve[-1]["real_return"]


def at_seconds(curve: list[dict], seconds: float) -> float:
    """The reference's real return after `seconds` of training, interpolated along its curve
    (its first evaluation before that; its last after)."""
    times = [r["seconds"] for r in curve]
    returns = [r["real_return"] for r in curve]
    return float(np.interp(seconds, times, returns))


def interval(values: list[float]) -> str:
    """mean [low, high], a 95 % stratified-bootstrap interval of the mean over seeds."""
    if len(values) == 1:
        return num(values[0])
    ci = stratified_bootstrap_ci(np.asarray(values, float), mean, reps=2000, rng=0)
    return f"{num(float(ci.point))} [{num(float(ci.low))}, {num(float(ci.high))}]"


def dream_lines(run_dir: Path, cfg: WorldModelExperiment, plots: Path) -> list[str]:
    d = cfg.dream
    dreams = {s: read(run_dir / "dream" / f"seed{s}" / cells.RESULT) for s in d.seeds}
    reals = {s: read(run_dir / "real" / f"seed{s}" / cells.RESULT) for s in d.seeds}
    done = [s for s in d.seeds if dreams[s] is not None]
    lines = [
        "## Trained in the dream, played in the real world",
        "",
        f"The learner (`{d.agent}`) trains only in the model's dream (B = {d.num_envs}, "
        f"{d.max_steps}-step dreams at tau = {d.temperature:g}, {d.steps:,} agent-steps per "
        f"round, {d.rounds} round(s): record -> fit -> train in the dream, each later round "
        f"recording {d.round_steps:,} real agent-steps with the current policy); every return "
        f"below is played in the real {cfg.world} ({d.eval_envs} episodes per number, mean "
        "return per agent).",
        "",
    ]
    if not done:
        return [*lines, "No seed has finished yet.", ""]
    rows = []
    summary: dict[str, list[float]] = {k: [] for k in ("dream", "random", "steps", "time", "end")}
    for s in done:
        r, ref = dreams[s], reals.get(s)
        summary["dream"].append(r["real_return"])
        summary["random"].append(r["random_return"])
        cols = [str(s), f"{r['real_agent_steps']:,}", f"{r['seconds']:.0f}", num(r["real_return"]),
                num(r["dream_return"]), num(r["random_return"])]  # fmt: skip
        if ref is not None:
            curve = ref["curve"]
            pair = (at_steps(curve, r["real_agent_steps"]), at_seconds(curve, r["seconds"]),
                    curve[-1]["real_return"])  # fmt: skip
            for key, value in zip(("steps", "time", "end"), pair, strict=True):
                summary[key].append(value)
            cols += [num(v) for v in pair]
        rows.append(cols)
    header = ["seed", "real agent-steps", "seconds", "dream-trained (real)", "in its dream",
              "random"]  # fmt: skip
    if summary["end"]:
        header += ["real-trained, equal steps", "equal time", f"at {d.real_steps:,} steps"]
    lines += [*table(header, rows), ""]
    dream_curves({s: reals[s] for s in done if reals.get(s)}, {s: dreams[s] for s in done},
                 plots / "dream.png")  # fmt: skip
    lines += ["![dream against real training](plots/dream.png)", ""]
    budget = dreams[done[0]]["real_agent_steps"]
    lines.append(
        f"Over {len(done)} seed(s), mean and 95 % bootstrap interval: dream-trained "
        f"**{interval(summary['dream'])}**, random {interval(summary['random'])}"
        + (
            f"; the real-trained learner at equal real agent-steps {interval(summary['steps'])}, "
            f"at equal wall time {interval(summary['time'])}, after {d.real_steps:,} agent-steps "
            f"{interval(summary['end'])}."
            if summary["end"]
            else "."
        )
    )
    if summary["end"] and np.mean(summary["end"]) <= 0:
        lines.append("The real-trained learner earns nothing, so no ratio is given.")
    elif summary["end"]:
        ratio = float(np.mean(summary["dream"]) / np.mean(summary["end"]))
        share = budget / d.real_steps
        met = ratio >= TARGET_RATIO and share <= TARGET_BUDGET
        lines.append(
            f"The dream-trained policy reaches **{ratio:.0%}** of the real-trained learner's "
            f"return with {share:.0%} of its real agent-steps (target: at least "
            f"{TARGET_RATIO:.0%} with at most {TARGET_BUDGET:.0%}): "
            f"{'met' if met else 'not met'}."
        )
    lines.append("")
    lines += temperature_lines(run_dir, cfg)
    gifs = sorted((run_dir / "episodes").glob("dream_policy_*.gif"))
    if gifs:
        lines += ["### The dream-trained policy: real world (left), its dream (right)", ""]
        lines += [f"![real and dreamed](episodes/{g.name})" for g in gifs] + [""]
    return lines


def temperature_lines(run_dir: Path, cfg: WorldModelExperiment) -> list[str]:
    found = [
        read(run_dir / "temperature" / f"tau={t:g}" / cells.RESULT) for t in cfg.dream.temperatures
    ]
    found = [r for r in found if r is not None]
    if not found:
        return []
    rows = [[f"{r['temperature']:g}", num(r["dream_return"]), num(r["real_return"]),
             num(r["dream_return"] - r["real_return"])] for r in found]  # fmt: skip
    return [
        "### Temperature",
        "",
        "A fresh learner trained in the first seed's dream at each tau (one seed each):",
        "",
        *table(["tau", "return in the dream", "return in the real world", "dream - real"], rows),
        "",
        temperature_verdict(found),
        "",
    ]


def temperature_verdict(found: list[dict]) -> str:
    """Whether the table runs in the published direction: the lowest tau the most exploited
    dream (the largest dream - real gap) and not the best real return."""
    ordered = sorted(found, key=lambda r: r["temperature"])
    low = ordered[0]
    gaps = [r["dream_return"] - r["real_return"] for r in ordered]
    best_real = max(ordered, key=lambda r: r["real_return"])
    exploited = gaps[0] == max(gaps)
    direction = exploited and best_real is not low
    said = (
        f"At the lowest tau ({low['temperature']:g}) the dream overrates the policy "
        f"{'most' if exploited else 'not most'} (gap {gaps[0]:.1f}); the best real return is at "
        f"tau = {best_real['temperature']:g}. "
    )
    return said + (
        f"The published direction holds ({WORLD_MODELS_TABLE})."
        if direction
        else f"The published direction ({WORLD_MODELS_TABLE}: a too-low tau gives a dream the "
        "agent exploits, high in the dream and low in the real world) is not reproduced here."
    )
