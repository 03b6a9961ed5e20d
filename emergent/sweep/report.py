"""`report.md`, `plots/` and `aggregate.json` of a sweep, rebuilt from its trials on disk.

Everything is computed from the finished trials' `metrics.jsonl`, aggregated across seeds
following Agarwal et al. 2021 (`emergent.metrics.aggregate`, 95 % percentile intervals from a
stratified bootstrap of the seeds):
- the final evaluation return of each setting: interquartile mean and mean with their CIs;
- performance profiles: the fraction of a setting's runs whose final return exceeds tau;
- learning curves: the IQM of the evaluation return at each evaluation step, with CI bands;
- each of the world's metrics (social outcomes, ...) against the swept parameter: mean and CI;
- each setting against the first (in the order of the swept value): the difference of each
  metric's mean with its bootstrap CI and a two-sided permutation test of "no difference"
  (`aggregate.difference_of_means`), e.g. a channel for cheap talk against none.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from emergent import emergence, kinds, plotstyle, rundir, worlds
from emergent.errors import UserError
from emergent.kinds.record import Kind
from emergent.logger import read_rows
from emergent.metrics import aggregate
from emergent.sweep import config as sweep_config
from emergent.sweep import emergence as sweep_emergence
from emergent.sweep import plots as sweep_plots

REPS = 2000  # bootstrap replicates (rliable uses 2,000 for bands)
CONFIDENCE = 0.95
PROFILE_POINTS = 60


LABELS = {"return": "Mean return per agent"}


@dataclass
class Setting:
    """The finished seeds of one setting: each seed's final results (its kind's `results`) and,
    for RL, its random-play baseline and evaluation curve."""

    name: str
    values: dict[str, Any]
    seeds: list[int] = field(default_factory=list)
    final: list[dict] = field(default_factory=list)
    random: list[dict] = field(default_factory=list)
    curves: list[list[dict]] = field(default_factory=list)

    def values_of(self, metric: str, rows: str = "final") -> np.ndarray:
        """(seeds,) the metric in each seed's final learned (or random) row; NaN if missing."""
        found = [row.get(metric) for row in getattr(self, rows)]
        return np.array([np.nan if v is None else v for v in found], dtype=float)


@dataclass(frozen=True)
class Aggregates:
    """What the report says of the finished settings: each metric across seeds."""

    kind: Kind
    score: str
    """The headline metric (the kind's `metric`: the final return for RL)."""
    world: worlds.WorldAnalysis
    done: list[Setting]
    summaries: dict[str, list[aggregate.SeedSummary]]
    """Metric -> one summary per finished setting."""
    random: dict[str, list[float]]
    """Metric -> random play's mean per finished setting (NaN where there is none)."""
    x: np.ndarray
    xlabel: str
    reference: int = 0
    """Index in `done` of the setting the others are compared with (the first along x)."""
    differences: dict[str, list[aggregate.Difference]] = field(default_factory=dict)
    """Metric -> one difference per finished setting from the reference (its own: 0)."""


def collect(
    sweep_dir: Path, sweep: sweep_config.SweepConfig, kind: Kind
) -> tuple[list[Setting], list[dict]]:
    """Per-setting results of the finished trials, and one status row per trial."""
    settings = {
        name: Setting(name, next(t.values for t in sweep.trials if t.setting == name))
        for name in sweep.settings
    }
    trials = []
    for trial in sweep.trials:
        path = sweep_config.trial_dir(sweep_dir, trial.name)
        rows = read_rows(path / "metrics.jsonl")
        attempts = read_rows(path / "attempts.jsonl")
        status = rundir.read_state(path).get("status") or trial_status(sweep_dir, trial, attempts)
        learned, random = worlds.eval_rows(rows, "learned"), worlds.eval_rows(rows, "random")
        results = kind.results(path) if path.is_dir() else {}
        trials.append({"trial": trial, "status": status, "attempts": attempts, "final": [results]})
        if status == "done" and kind.metric in results:
            setting = settings[trial.setting]
            setting.seeds.append(trial.seed)
            setting.final.append(results)
            setting.random.append(random[-1] if random else {})
            if learned:
                setting.curves.append(learned)
    return list(settings.values()), trials


