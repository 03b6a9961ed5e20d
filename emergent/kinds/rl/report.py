"""`report.md` and `plots/` of a run directory, rebuilt from what is on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emergent import rundir, worlds
from emergent.errors import UserError
from emergent.kinds.rl import plots
from emergent.kinds.rl.config import ExperimentConfig, grid_points
from emergent.logger import read_rows
from emergent.metrics import aggregate
from emergent.rollout import EpisodeLog
from emergent.sweep import grid
from emergent.worlds.base import CHANNEL_ABLATIONS, channel_label

CIC_LISTENING = 0.1
"""CIC in bits from which the report says the listeners' actions depend on the message."""


def build(run_dir: Path, cfg: ExperimentConfig) -> Path:
    """Write plots and report.md for a run (or a grid of runs); return the report's path."""
    (run_dir / "plots").mkdir(exist_ok=True)
    text = grid_report(run_dir, cfg) if cfg.grid else single_report(run_dir, cfg)
    path = run_dir / "report.md"
    rundir.write_text_atomic(path, text)
    return path


def _final(rows: list[dict], policy: str) -> dict:
    evals = [r for r in rows if r.get("kind") == "eval" and r.get("policy") == policy]
    return max(evals, key=lambda r: r["step"]) if evals else {}


def _fmt(value: object, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "–"


def learning_verdict(
    learned: EpisodeLog | None, random: EpisodeLog | None, phrase: str = "learned"
) -> str:
    """Is the learned return clearly above random? Difference against 3 standard errors."""
    if learned is None or random is None:
        return "No final evaluation yet (the run has not finished)."
    a, b = learned.returns.mean(axis=1), random.returns.mean(axis=1)  # (B,) per episode
    diff = a.mean() - b.mean()
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if len(a) > 1 else float("nan")
    ratio = f" or {a.mean() / b.mean():.1f}× random" if b.mean() > 0 else ""
    verdict = (
        f"**The agents {phrase}**: the learned return is clearly above random"
        if diff > 3 * se
        else "**No clear learning yet**: the learned return is not 3 standard errors above random"
    )
    return (
        f"{verdict}: {a.mean():.1f} against {b.mean():.1f} per agent, a difference of "
        f"{diff:.1f} ± {se:.1f} (standard error){ratio}, over {len(a)} "
        "evaluation episodes each."
    )


def single_report(run_dir: Path, cfg: ExperimentConfig) -> str:
    rows = read_rows(run_dir / "metrics.jsonl")
    world = worlds.analysis(cfg.world.name)
    title = f"{cfg.name}: {cfg.title}"
    plot_title = f"{cfg.name}: {cfg.world.name} with {cfg.agent.kind}" + (
        " (trained in a dream)" if cfg.dreamed else ""
    )
    plots.return_curve(rows, run_dir / "plots" / "return.png", plot_title)
    if world.metrics:
        plots.metric_curves(
            rows,
            run_dir / "plots" / "metrics.png",
            f"{world.heading} over training",
            world.metrics,
            world.labels,
        )
    frames_file = run_dir / "episodes" / "final_frames.npz"
    has_frames = frames_file.is_file()
    if has_frames:
        with np.load(frames_file) as data:
            frames = data["frames"]
        plots.frame_strip(
            frames, run_dir / "plots" / "episode_frames.png", "Final evaluation episode (copy 0)"
        )

    learned_row, random_row = _final(rows, "learned"), _final(rows, "random")
    learned = _load_log(run_dir / "episodes" / "final.npz")
    random = _load_log(run_dir / "episodes" / f"eval_random_{random_row.get('step', 0):012d}.npz")
    train_rows = [r for r in rows if r.get("kind") == "train" and r.get("steps_per_s")]
    speed = float(np.median([r["steps_per_s"] for r in train_rows])) if train_rows else None

    lines = [
        f"# {title}",
        "",
        f"Run directory `{run_dir}` · seed {cfg.seed} · {learned_row.get('step', 0):,} agent-steps"
        + (f" · training speed {speed:,.0f} agent-steps/s" if speed else ""),
        "",
        "Reproduce: `emergent run " + str(run_dir / "config.yaml") + "`; "
        f"TensorBoard: `tensorboard --logdir {run_dir.parent.parent}`.",
        "",
        *dream_note(cfg),
        "## Learning",
        "",
        learning_verdict(learned, random, world.learned),
        "",
        "![return](plots/return.png)",
        "",
        f"## {world.heading}",
        "",
        world.explanation,
        "",
        "| metric | random policy | learned (final) |",
        "|---|---|---|",
    ]
    for key in ("return", *world.metrics):
        lines.append(f"| {key} | {_fmt(random_row.get(key))} | {_fmt(learned_row.get(key))} |")
    for key in sorted(k for k in learned_row if k.endswith("_per_agent")):
        lines.append(
            f"| {key.replace('_', ' ')} | {_fmt(random_row.get(key))} "
            f"| {_fmt(learned_row.get(key))} |"
        )
    verdict = world.verdict(rows) if world.verdict else ""
    lines += ["", *([verdict, ""] if verdict else [])]
    lines += channel_section(rows, world, run_dir, learned, random, random_row)
    if world.per_agent and learned is not None:
        lines += roles_section(world, learned, random, run_dir)
    if world.metrics:
        lines += ["![emergence metrics](plots/metrics.png)", ""]
    if has_frames:
        lines += [
            "## An evaluation episode",
            "",
            "![frames](plots/episode_frames.png)",
            "",
            "Whole episode: [episodes/final.gif](episodes/final.gif)",
            "",
        ]
    return "\n".join(lines)


def dream_note(cfg: ExperimentConfig) -> list[str]:
    """For a run trained in a dream: where it trained and where it was evaluated; else none."""
    if not cfg.dreamed:
        return []
    dream, real = cfg.env.options, cfg.world.name
    return [
        f"Trained in a dream of {real}: the world model `{dream.world_model}` imagining "
        f"{dream.max_steps} steps per episode at temperature {dream.temperature:g} "
        "(Ha & Schmidhuber 2018). Every evaluation below (random play included) plays the "
        f"real {real}.",
        "",
    ]


def channel_section(
    rows: list[dict],
    world: worlds.WorldAnalysis,
    run_dir: Path,
    learned: EpisodeLog | None,
    random: EpisodeLog | None,
    random_row: dict,
) -> list[str]:
    """The ablation every claim about communication needs (Lowe et al. 2019): the same learned
    policy with the channel cut and scrambled, against open and random play; empty for a world
    without a channel."""
    learned_row = _final(rows, "learned")
    ablations = {mode: _final(rows, channel_label(mode)) for mode in CHANNEL_ABLATIONS}
    ablations = {mode: row for mode, row in ablations.items() if row}
    if not ablations and "cic" not in learned_row:
        return []
    entries = [("learned, channel open", learned_row, learned)]
    for mode, row in ablations.items():
        path = run_dir / "episodes" / f"eval_{channel_label(mode)}_{row['step']:012d}.npz"
        entries.append((f"learned, channel {mode}", row, _load_log(path)))
    entries.append(("random policy", random_row, random))
    keys = (*world.metrics, "cic")
    lines = [
        "## The channel ablation",
        "",
        "The same learned policy evaluated on the same seeds with the channel open, cut (the "
        "listeners hear nothing) and scrambled (each token replaced by a uniformly random one); "
        "mean return per agent with its 95% bootstrap interval over episodes. CIC = causal "
        "influence of communication (Lowe et al. 2019), in bits: the mutual information "
        "between a message written into the listeners' observations and their action, "
        "messages uniform over all candidates, averaged over the listeners' states.",
        "",
        "| policy | return (95% CI) | " + " | ".join((*world.metrics, "CIC (bits)")) + " |",
        "|---" * (len(keys) + 2) + "|",
    ]
    intervals = {}
    for label, row, log in entries:
        ci = _return_ci(log)
        intervals[label] = ci
        text = "–" if ci is None else f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"
        cells = " | ".join(_fmt(row.get(k)) for k in keys)
        lines.append(f"| {label} | {text} | {cells} |")
    lines += ["", channel_verdict(intervals, learned_row.get("cic")), ""]
    return lines


def _return_ci(log: EpisodeLog | None) -> tuple[float, float, float] | None:
    """Mean return per agent and its 95% percentile-bootstrap interval over episodes."""
    if log is None:
        return None
    ci = aggregate.stratified_bootstrap_ci(log.returns.mean(axis=1), aggregate.mean, rng=0)
    return float(ci.point), float(ci.low), float(ci.high)


def channel_verdict(intervals: dict[str, tuple | None], cic: float | None) -> str:
    """Does cutting or scrambling the channel cost return, by how much, with the 95% intervals
    apart or overlapping; and the listeners' CIC."""
    open_ci = intervals.get("learned, channel open")
    sentences = []
    for mode in CHANNEL_ABLATIONS:
        other = intervals.get(f"learned, channel {mode}")
        if open_ci is None or other is None:
            continue
        verb = "Cutting" if mode == "cut" else "Scrambling"
        change = round(other[0] - open_ci[0], 2) + 0.0  # + 0.0: no "-0.00"
        apart = other[2] < open_ci[1] or other[1] > open_ci[2]
        if change < 0 and apart:
            meaning = "the 95% intervals do not overlap: the agents rely on the channel"
        elif apart:
            meaning = "the 95% intervals do not overlap: the agents do better without it"
        else:
            meaning = "the 95% intervals overlap: no clear evidence that the agents rely on it"
        sentences.append(
            f"{verb} the channel changes the return from {open_ci[0]:.2f} to {other[0]:.2f} "
            f"({change:+.2f}); {meaning}."
        )
    if cic is not None:
        sentences.append(
            f"The learned listeners' CIC is {cic:.2f} bits"
            + (
                ": their actions depend on the message."
                if cic >= CIC_LISTENING
                else ": their actions barely depend on the message."
            )
        )
    return " ".join(sentences)


def roles_section(
    world: worlds.WorldAnalysis, learned: EpisodeLog, random: EpisodeLog | None, run_dir: Path
) -> list[str]:
    """Who does what: per-agent totals in the final evaluation, against random play."""

    def totals(log: EpisodeLog) -> dict[str, np.ndarray]:
        return {
            title: log.events[event].sum(axis=1).mean(axis=0)  # (A,)
            for title, event in world.per_agent.items()
            if event in log.events
        }

    mine = totals(learned)
    plots.per_agent_bars(
        mine,
        totals(random) if random is not None else None,
        run_dir / "plots" / "per_agent.png",
        "Per agent, final evaluation (mean per episode)",
    )
    header = "| agent | " + " | ".join(mine) + " |"
    lines = ["### Who does what", "", header, "|---" * (len(mine) + 1) + "|"]
    for k in range(len(next(iter(mine.values())))):
        lines.append(f"| {k} | " + " | ".join(f"{v[k]:.1f}" for v in mine.values()) + " |")
    return [*lines, "", "![per agent](plots/per_agent.png)", ""]


def _load_log(path: Path) -> EpisodeLog | None:
    return EpisodeLog.load(path) if path.is_file() else None


def grid_report(run_dir: Path, cfg: ExperimentConfig) -> str:
    ((key, _),) = cfg.grid.items()
    table = []
    for values, point_cfg in grid_points(cfg):
        value = values[key]
        point_dir = run_dir / "points" / grid.name(values)
        rows = read_rows(point_dir / "metrics.jsonl")
        if rundir.read_state(point_dir).get("status") == "done":
            build(point_dir, point_cfg)
        table.append(
            {
                "value": value,
                "dir": point_dir,
                "learned": _final(rows, "learned"),
                "random": _final(rows, "random"),
            }
        )
    done = [row for row in table if row["learned"]]
    if not done:
        raise UserError(f"{run_dir}: no grid point has finished yet; resume the run first")
    world = worlds.analysis(cfg.world.name)
    metrics = ("return", *world.metrics)
    plots.against_parameter(
        done,
        key,
        run_dir / "plots" / "against_parameter.png",
        f"{cfg.name}: final evaluation against {key}",
        metrics,
        world.labels,
    )

    lines = [
        f"# {cfg.name}: {cfg.title}, swept over `{key}`",
        "",
        *dream_note(cfg),
        f"Run directory `{run_dir}` · seed {cfg.seed} · "
        f"{len(done)} of {len(table)} points finished.",
        "",
        "![metrics against the swept value](plots/against_parameter.png)",
        "",
        "| " + key + " | return (random → learned) | " + " | ".join(world.metrics) + " | report |",
        "|---" * (len(world.metrics) + 3) + "|",
    ]
    for row in done:
        cells = " | ".join(_fmt(row["learned"].get(m)) for m in world.metrics)
        link = f"[point]({row['dir'].relative_to(run_dir)}/report.md)"
        lines.append(
            f"| {row['value']} | {_fmt(row['random'].get('return'), 1)} → "
            f"{_fmt(row['learned'].get('return'), 1)} | {cells} | {link} |"
        )
    literature = world.literature.get(key)
    if literature:
        lines += [
            "",
            "## Against the literature",
            "",
            compare_with_literature(done, key, literature),
            "",
        ]
    return "\n".join(lines)


def compare_with_literature(
    table: list[dict], key: str, literature: dict[str, tuple[int, str]]
) -> str:
    """One line per metric: the measured trend as the swept value grows against the expected one."""
    if len(table) < 2:
        return "One grid point only: no trend to compare."
    ordered = sorted(table, key=lambda row: row["value"])
    lines = [
        f"From the smallest ({key} = {ordered[0]['value']}) to the largest "
        f"({key} = {ordered[-1]['value']}) setting, learned policies:",
        "",
    ]
    for metric, (sign, claim) in literature.items():
        values = np.array([row["learned"].get(metric, np.nan) for row in ordered], dtype=float)
        if np.isnan(values).any():
            lines.append(f"- **{metric}**: not measured at every point.")
            continue
        trend = _rank_trend(values)
        direction = "rises" if trend > 0.3 else "falls" if trend < -0.3 else "shows no clear trend"
        agrees = (trend > 0.3 and sign > 0) or (trend < -0.3 and sign < 0)
        verdict = "as the literature reports" if agrees else "unlike the literature's expectation"
        baseline = [row.get("random", {}).get(metric) for row in ordered]
        random_trend = (
            f"; random play: {baseline[0]:.2f} → {baseline[-1]:.2f}"
            if all(v is not None for v in baseline)
            else ""
        )
        line = (
            f"- **{metric}** {direction} ({values[0]:.2f} → {values[-1]:.2f}, rank correlation "
            f"{trend:+.2f}{random_trend}), {verdict}: {claim}."
        )
        if random_trend:
            excess = values - np.array(baseline, dtype=float)
            learned_part = _rank_trend(excess)
            if agrees and learned_part * sign <= 0.3:
                line += (
                    f" Relative to random play, though, the learned policies' {metric} does not "
                    f"grow ({excess[0]:+.2f} → {excess[-1]:+.2f}): the trend comes from the "
                    "setting itself, not from what the agents learned."
                )
        lines.append(line)
    tagged = [row["learned"].get("tagged_per_agent") for row in ordered]
    if "peace" in literature and all(t is not None for t in tagged) and max(tagged) < 1.0:
        lines += [
            "",
            f"Agents were tagged at most {max(tagged):.2f} times per episode: exclusion by "
            "tagging, which Perolat et al. see emerge late in long training, has not emerged "
            "at this budget, "
            "so peace stays near its maximum; raise `train.steps` to look for it.",
        ]
    return "\n".join(lines)


def _rank_trend(values: np.ndarray) -> float:
    """Spearman correlation of the values with their order (+1 rising, -1 falling)."""
    if values.std() == 0:
        return 0.0
    ranks = np.argsort(np.argsort(values))
    return float(np.corrcoef(np.arange(len(values)), ranks)[0, 1])
