"""Throughput of our worlds with random actions, against peers measured in the same run.

Run `python -m benchmarks.env_speed [--seconds S] [--rounds R]`. Prints one table per world,
with environment steps per second (one step of one copy), agent-steps per second (env-steps
x agents) and ratios to the peer, and saves the numbers with the git SHA to
benchmarks/results/env_speed.json.

Spread (N = 3, discrete actions) against PettingZoo/MPE2's `mpe2.simple_spread_v3`, the
world it equals step for step: mpe2's `parallel_env`, our PettingZoo shell (B = 1, the same
loop and the same pre-drawn action dicts), and our batched core at B = 1, 64, 1024. Ratios are
agent-steps/s over mpe2's, by wall clock and by CPU time of this process. Targets (issue 5):
the shell >= 1x mpe2, the core at B = 1024 >= 100x mpe2.

Commons Harvest: our shell and core; the peer is reported, not measured here: Melting Pot's
Commons Harvest runs at about 55 frames/s on a laptop (DeepMind Lab2D substrate, RGB
observations for every player). Cleanup, when registered in `envs.WORLDS`: shell and core at
B = 1 and 1024 (no peer).

Timing: every measurement steps for S seconds (resetting at the end of each episode, with
actions cycled from 64 pre-drawn ones); the R rounds run the measurements in turn, so load
from other processes hits all alike, and the best round of each is kept, as timeit does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gymnasium
import numpy as np

import envs
from envs.adapters.pettingzoo import parallel_env
from envs.commons import rules as commons_rules

MELTINGPOT_FPS = 55.0
RESULTS = Path(__file__).parent / "results" / "env_speed.json"
Step = Callable[[], None]


def random_actions(space: gymnasium.spaces.Space, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Uniform random actions of `space`, shape (*shape, *space.shape)."""
    rng = np.random.default_rng(seed)
    if isinstance(space, gymnasium.spaces.Discrete):
        return space.start + rng.integers(0, space.n, size=shape)
    if isinstance(space, gymnasium.spaces.Box):
        return rng.uniform(space.low, space.high, size=shape + space.shape).astype(space.dtype)
    raise ValueError(f"env_speed: no random actions for {space}")


def parallel_stepper(env) -> Step:
    """One step of a PettingZoo parallel env per call (any, ours or a peer's)."""
    env.reset(seed=0)
    agents = list(env.possible_agents)
    table = random_actions(env.action_space(agents[0]), (64, len(agents)), seed=0)
    per_step = [dict(zip(agents, row, strict=True)) for row in table]
    counter = iter(range(10**12))

    def step() -> None:
        if not env.agents:
            env.reset()
        env.step(per_step[next(counter) % 64])

    return step


def core_stepper(name: str, batch_size: int, **kwargs: object) -> Step:
    """One batched step of our core per call (observations included)."""
    env = envs.make(name, batch_size=batch_size, seed=0, **kwargs)
    env.reset()
    table = random_actions(env.action_space, (64, batch_size, env.num_agents), seed=0)
    counter = iter(range(10**12))

    def step() -> None:
        result = env.step(table[next(counter) % 64])
        if (result.terminated | result.truncated).all():
            env.reset()

    return step


def commons_rules_stepper(batch_size: int) -> Step:
    """Commons rules alone, without building observations."""
    env = envs.make("commons", batch_size=batch_size, seed=0)
    env.reset()
    table = random_actions(env.action_space, (64, batch_size, env.num_agents), seed=0)
    counter = iter(range(10**12))

    def step() -> None:
        a = table[next(counter) % 64]
        env.state, _, _ = commons_rules.step(env.cfg, env.state, a, env._rng)
        if env.state.t[0] >= env.max_steps:
            env.reset()

    return step


@dataclass
class Measurement:
    """One row of the tables: what is timed, and the best rates seen over the rounds."""

    env: str
    api: str
    batch_size: int
    step: Step
    agents: int = 0
    env_steps_per_s: float = 0.0
    env_steps_per_cpu_s: float = 0.0