def trial_status(sweep_dir: Path, trial: sweep_config.TrialSpec, attempts: list[dict]) -> str:
    """Status of a trial that has not written state.json: failed (Tune kept its error), started
    (it ran before its first checkpoint), or not started."""
    if (sweep_dir / "tune" / trial.name / "error.txt").is_file():
        return "failed"
    return "started" if attempts else "not started"


def build(sweep_dir: str | Path) -> Path:
    """Write report.md, plots/ and aggregate.json of a sweep; return the report's path."""
    with plotstyle.styled():
        return _build(Path(sweep_dir))


def _build(sweep_dir: Path) -> Path:
    sweep = sweep_config.read_dir(sweep_dir)
    kind = kinds.kind_named(sweep.base.get("kind", kinds.DEFAULT))
    settings, trials = collect(sweep_dir, sweep, kind)
    done = [s for s in settings if s.final]
    if not done:
        raise UserError(f"{sweep_dir}: no trial has finished yet; resume the sweep first")
    score = kind.metric
    env = sweep.base.get("env", {}).get("name")
    world = worlds.analysis(env) if env else worlds.PLAIN
    metrics = (score, *world.metrics)
    labels = {score: LABELS.get(score, score), **world.labels}
    summaries = {
        m: aggregate.summarize_across_seeds(
            {s.name: s.values_of(m) for s in done}, REPS, CONFIDENCE, rng=0
        )
        for m in metrics
    }
    random = {m: [_mean(s.values_of(m, "random")) for s in done] for m in metrics}
    x, ticks, xlabel = positions(done, sweep.section.swept_keys)
    plot_dir = sweep_dir / "plots"
    plot_dir.mkdir(exist_ok=True)
    names = [s.name for s in done]
    seeds = f"{len(sweep.section.seeds)} seeds, 95% CI"
    final = "final evaluation return" if score == "return" else f"final {score}"
    sweep_plots.interval_estimates(
        names,
        summaries[score],
        plot_dir / "final_return.png",
        f"{sweep.name}: {final} across seeds ({seeds})",
        final,
    )
    scores = np.concatenate([s.values_of(score) for s in done])
    taus = np.linspace(scores.min() - 1e-9, scores.max(), PROFILE_POINTS)
    profiles = [
        aggregate.performance_profile(s.values_of(score), taus, REPS, CONFIDENCE, rng=0)
        for s in done
    ]
    sweep_plots.performance_profiles(
        taus,
        profiles,
        names,
        plot_dir / "profile.png",
        f"{sweep.name}: performance profiles ({seeds})",
        f"{final} τ",
    )
    curves = [learning_curve(s, score) for s in done]
    if any(c is not None for c in curves):
        sweep_plots.learning_curves(
            curves,
            random[score],
            names,
            plot_dir / "learning_curves.png",
            f"{sweep.name}: IQM of the evaluation return ({seeds})",
            labels[score],
        )
    sweep_plots.against_parameter(
        x,
        ticks,
        xlabel,
        {m: summaries[m] for m in metrics},
        random,
        labels,
        plot_dir / "against_parameter.png",
        f"{sweep.name}: final evaluation against {xlabel} (mean of seeds, 95% CI)",
    )
    reference, differences = against_reference(done, metrics, x)
    if len(done) > 1:
        sweep_plots.differences(
            [s.name for i, s in enumerate(done) if i != reference],
            {
                m: [d for i, d in enumerate(rows) if i != reference]
                for m, rows in differences.items()
            },
            labels,
            plot_dir / "differences.png",
            f"{sweep.name}: each setting minus {done[reference].name} "
            f"(mean of seeds, 95% CI; p: permutation test)",
        )
    found = Aggregates(
        kind, score, world, done, summaries, random, x, xlabel, reference, differences
    )
    write_aggregate(sweep_dir / "aggregate.json", sweep, found)
    text = render(sweep_dir, sweep, trials, found)
    records = {
        setting.name: [r for r in (emergence.read(sweep_config.trial_dir(sweep_dir, t.name))
                                   for t in sweep.trials
                                   if t.setting == setting.name and t.seed in setting.seeds) if r]
        for setting in done
    }  # fmt: skip
    record = sweep_emergence.across_seeds(records, "agent-steps" if kind.name == "rl" else "step")
    rundir.write_text_atomic(sweep_dir / emergence.FILE, json.dumps(emergence.clean(record)))
    text = emergence.splice(text, sweep_emergence.sweep_section(record))
    path = sweep_dir / "report.md"
    rundir.write_text_atomic(path, text)
    return path


