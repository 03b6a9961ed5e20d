"""Throughput of Commons Harvest with random actions: PettingZoo shell and batched core.

Run `python -m benchmarks.env_speed [--seconds S]`. Prints a table of environment steps per
second (one step of one copy = one frame) and agent-steps per second, each with its ratio to
the reference peer, and saves the numbers with the git SHA to
benchmarks/results/env_speed.json.

Reference peer (reported, not measured here): Melting Pot's Commons Harvest runs at about
55 frames/s on a laptop (DeepMind Lab2D substrate, RGB observations for every player).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import envs
from envs.adapters.pettingzoo import parallel_env
from envs.commons import rules

MELTINGPOT_FPS = 55.0
RESULTS = Path(__file__).parent / "results" / "env_speed.json"


def _timed(step: Callable[[], None], seconds: float) -> tuple[int, float]:
    """Call `step` repeatedly for about `seconds`; return (calls, elapsed seconds)."""
    step()  # warm caches
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(10):
            step()
        calls += 10
    return calls, elapsed


def bench_pettingzoo(seconds: float) -> dict:
    """Steps of the PettingZoo shell at B = 1, resetting at the end of each episode."""
    env = parallel_env("commons")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    A = len(env.possible_agents)

    def step() -> None:
        if not env.agents:
            env.reset()
        act = rng.integers(0, 8, size=A)
        env.step({agent: int(a) for agent, a in zip(env.agents, act, strict=True)})

    calls, elapsed = _timed(step, seconds)
    return {"api": "pettingzoo", "batch_size": 1, "env_steps_per_s": calls / elapsed, "A": A}


def bench_core(batch_size: int, seconds: float, with_obs: bool = True) -> dict:
    """Batched steps of the core (with or without building observations)."""
    env = envs.make("commons", batch_size=batch_size, seed=0)
    env.reset()
    rng = np.random.default_rng(0)
    A = env.num_agents
    actions = rng.integers(0, 8, size=(64, batch_size, A))  # cycled, so no draw per step
    counter = iter(range(10**12))

    def step() -> None:
        a = actions[next(counter) % 64]
        if with_obs:
            if env.step(a).truncated.all():
                env.reset()
        else:
            env.state, _, _ = rules.step(env.cfg, env.state, a, env._rng)
            if env.state.t[0] >= env.max_steps:
                env.reset()

    calls, elapsed = _timed(step, seconds)
    api = "core" if with_obs else "core, no obs"
    return {
        "api": api,
        "batch_size": batch_size,
        "env_steps_per_s": calls * batch_size / elapsed,
        "A": A,
    }


def git_sha() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()

    rows = [bench_pettingzoo(args.seconds)]
    rows += [bench_core(b, args.seconds) for b in (1, 256, 1024)]
    rows += [bench_core(1024, args.seconds, with_obs=False)]
    print(f"{'api':<14}{'B':>6}{'env-steps/s':>14}{'agent-steps/s':>15}{'x Melting Pot':>15}")
    for row in rows:
        row["agent_steps_per_s"] = row["env_steps_per_s"] * row["A"]
        row["ratio_vs_meltingpot"] = row["env_steps_per_s"] / MELTINGPOT_FPS
        print(
            f"{row['api']:<14}{row['batch_size']:>6}{row['env_steps_per_s']:>14,.0f}"
            f"{row['agent_steps_per_s']:>15,.0f}{row['ratio_vs_meltingpot']:>15,.1f}"
        )
    print(
        f"{'reference':<14}{'':>6}{MELTINGPOT_FPS:>14,.0f}{'':>15}{1.0:>15.1f}"
        "   Melting Pot Commons Harvest, ~55 frames/s on a laptop (reported)"
    )

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "git_sha": git_sha(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "seconds_per_measurement": args.seconds,
        "reference": {"name": "meltingpot commons_harvest", "frames_per_s": MELTINGPOT_FPS},
        "results": rows,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
