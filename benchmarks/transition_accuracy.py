"""How well `emergent.metrics.transitions` finds transitions on synthetic curves with known
answers, and how fast against ruptures' own piecewise-linear cost.

Curves: x in [0, 10,000] at N points, a rise of 1 (a step, or a logistic whose 10-90 % rise
takes 2, 5 or 10 % of the x-range) centred at 2,500, 5,000 or 7,500, plus Gaussian noise of
standard deviation 1 / SNR; pure noise and noisy straight lines (rise 1 over the range) for the
false-positive rate. Reported per width: the share of curves with a transition, the mean
|midpoint - centre| as a share of the x-range, and the share within 2.5 %.

The peer: the same PELT search and penalty with ruptures' `CostLinear` (least squares per
segment) instead of this module's prefix-sum cost, timed on the same curves (the results are
the same segmentation; a test checks the costs agree).

    python -m benchmarks.transition_accuracy [--seeds 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import ruptures

from emergent.metrics import transitions as tr

WIDTHS = (0.0, 0.02, 0.05, 0.10)
CENTRES = (2_500.0, 5_000.0, 7_500.0)
TOLERANCE = 0.025


def curve(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    if width == 0:
        return (x > centre).astype(float)
    rate = 2 * np.log(9) / (width * (x[-1] - x[0]))  # 10 % to 90 % over `width` of the range
    return 1 / (1 + np.exp(-rate * (x - centre)))


def accuracy(n: int, snr: float, seeds: int) -> None:
    x = np.linspace(0, 10_000, n)
    span = x[-1] - x[0]
    print(f"N = {n} points, SNR = {snr:g}, {seeds} seeds x {len(CENTRES)} centres per width")
    for width in WIDTHS:
        errors, total = [], seeds * len(CENTRES)
        for centre in CENTRES:
            for seed in range(seeds):
                noise = np.random.default_rng(seed).normal(0, 1 / snr, n)
                found = tr.main_transition(x, curve(x, centre, width) + noise)
                if found is not None:
                    errors.append(abs(found.midpoint - centre) / span)
        e = np.array(errors)
        print(f"  width {width:4.0%}: detected {len(e) / total:6.1%}, mean |midpoint error| "
              f"{e.mean():.2%} of the range, within {TOLERANCE:.1%}: "
              f"{(e <= TOLERANCE).sum() / total:6.1%}")  # fmt: skip
    k = 10 * seeds
    noise = sum(
        tr.main_transition(x, np.random.default_rng(s).normal(0, 1, n)) is not None
        for s in range(k)
    )
    line = sum(
        tr.main_transition(x, x / span + np.random.default_rng(s).normal(0, 1 / snr, n)) is not None
        for s in range(k)
    )
    print(f"  false positives: pure noise {noise}/{k} ({noise / k:.1%}), noisy line {line}/{k} "
          f"({line / k:.1%})")  # fmt: skip


def speed(n: int, curves: int) -> None:
    """Seconds per curve of the PELT segmentation: this module's cost against ruptures'."""
    x = np.linspace(0, 10_000, n)
    ys = [curve(x, 5_000, 0.05) + np.random.default_rng(s).normal(0, 0.1, n) for s in range(curves)]
    began = time.perf_counter()
    for y in ys:
        tr.detect(x, y)
    ours = (time.perf_counter() - began) / curves
    began = time.perf_counter()
    for y in ys:
        sigma = tr.noise_sigma(x, y)
        signal = np.column_stack([y, np.ones(n), x / x[-1]])
        algo = ruptures.Pelt(model="linear", min_size=tr.MIN_SEGMENT, jump=1).fit(signal)
        algo.predict(pen=tr.PENALTY_PARAMETERS * np.log(n) * sigma**2)
    peer = (time.perf_counter() - began) / curves
    print(
        f"N = {n}: detect {ours * 1e3:.1f} ms per curve (whole detection); ruptures "
        f"CostLinear segmentation alone {peer * 1e3:.1f} ms: {peer / ours:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    began = time.perf_counter()
    for n, snr in ((100, 10.0), (200, 10.0), (100, 5.0)):
        accuracy(n, snr, args.seeds)
    for n in (100, 200):
        speed(n, 20)
    print(f"{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