def against_reference(
    done: list[Setting], metrics: tuple[str, ...], x: np.ndarray
) -> tuple[int, dict[str, list[aggregate.Difference]]]:
    """The reference setting, the first along x (the smallest swept value: no channel in a
    talk sweep), and each metric's difference of every setting from it, with its bootstrap
    interval and permutation test (`aggregate.difference_of_means`)."""
    reference = int(np.argsort(x, kind="stable")[0])
    differences = {
        m: [
            aggregate.difference_of_means(
                done[reference].values_of(m), s.values_of(m), REPS, CONFIDENCE, rng=0
            )
            for s in done
        ]
        for m in metrics
    }
    return reference, differences


def _mean(values: np.ndarray) -> float:
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float("nan")


def positions(settings: list[Setting], keys: tuple[str, ...]) -> tuple[np.ndarray, list, str]:
    """x of each setting: the swept value when one numeric key is swept, else its index."""
    if len(keys) == 1:
        values = [s.values[keys[0]] for s in settings]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return np.array(values, dtype=float), [f"{v:g}" for v in values], keys[0]
        return np.arange(len(values), dtype=float), [str(v) for v in values], keys[0]
    label = "setting" if keys else "seeds"
    return np.arange(len(settings), dtype=float), [s.name for s in settings], label


def learning_curve(setting: Setting, score: str) -> tuple[np.ndarray, aggregate.BootstrapCI] | None:
    """IQM across seeds of the learned evaluation return at the steps every seed evaluated
    (None for a kind without evaluation curves)."""
    if not setting.curves or len(setting.curves) != len(setting.final):
        return None
    steps = sorted(set.intersection(*({row["step"] for row in c} for c in setting.curves)))
    if not steps:
        return None
    table = np.array(
        [[{r["step"]: r[score] for r in c}[step] for step in steps] for c in setting.curves],
        dtype=float,
    )  # (N, T)
    return np.array(steps), aggregate.aggregate_curves(table, "iqm", REPS, CONFIDENCE, rng=0)


def write_aggregate(path: Path, sweep: sweep_config.SweepConfig, found: Aggregates) -> None:
    """The numbers behind the report, one entry per finished setting (NaN written as null)."""
    done, summaries, random = found.done, found.summaries, found.random

    def clean(value: Any) -> Any:
        return None if isinstance(value, float) and not math.isfinite(value) else value

    entries = []
    for i, setting in enumerate(done):
        entries.append(
            {
                "setting": setting.name,
                "values": setting.values,
                "seeds": setting.seeds,
                "metrics": {
                    m: {k: clean(v) for k, v in rows[i]._asdict().items() if k != "param"}
                    for m, rows in summaries.items()
                },
                "random_mean": {m: clean(values[i]) for m, values in random.items()},
                "difference_from_reference": {
                    m: {k: clean(v) for k, v in rows[i]._asdict().items()}
                    for m, rows in found.differences.items()
                },
            }
        )
    data = {
        "score": found.score,
        "confidence": CONFIDENCE,
        "bootstrap_reps": REPS,
        "swept": list(sweep.section.swept_keys),
        "reference": done[found.reference].name if done else None,
        "settings": entries,
    }
    rundir.write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def _ci(row: aggregate.SeedSummary, which: str = "mean") -> str:
    if row.n == 0:
        return "–"
    low, high = ("ci_low", "ci_high") if which == "mean" else ("iqm_low", "iqm_high")
    return f"{getattr(row, which):.2f} [{getattr(row, low):.2f}, {getattr(row, high):.2f}]"