def measurements() -> list[Measurement]:
    """Every measurement, its stepper built (and warmed) here, timed later."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mpe2's import warns about pettingzoo's old API
        from mpe2 import simple_spread_v3

    peer = simple_spread_v3.parallel_env(N=3, max_cycles=25)
    rows = [
        Measurement("spread", "mpe2 parallel_env", 1, parallel_stepper(peer)),
        Measurement("spread", "pettingzoo", 1, parallel_stepper(parallel_env("spread"))),
    ]
    rows += [Measurement("spread", "core", b, core_stepper("spread", b)) for b in (1, 64, 1024)]
    rows.append(Measurement("commons", "pettingzoo", 1, parallel_stepper(parallel_env("commons"))))
    rows += [Measurement("commons", "core", b, core_stepper("commons", b)) for b in (1, 256, 1024)]
    rows.append(Measurement("commons", "core, no obs", 1024, commons_rules_stepper(1024)))
    if "cleanup" in envs.WORLDS:
        rows.append(
            Measurement("cleanup", "pettingzoo", 1, parallel_stepper(parallel_env("cleanup")))
        )
        rows += [Measurement("cleanup", "core", b, core_stepper("cleanup", b)) for b in (1, 1024)]
    for row in rows:
        row.agents = envs.make(row.env).num_agents
        row.step()  # warm caches
    return rows


def time_rounds(rows: list[Measurement], seconds: float, rounds: int) -> None:
    """Step each row for about `seconds`, `rounds` times in turn; keep each row's best rates."""
    for _ in range(rounds):
        for row in rows:
            calls, wall, cpu = 0, time.perf_counter(), time.process_time()
            while time.perf_counter() - wall < seconds:
                for _ in range(10):
                    row.step()
                calls += 10
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            row.env_steps_per_s = max(row.env_steps_per_s, calls * row.batch_size / wall)
            row.env_steps_per_cpu_s = max(
                row.env_steps_per_cpu_s, calls * row.batch_size / max(cpu, 1e-9)
            )


def record_of(row: Measurement, peer: Measurement) -> dict:
    """The JSON record of a row, with its ratios to its world's peer (if any)."""
    record = {
        "env": row.env,
        "api": row.api,
        "batch_size": row.batch_size,
        "A": row.agents,
        "env_steps_per_s": row.env_steps_per_s,
        "agent_steps_per_s": row.env_steps_per_s * row.agents,
        "agent_steps_per_cpu_s": row.env_steps_per_cpu_s * row.agents,
    }
    if row.env == "spread":
        peer_agents = peer.agents * peer.env_steps_per_s, peer.agents * peer.env_steps_per_cpu_s
        record["ratio_vs_mpe2"] = record["agent_steps_per_s"] / peer_agents[0]
        record["ratio_vs_mpe2_cpu"] = record["agent_steps_per_cpu_s"] / peer_agents[1]
    elif row.env == "commons":
        record["ratio_vs_meltingpot"] = row.env_steps_per_s / MELTINGPOT_FPS
    return record


def report(rows: list[Measurement]) -> list[dict]:
    """Print one table per world; return the rows as JSON records with their ratios."""
    peer = next(r for r in rows if r.api == "mpe2 parallel_env")
    records = [record_of(row, peer) for row in rows]
    ratios = {
        "spread": [("ratio_vs_mpe2", "x mpe2"), ("ratio_vs_mpe2_cpu", "x mpe2 (CPU)")],
        "commons": [("ratio_vs_meltingpot", "x Melting Pot")],
    }
    for env in dict.fromkeys(r["env"] for r in records):
        columns = ratios.get(env, [])
        print(f"\n{env}")
        print(
            f"{'api':<19}{'B':>6}{'env-steps/s':>14}{'agent-steps/s':>15}"
            + "".join(f"{title:>16}" for _, title in columns)
        )
        for r in (r for r in records if r["env"] == env):
            print(
                f"{r['api']:<19}{r['batch_size']:>6}{r['env_steps_per_s']:>14,.0f}"
                f"{r['agent_steps_per_s']:>15,.0f}"
                + "".join(f"{r[key]:>16,.1f}" for key, _ in columns)
            )
        if env == "commons":
            print(
                f"{'reference':<19}{'':>6}{MELTINGPOT_FPS:>14,.0f}{'':>15}{1.0:>16.1f}"
                "   Melting Pot Commons Harvest, ~55 frames/s on a laptop (reported)"
            )
    return records


def git_sha() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, best kept")
    args = parser.parse_args()

    rows = measurements()
    time_rounds(rows, args.seconds, args.rounds)
    records = report(rows)
    spread = {(r["api"], r["batch_size"]): r for r in records if r["env"] == "spread"}
    targets = {
        "pettingzoo_b1_vs_mpe2": {"ratio": spread["pettingzoo", 1]["ratio_vs_mpe2"], "min": 1.0},
        "core_b1024_vs_mpe2": {"ratio": spread["core", 1024]["ratio_vs_mpe2"], "min": 100.0},
    }
    print()
    for name, target in targets.items():
        target["met"] = target["ratio"] >= target["min"]
        verdict = "met" if target["met"] else "NOT met"
        print(f"target {name}: {target['ratio']:.1f}x (>= {target['min']:g}x) {verdict}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "git_sha": git_sha(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "seconds_per_measurement": args.seconds,
        "rounds": args.rounds,
        "peers": {
            "spread": "mpe2.simple_spread_v3.parallel_env(N=3), measured in this run",
            "commons": {"name": "meltingpot commons_harvest", "frames_per_s": MELTINGPOT_FPS},
        },
        "targets": targets,
        "results": records,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
