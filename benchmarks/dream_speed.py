"""Imagination against reality: agent-steps per second of a world model's dream
(`agents.world_models.dream.DreamEnv`) and of the real world's batched core, at the same B.

Run `python -m benchmarks.dream_speed [--quick] [--threads N] [--seconds S] [--rounds R]`.
Prints a Markdown table (world, family, B, real and dream agent-steps/s, dream / real) and saves
the numbers with the git SHA to benchmarks/results/dream_speed.json (`--quick`:
dream_speed_quick.json, so a smoke run keeps the full numbers).

Worlds: Commons Harvest and Wolfpack with their default settings. Families: `vae_rnn` (World
Models' VAE + MDN-RNN) and `diffusion` (DIAMOND's denoiser) with their default settings, the
latter at its 3 Euler steps per imagined view and at 1; B = 16, 64, 256 copies (`--quick`: 16).
The models are untrained (`agents.world_models.make`, eval mode): a step costs the same
whatever the weights. The dreams start from segments that `agents.world_models.data.collect`
records under random play.

Timing: both sides take uniform random actions (cycled from 64 pre-drawn tables) in this
process, on CPU with `--threads` torch threads (default 1; on a shared 2-core machine more
threads mostly measure the contention). After one untimed warm-up step, each measurement steps
for about S seconds of step time; a reset, when every copy's episode has ended, is not timed
(an untrained model's end head says when a dream ends, so its episodes say nothing). The R
rounds time every measurement in turn (for each world and B: the real core, then each dream),
so load from other processes hits all alike, and the best round of each is kept, as timeit
does. When CUDA is available the dreams are timed on it as well (the real core has no GPU
side).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import agents.world_models as world_models
import envs
from agents.world_models.data import collect
from agents.world_models.dream import DreamEnv
from benchmarks.env_speed import git_sha
from envs.core import BatchedEnv

RESULTS = Path(__file__).parent / "results"
WORLDS = ("commons", "wolfpack")
FAMILIES: dict[str, tuple[str, dict[str, Any]]] = {
    "vae_rnn": ("vae_rnn", {}),
    "diffusion, 3 steps": ("diffusion", {"steps": 3}),
    "diffusion, 1 step": ("diffusion", {"steps": 1}),
}
"""Table label -> (family, settings over its defaults)."""
BATCH_SIZES = (16, 64, 256)
QUICK_BATCH_SIZES = (16,)
START_LENGTH = 8
"""T of the recorded start segments (at least the diffusion model's context of 4 views)."""
START_COPIES = 4
"""Real copies recorded for the start segments."""
DREAM_MAX_STEPS = 1_000
"""Dreamed steps per episode (as Commons' max_steps); the untrained dreams end sooner."""


class Stepper:
    """Steps one batched world with pre-drawn uniform random actions, timing the steps only.

    Args:
        env: a world (real or dreamed) with a Discrete action space.
        seed: seeds its reset and the actions.
    """

    def __init__(self, env: BatchedEnv, seed: int) -> None:
        self.env = env
        self.agent_steps = env.batch_size * env.num_agents  # per step
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        shape = (64, env.batch_size, env.num_agents)
        self.actions = rng.integers(0, env.action_space.n, size=shape)  # (64, B, A)
        self.calls = 0
        self.step()  # warm-up: allocations, caches, kernels

    def step(self) -> float:
        """One step of every copy (then a reset if all ended); the step's seconds."""
        began = time.perf_counter()
        result = self.env.step(self.actions[self.calls % 64])
        seconds = time.perf_counter() - began
        self.calls += 1
        if (result.terminated | result.truncated).all():
            self.env.reset()
        return seconds

    def rate(self, seconds: float) -> float:
        """Agent-steps per second over about `seconds` of step time (at least one step)."""
        spent, steps = 0.0, 0
        while steps == 0 or spent < seconds:
            spent += self.step()
            steps += 1
        return steps * self.agent_steps / spent


@dataclass
class Measurement:
    """One timed world: which, where, and the best rate seen over the rounds."""

    world: str
    label: str
    """'real', or the dream's family label (`FAMILIES`)."""
    device: str
    batch_size: int
    stepper: Stepper
    agent_steps_per_s: float = 0.0


def dream_models(world: str, device: str) -> dict[str, torch.nn.Module]:
    """Every family's untrained model of `world`, in eval mode on `device`."""
    real = envs.make(world)
    view_shape, num_actions = real.observation_space.shape, int(real.action_space.n)
    models = {}
    for label, (family, settings) in FAMILIES.items():
        torch.manual_seed(0)
        model = world_models.make(family, view_shape, num_actions, START_LENGTH, **settings)
        models[label] = model.eval().to(device)
    return models


def measurements(batch_sizes: tuple[int, ...], devices: list[str]) -> list[Measurement]:
    """Every measurement in timing order (per world and B: the real core, then the dreams),
    its stepper built and warmed up here, timed later."""
    rows = []
    for world in WORLDS:
        recorder = envs.make(world, batch_size=START_COPIES, seed=0)
        starts = collect(recorder, 1, START_LENGTH, seed=0)  # one segment per agent stream
        models = {device: dream_models(world, device) for device in devices}
        for b in batch_sizes:
            real = envs.make(world, batch_size=b, seed=0)
            rows.append(Measurement(world, "real", "cpu", b, Stepper(real, seed=0)))
            for device in devices:
                for label, model in models[device].items():
                    dream = DreamEnv(model, starts, real.num_agents, b, DREAM_MAX_STEPS, seed=0)
                    rows.append(Measurement(world, label, device, b, Stepper(dream, seed=0)))
    return rows


def time_rounds(rows: list[Measurement], seconds: float, rounds: int) -> None:
    """Time every row for about `seconds`, `rounds` times in turn; keep each row's best rate."""
    for _ in range(rounds):
        for row in rows:
            row.agent_steps_per_s = max(row.agent_steps_per_s, row.stepper.rate(seconds))


def records(rows: list[Measurement]) -> list[dict]:
    """One record per (world, family, B): the real core's rate, the dream's, their ratio."""
    real = {(r.world, r.batch_size): r.agent_steps_per_s for r in rows if r.label == "real"}
    out: dict[tuple[str, str, int], dict] = {}
    for row in rows:
        if row.label == "real":
            continue
        family, settings = FAMILIES[row.label]
        key = (row.world, row.label, row.batch_size)
        record = out.setdefault(
            key,
            {
                "world": row.world,
                "family": row.label,
                "model": {"family": family, **settings},
                "batch_size": row.batch_size,
                "A": row.stepper.env.num_agents,
                "real_agent_steps_per_s": real[row.world, row.batch_size],
            },
        )
        prefix = "dream" if row.device == "cpu" else f"dream_{row.device}"
        record[f"{prefix}_agent_steps_per_s"] = row.agent_steps_per_s
        record[f"{prefix}_over_real"] = row.agent_steps_per_s / record["real_agent_steps_per_s"]
    return list(out.values())


def table(found: list[dict], devices: list[str]) -> str:
    """The Markdown table of the records (CUDA columns when the dreams ran on CUDA)."""
    extra = [d for d in devices if d != "cpu"]
    head = "| world | family | B | real agent-steps/s | dream agent-steps/s | dream/real |"
    head += "".join(f" dream {d.upper()} agent-steps/s | {d.upper()} dream/real |" for d in extra)
    lines = [head, "|---|---|---|---|---|---|" + "---|---|" * len(extra)]
    for r in found:
        line = (
            f"| {r['world']} | {r['family']} | {r['batch_size']} | "
            f"{r['real_agent_steps_per_s']:,.0f} | {r['dream_agent_steps_per_s']:,.0f} | "
            f"{r['dream_over_real']:.3g} |"
        )
        for d in extra:
            rate, ratio = r[f"dream_{d}_agent_steps_per_s"], r[f"dream_{d}_over_real"]
            line += f" {rate:,.0f} | {ratio:.3g} |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B = 16, one short round")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--seconds", type=float, default=None, help="step time per measurement")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds, best kept")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else (0.2 if args.quick else 1.0)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    batch_sizes = QUICK_BATCH_SIZES if args.quick else BATCH_SIZES
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    began = time.perf_counter()
    rows = measurements(batch_sizes, devices)
    time_rounds(rows, seconds, rounds)
    found = records(rows)
    print(table(found, devices))
    cuda = torch.cuda.get_device_name() if "cuda" in devices else None
    print(
        f"\n{os.cpu_count()} CPU cores, {args.threads} torch thread(s), torch {torch.__version__}"
        + (f", CUDA: {cuda}" if cuda else ", no CUDA")
        + f"; {time.perf_counter() - began:.0f} s"
    )

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("dream_speed_quick.json" if args.quick else "dream_speed.json")
    record = {
        "git_sha": git_sha(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "cuda": cuda},
        "torch": torch.__version__,
        "torch_threads": args.threads,
        "seconds_per_measurement": seconds,
        "rounds": rounds,
        "results": found,
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