def render(
    sweep_dir: Path, sweep: sweep_config.SweepConfig, trials: list[dict], found: Aggregates
) -> str:
    finished = sum(t["status"] == "done" for t in trials)
    nodes = {a["node_id"] for t in trials for a in t["attempts"]}
    restarts = sum(max(len(t["attempts"]) - 1, 0) for t in trials)
    base, score, world, done = sweep.base, found.score, found.world, found.done
    summaries, random = found.summaries, found.random
    rl = "env" in base and "agent" in base
    what = f"{base['env']['name']} with {base['agent']['kind']}" if rl else found.kind.summary
    budget = f" · {base['train']['steps']:,} agent-steps per trial" if rl else ""
    final = "final evaluation return" if score == "return" else f"final {score}"
    curves = (sweep_dir / "plots" / "learning_curves.png").is_file()
    lines = [
        f"# {sweep.name}: {what}, "
        f"swept over {', '.join(f'`{k}`' for k in sweep.section.swept_keys) or 'seeds'}",
        "",
        f"Sweep directory `{sweep_dir}` · {finished} of {len(trials)} trials finished "
        f"({len(sweep.settings)} settings × {len(sweep.section.seeds)} seeds) on "
        f"{len(nodes)} Ray node(s), {restarts} restart(s) after failures{budget}.",
        "",
        f"Rebuild: `emergent report {sweep_dir}`; resume: `emergent sweep --resume {sweep_dir}`.",
        "",
        f"## {final[0].upper() + final[1:]} across seeds",
        "",
        f"Interquartile mean (IQM) and mean over seeds of the {final}, with "
        f"{CONFIDENCE:.0%} percentile intervals from {REPS:,} stratified bootstrap resamples of "
        "the seeds (Agarwal et al. 2021, *Deep RL at the Edge of the Statistical Precipice*).",
        "",
        "| setting | seeds | IQM [95% CI] | mean [95% CI] |"
        + (" random play (mean) |" if rl else ""),
        "|---|---|---|---|" + ("---|" if rl else ""),
    ]
    for i, setting in enumerate(done):
        row = summaries[score][i]
        baseline = f" {random[score][i]:.2f} |" if rl else ""
        lines.append(f"| {setting.name} | {row.n} | {_ci(row, 'iqm')} | {_ci(row)} |{baseline}")
    lines += [
        "",
        "![IQM and mean with CIs](plots/final_return.png)",
        "",
        "![performance profiles](plots/profile.png)",
        "",
        *(["![learning curves](plots/learning_curves.png)", ""] if curves else []),
        f"## {world.heading} against {found.xlabel}",
        "",
        world.explanation,
        "",
        "Mean over seeds of the final evaluation [95% bootstrap CI]:",
        "",
        "| setting | " + " | ".join(m for m in summaries) + " |",
        "|---" * (len(summaries) + 1) + "|",
    ]
    for i, setting in enumerate(done):
        cells = " | ".join(_ci(rows[i]) for rows in summaries.values())
        lines.append(f"| {setting.name} | {cells} |")
    lines += [
        "",
        "![metrics against the swept parameter](plots/against_parameter.png)",
        "",
        *findings(sweep, found),
        *compared(found),
        "## Trials",
        "",
        f"| trial | status | {final} | attempts | report |",
        "|---|---|---|---|---|",
    ]
    for t in trials:
        value = t["final"][0].get(score) if t["final"] else None
        name = t["trial"].name
        link = f"[report](trials/{name}/report.md)" if t["status"] == "done" else "–"
        shown = "–" if value is None else f"{value:.2f}"
        lines.append(f"| {name} | {t['status']} | {shown} | {len(t['attempts'])} | {link} |")
    return "\n".join(lines) + "\n"


