"""The sweep report's comparison of each setting with the first (`emergent.sweep.report`), on
synthetic trial results whose answer is known: a clear difference is significant, two draws of
one distribution are not."""

from __future__ import annotations

import numpy as np

from emergent import kinds, worlds
from emergent.sweep import plots as sweep_plots
from emergent.sweep.report import Aggregates, Setting, against_reference, compared

METRICS = ("efficiency", "peace")


def talk_sweep(seeds: int = 5) -> list[Setting]:
    """A talk sweep's finished settings, listed with the channel first: efficiency clearly
    higher without one, peace drawn from one distribution in both."""
    rng = np.random.default_rng(3)
    settings = []
    for vocab, efficiency in ((8, 2.0), (0, 1.0)):
        rows = [
            {"efficiency": efficiency + 0.05 * rng.normal(), "peace": 4.5 + 0.2 * rng.normal()}
            for _ in range(seeds)
        ]
        values = {"env.talk_vocab": vocab}
        settings.append(Setting(f"env.talk_vocab={vocab}", values, list(range(seeds)), rows))
    return settings


def report_of(done: list[Setting]) -> tuple[Aggregates, str]:
    x = np.array([s.values["env.talk_vocab"] for s in done], dtype=float)
    reference, differences = against_reference(done, METRICS, x)
    found = Aggregates(
        kinds.kind_named(kinds.DEFAULT),
        "return",
        worlds.analysis("commons"),
        done,
        {},
        {},
        x,
        "env.talk_vocab",
        reference,
        differences,
    )
    return found, "\n".join(compared(found))


def test_each_setting_is_compared_with_the_first_along_the_swept_value():
    found, text = report_of(talk_sweep())
    assert found.done[found.reference].name == "env.talk_vocab=0"  # no channel: the reference
    efficiency, peace = found.differences["efficiency"], found.differences["peace"]
    assert efficiency[found.reference].difference == 0
    talk = 1 - found.reference
    assert efficiency[talk].ci_low > 0.8 and efficiency[talk].p_value < 0.05
    assert peace[talk].p_value > 0.05 and peace[talk].ci_low < 0 < peace[talk].ci_high
    assert "## Each setting against `env.talk_vocab=0`" in text
    assert "| efficiency | env.talk_vocab=8 | 5 vs 5 | +0.99 [" in text
    assert "| 0.008 | **significant** |" in text  # exact: 2 of the 252 splits of 5 + 5 seeds
    line = next(row for row in text.splitlines() if row.startswith("| peace |"))
    assert line.endswith("| not significant |")
    assert "Significant at 5 %: efficiency at `env.talk_vocab=8` (+0.99, p = 0.008)." in text


def test_few_seeds_are_never_called_significant():
    _, text = report_of(talk_sweep(seeds=3))  # smallest p of 3 seeds against 3: 0.1
    assert "**significant**" not in text
    assert "No difference from `env.talk_vocab=0` is significant at 5 % with these seeds." in text
    _, single = report_of(talk_sweep(seeds=1))
    assert "too few seeds to test" in single


def test_one_setting_has_nothing_to_compare(tmp_path):
    assert report_of(talk_sweep()[:1])[1] == ""
    found, _ = report_of(talk_sweep())
    names = [s.name for i, s in enumerate(found.done) if i != found.reference]
    compared_only = {
        m: [d for i, d in enumerate(rows) if i != found.reference]
        for m, rows in found.differences.items()
    }
    path = tmp_path / "differences.png"
    sweep_plots.differences(names, compared_only, {}, path, "talk minus no talk")
    assert path.stat().st_size > 0