def findings(sweep: sweep_config.SweepConfig, found: Aggregates) -> list[str]:
    """A paragraph from the numbers: each metric from the first to the last setting, whether
    the intervals separate them, and the direction the literature expects."""
    world, done, summaries, random = found.world, found.done, found.summaries, found.random
    x, xlabel = found.x, found.xlabel
    if len(done) < 2:
        return ["One setting finished: nothing to compare yet.", ""]
    order = np.argsort(x, kind="stable")
    first, last = done[order[0]].name, done[order[-1]].name
    expected = world.literature.get(xlabel, {})
    lines = ["## What the sweep shows", "", f"From `{first}` to `{last}`:", ""]
    for metric, rows in summaries.items():
        a, b = rows[order[0]], rows[order[-1]]
        if a.n == 0 or b.n == 0:
            lines.append(f"- **{metric}**: undefined at one end (no seed measured it).")
            continue
        means = np.array([rows[i].mean for i in order])
        trend = stats.spearmanr(x[order], means).statistic if np.ptp(means) > 0 else 0.0
        direction = "rises" if b.mean > a.mean else "falls" if b.mean < a.mean else "stays"
        apart = a.ci_high < b.ci_low or b.ci_high < a.ci_low
        line = (
            f"- **{metric}** {direction} from {_ci(a)} to {_ci(b)} (rank correlation with the "
            f"setting {trend:+.2f}); "
            + (
                "the 95% intervals do not overlap: a clear difference."
                if apart
                else f"the 95% intervals overlap: {len(sweep.section.seeds)} seeds cannot "
                "separate the two ends."
            )
        )
        if metric in expected:
            sign, claim = expected[metric]
            if not apart:
                verdict = f"The literature expects it to {'rise' if sign > 0 else 'fall'}"
            elif (b.mean - a.mean) * sign > 0:
                verdict = "As the literature expects"
            else:
                verdict = "Unlike the literature's expectation"
            line += f" {verdict}: {claim}."
        baseline = random[metric][order[0]], random[metric][order[-1]]
        if all(math.isfinite(v) for v in baseline):
            line += f" Random play: {baseline[0]:.2f} → {baseline[1]:.2f}."
        lines.append(line)
    return [*lines, ""]


SIGNIFICANCE = 0.05
"""Level of the permutation tests in the report."""


def compared(found: Aggregates) -> list[str]:
    """Each setting against the reference, metric by metric: the difference of the means with
    its bootstrap CI, the permutation test's p-value and whether it is significant at 5 %."""
    done, ref = found.done, found.reference
    if len(done) < 2:
        return []
    name = done[ref].name
    lines = [
        f"## Each setting against `{name}`",
        "",
        f"Difference of the mean over seeds from `{name}`, with its {CONFIDENCE:.0%} percentile "
        f"interval from {REPS:,} bootstrap resamples of each setting's seeds, and the p-value of "
        "a two-sided permutation test of no difference (exact over every split of the seeds; "
        "`emergent.metrics.aggregate.difference_of_means`). Each metric is tested on its own at "
        f"{SIGNIFICANCE:.0%}, without a correction for testing several metrics; a test on few "
        "seeds can miss a real difference, so 'not significant' means these seeds do not show "
        "one, not that there is none.",
        "",
        "| metric | setting | seeds | difference [95% CI] | p | at 5 % |",
        "|---|---|---|---|---|---|",
    ]
    verdicts = []
    for metric, rows in found.differences.items():
        for i, row in enumerate(rows):
            if i == ref:
                continue
            if math.isnan(row.difference):
                cells = "– | – | undefined (no seed measured it)"
            else:
                interval = f"{row.difference:+.2f} [{row.ci_low:+.2f}, {row.ci_high:+.2f}]"
                if math.isnan(row.p_value):
                    cells = f"{interval} | – | too few seeds to test"
                else:
                    significant = row.p_value < SIGNIFICANCE
                    cells = f"{interval} | {row.p_value:.3f} | " + (
                        "**significant**" if significant else "not significant"
                    )
                    verdicts.append((metric, done[i].name, row, significant))
            seeds = f"{row.n} vs {row.n_reference}"
            lines.append(f"| {metric} | {done[i].name} | {seeds} | {cells} |")
    lines += ["", "![differences from the reference](plots/differences.png)", ""]
    if verdicts:
        shown = [v for v in verdicts if v[3]]
        if shown:
            text = "; ".join(
                f"{m} at `{s}` ({r.difference:+.2f}, p = {r.p_value:.3f})" for m, s, r, _ in shown
            )
            lines.append(f"Significant at 5 %: {text}.")
        else:
            lines.append(f"No difference from `{name}` is significant at 5 % with these seeds.")
        lines.append("")
    return lines
