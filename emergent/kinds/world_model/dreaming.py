"""Policies trained in the dream and played in the real world (World Models sec. 4.4; DIAMOND).

```
dream/seed<s>/                 one trial per seed
  data/round<r>.npz            experience: round 0 uniform random play, later rounds the policy
  round<r>/fit/<stage>/        the model refitted on everything recorded (resumed after a kill)
  round<r>/world_model.pt      the round's model
  round<r>/trainer.pt          the learner after its training in that round's dream
  round<r>/round.json          the round's numbers (written last: the round is done)
  result.json
real/seed<s>/                  the same learner trained in the real world (the reference)
  curve.jsonl, trainer.pt, result.json
temperature/tau=<t>/           a fresh learner trained in the first seed's last dream at tau
  result.json
```
Seconds count recording, fitting and training, not evaluation, so the reference's curve can be
read at the dream pipeline's wall time as well as at its real agent-steps.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import agents
import agents.world_models as world_models
from agents.world_models.base import Segments
from agents.world_models.dream import DreamEnv
from emergent import cells, rundir
from emergent.errors import UserError
from emergent.kinds.world_model.config import WorldModelExperiment
from emergent.kinds.world_model.fitting import (
    fit_stages,
    new_model,
    policy_actions,
    real_world,
    record,
)
from emergent.kinds.world_model.measure import pair
from emergent.rollout import random_policy, run_episodes
from emergent.sweep.trial import Trial
from envs.render import save_gif
from generative.checkpoint import CheckpointError
from generative.train import resolve_device

EVAL_SEED_OFFSET = 7919
"""Real evaluations are seeded apart from training and recording."""


class Progress:
    """`TrainHooks` of a learner here: a progress bar, and `on_eval(agent_steps)` at the first
    update at or after each of `points` (when the learner's state is consistent)."""

    def __init__(
        self,
        total: int,
        desc: str,
        quiet: bool,
        start: int = 0,
        points: list[int] | None = None,
        on_eval: Callable[[int], None] | None = None,
    ) -> None:
        self.points, self.on_eval, self.last = sorted(points or []), on_eval, start
        self.bar = tqdm(total=total, initial=start, desc=desc, unit="step", unit_scale=True,
                        disable=quiet, file=sys.stderr, dynamic_ncols=True)  # fmt: skip

    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        self.bar.update(agent_steps - self.last)
        self.last = agent_steps
        return True

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        if self.points and agent_steps >= self.points[0] and self.on_eval is not None:
            while self.points and agent_steps >= self.points[0]:
                self.points.pop(0)
            self.on_eval(agent_steps)

    def close(self) -> None:
        self.bar.close()


def real_return(cfg: WorldModelExperiment, act: Callable, seed: int) -> float:
    """Mean episode return per agent over `dream.eval_envs` real copies, one episode each."""
    env = real_world(cfg, cfg.dream.eval_envs, seed + EVAL_SEED_OFFSET)
    return float(run_episodes(env, act, seed + EVAL_SEED_OFFSET).returns.mean())


def random_return(cfg: WorldModelExperiment, seed: int) -> float:
    env = real_world(cfg, 1, seed)
    return real_return(cfg, random_policy(env.action_space, np.random.default_rng([seed, 1])), seed)


def make_trainer(cfg: WorldModelExperiment, seed: int) -> agents.Trainer:
    options = dataclasses.asdict(cfg.dream.agent_options)
    return agents.make(cfg.dream.agent, seed=seed, device=cfg.device, **options)


def restore(trainer: agents.Trainer, path: Path) -> None:
    try:
        trainer.load_checkpoint(path)
    except (CheckpointError, ValueError) as err:
        raise UserError(f"{path}: {err}; delete it to train that round again") from None


def load_weights(model: torch.nn.Module, path: Path) -> None:
    try:
        model.load_state_dict(world_models.load(path).model.state_dict())
    except CheckpointError as err:
        raise UserError(f"{err}; delete it to fit that round again") from None


# -- the dream pipeline ------------------------------------------------------------------------


def dream_cell(run_dir: Path, seed: int) -> Path:
    return run_dir / "dream" / f"seed{seed}"


def train_in_dream(cfg: WorldModelExperiment, run_dir: Path, seed: int, quiet: bool) -> dict:
    """The iterative pipeline of one seed: record -> fit -> train in the dream, `rounds` times,
    each later round recording with the current policy; each round's policy played for real."""
    d = cfg.dream
    cell = dream_cell(run_dir, seed)
    agents_per_copy = real_world(cfg, 1, seed).num_agents
    first, seconds = record(cfg, cell / "data" / "round0.npz", seed, cfg.data.steps)
    parts = [first]
    model = new_model(cfg, first.view_shape, seed)
    rounds: list[dict] = []
    for r in range(d.rounds):
        folder, before = cell / f"round{r}", cell / f"round{r - 1}"
        done = folder / "round.json"
        train, _ = Segments.concatenate(parts).split(cfg.data.val_fraction, seed, agents_per_copy)
        if not done.is_file():
            began = time.perf_counter()
            if r > 0:  # the last round's model, whatever this process did before
                load_weights(model, before / "world_model.pt")
            fit_stages(cfg, model, train, folder / "fit", seed + 1000 * r, quiet, f"round {r} · ")
            world_models.save(folder / "world_model.pt", model, cfg.family, world_of(cfg))
            steps = train_policy(cfg, model, train, seed + 1000 * r, folder,
                                 before / "trainer.pt" if r > 0 else None, (r + 1) * d.steps,
                                 f"dream {r}", quiet)  # fmt: skip
            seconds += time.perf_counter() - began
            policy = load_policy(cfg, folder)
            row = {
                "round": r,
                "real_agent_steps": sum(len(p) * p.length for p in parts),
                "dream_agent_steps": steps,
                "seconds": seconds,
                "real_return": real_return(cfg, policy_actions(policy, seed), seed),
                "dream_return": dream_return(cfg, model, train, policy, d.temperature, seed),
            }
            rundir.write_text_atomic(done, json.dumps(row, indent=1))
        rounds.append(json.loads(done.read_text(encoding="utf-8")))
        seconds = rounds[-1]["seconds"]
        if r + 1 < d.rounds:
            act = policy_actions(load_policy(cfg, folder), seed + r + 1)
            part, spent = record(cfg, cell / "data" / f"round{r + 1}.npz", seed + r + 1,
                                 d.round_steps, act)  # fmt: skip
            parts.append(part)
            seconds += spent
    if seed == d.seeds[0]:
        load_weights(model, cell / f"round{d.rounds - 1}" / "world_model.pt")
        policy = load_policy(cfg, cell / f"round{d.rounds - 1}")
        policy_gif(cfg, model, policy, seed, run_dir / "episodes")
    last = rounds[-1]
    return {
        "seed": seed,
        "rounds": rounds,
        "real_agent_steps": last["real_agent_steps"],
        "dream_agent_steps": last["dream_agent_steps"],
        "seconds": last["seconds"],
        "real_return": last["real_return"],
        "dream_return": last["dream_return"],
        "random_return": random_return(cfg, seed),
    }


GIF_STEPS = 48
"""Steps of the report's real-against-dreamed episode."""


def policy_gif(cfg: WorldModelExperiment, model, policy, seed: int, folder: Path) -> Path:
    """The policy played from one real moment in the real world and in its dream, the first
    agent's view of each side by side: what it sees there and what it imagines."""
    real = real_world(cfg, 1, seed + EVAL_SEED_OFFSET)
    obs = real.reset(seed=seed + EVAL_SEED_OFFSET)  # (1, A, H, W, C)
    A = real.num_agents
    start = Segments(obs[0][:, None], np.zeros((A, 0), np.int64), np.zeros((A, 0), np.float32),
                     np.zeros((A, 0), bool))  # fmt: skip
    steps = min(GIF_STEPS, cfg.dream.max_steps, real.max_steps)
    dream = DreamEnv(model, start, A, 1, steps, cfg.dream.temperature, seed=seed)
    dreamed = dream.reset()
    act_real = policy_actions(policy, seed)
    act_dream = policy_actions(policy, seed + 1)
    frames = [pair(obs[0, 0], dreamed[0, 0])]
    for _ in range(steps):
        obs = real.step(act_real(obs[0]).reshape(1, A)).obs
        dreamed = dream.step(act_dream(dreamed[0]).reshape(1, A)).obs
        frames.append(pair(obs[0, 0], dreamed[0, 0]))
    return save_gif(frames, folder / f"dream_policy_seed{seed}.gif", fps=6)


def train_policy(
    cfg: WorldModelExperiment,
    model,
    starts: Segments,
    seed: int,
    folder: Path,
    previous: Path | None,
    steps: int,
    label: str,
    quiet: bool,
    temperature: float | None = None,
) -> int:
    """Train the learner (continuing from `previous`'s checkpoint) in the model's dream until
    `steps` agent-steps in all, at `temperature` (default the config's); save its checkpoint and
    policy in `folder`; its agent-steps."""
    d = cfg.dream
    agents_per_copy = real_world(cfg, 1, seed).num_agents
    trainer = make_trainer(cfg, seed)
    try:
        if previous is not None:
            restore(trainer, previous)
        tau = d.temperature if temperature is None else temperature
        dream = DreamEnv(model, starts, agents_per_copy, d.num_envs, d.max_steps, tau, seed=seed)
        hooks = Progress(steps, f"{cfg.name} · {label}", quiet, start=trainer.agent_steps)
        try:
            trainer.train(dream, steps, hooks)
        finally:
            hooks.close()
        trainer.save_checkpoint(folder / "trainer.pt")
        trainer.policy.save(folder / "policy.pt")
        return trainer.agent_steps
    finally:
        trainer.close()


def load_policy(cfg: WorldModelExperiment, folder: Path) -> agents.Policy:
    path = folder / "policy.pt"
    try:
        return agents.load_policy(cfg.dream.agent, path, str(resolve_device(cfg.device)))
    except (CheckpointError, ValueError, OSError) as err:
        raise UserError(f"{path}: {err}; delete {folder} to run that round again") from None


def world_of(cfg: WorldModelExperiment) -> dict:
    return {"name": cfg.world, "options": dataclasses.asdict(cfg.env)}


def dream_return(
    cfg: WorldModelExperiment, model, starts: Segments, policy, temperature: float, seed: int
) -> float:
    """Mean return per agent of one dreamed episode (dream.max_steps) in each of eval_envs
    dreams at `temperature`, scaled to the real episode's length (per-step rate x max_steps)
    so that it compares with the real return."""
    d = cfg.dream
    world = real_world(cfg, 1, seed)
    dream = DreamEnv(model, starts, world.num_agents, d.eval_envs, d.max_steps, temperature,
                     seed=seed + EVAL_SEED_OFFSET)  # fmt: skip
    log = run_episodes(dream, policy_actions(policy, seed + EVAL_SEED_OFFSET), seed)
    return float(log.rewards.mean() * world.max_steps)


# -- the reference: the same learner in the real world -------------------------------------------


def real_cell(run_dir: Path, seed: int) -> Path:
    return run_dir / "real" / f"seed{seed}"


def budget_points(cfg: WorldModelExperiment) -> list[int]:
    """Evaluation points of the reference: evenly spaced, plus the dream's real budget."""
    d = cfg.dream
    even = [round(d.real_steps * (i + 1) / d.real_evals) for i in range(d.real_evals)]
    dream_budget = cfg.data.steps + (d.rounds - 1) * d.round_steps
    return sorted({*even, *([dream_budget] if dream_budget < d.real_steps else [])})


def train_in_real(cfg: WorldModelExperiment, run_dir: Path, seed: int, quiet: bool) -> dict:
    """The learner trained `dream.real_steps` in the real world, evaluated along the way; a
    checkpoint at every evaluation, so a kill loses one stretch."""
    d = cfg.dream
    cell = real_cell(run_dir, seed)
    cell.mkdir(parents=True, exist_ok=True)
    curve_path, checkpoint = cell / "curve.jsonl", cell / "trainer.pt"
    trainer = make_trainer(cfg, seed)
    curve: list[dict] = []
    if checkpoint.is_file():
        restore(trainer, checkpoint)
        rows = [json.loads(line) for line in curve_path.read_text().splitlines() if line]
        curve = [r for r in rows if r["agent_steps"] <= trainer.agent_steps]
    env = real_world(cfg, d.num_envs, seed)
    clock = {"began": time.perf_counter(), "before": curve[-1]["seconds"] if curve else 0.0}

    def evaluate(step: int) -> None:
        seconds = clock["before"] + time.perf_counter() - clock["began"]
        played = real_return(cfg, policy_actions(trainer.policy, seed), seed)
        curve.append({"agent_steps": step, "seconds": seconds, "real_return": played})
        trainer.save_checkpoint(checkpoint)
        rundir.write_text_atomic(curve_path, "".join(json.dumps(r) + "\n" for r in curve))
        clock["began"], clock["before"] = time.perf_counter(), seconds

    points = [p for p in budget_points(cfg) if p > trainer.agent_steps]
    hooks = Progress(
        d.real_steps, f"{cfg.name} · real", quiet, trainer.agent_steps, points, evaluate
    )
    try:
        trainer.train(env, d.real_steps, hooks)
        if not curve or curve[-1]["agent_steps"] < trainer.agent_steps:
            evaluate(trainer.agent_steps)
    finally:
        hooks.close()
        trainer.close()
    return {"seed": seed, "curve": curve, "random_return": random_return(cfg, seed)}


# -- the temperature table ----------------------------------------------------------------------


def train_at_temperature(cfg: WorldModelExperiment, run_dir: Path, tau: float, quiet: bool) -> dict:
    """A fresh learner trained `dream.steps` in the first seed's last model dreaming at tau;
    its return in that dream and in the real world (World Models' table 2)."""
    d = cfg.dream
    seed = d.seeds[0]
    cell = dream_cell(run_dir, seed)
    path = cell / f"round{d.rounds - 1}" / "world_model.pt"
    if not path.is_file():
        raise UserError(f"{path} is missing: the temperature table needs dream/seed{seed} first")
    model = world_models.load(path, resolve_device(cfg.device)).model
    parts = [Segments.load(p) for p in sorted((cell / "data").glob("round*.npz"))]
    agents_per_copy = real_world(cfg, 1, seed).num_agents
    train, _ = Segments.concatenate(parts).split(cfg.data.val_fraction, seed, agents_per_copy)
    folder = run_dir / "temperature" / f"tau={tau:g}"
    train_policy(cfg, model, train, seed, folder, None, d.steps, f"tau {tau:g}", quiet, tau)
    policy = load_policy(cfg, folder)
    return {
        "temperature": tau,
        "dream_return": dream_return(cfg, model, train, policy, tau, seed),
        "real_return": real_return(cfg, policy_actions(policy, seed), seed),
    }


def trials(cfg: WorldModelExperiment, run_dir: Path) -> list[Trial]:
    """One dream and one reference trial per seed, then one per temperature of the table."""
    d = cfg.dream
    out = []
    for seed in d.seeds:
        out.append(
            trial(
                cfg,
                f"dream/seed{seed}",
                dream_cell(run_dir, seed),
                f"dream, seed {seed}",
                lambda q, s=seed: train_in_dream(cfg, run_dir, s, q),
            )
        )
        if d.real_steps:
            out.append(
                trial(
                    cfg,
                    f"real/seed{seed}",
                    real_cell(run_dir, seed),
                    f"real-world reference, seed {seed}",
                    lambda q, s=seed: train_in_real(cfg, run_dir, s, q),
                )
            )
    for tau in d.temperatures:
        out.append(
            trial(
                cfg,
                f"temperature/tau={tau:g}",
                run_dir / "temperature" / f"tau={tau:g}",
                f"dream at tau = {tau:g}",
                lambda q, t=tau: train_at_temperature(cfg, run_dir, t, q),
                needs=(f"dream/seed{d.seeds[0]}",),  # its model
            )
        )
    return out


def trial(
    cfg: WorldModelExperiment,
    name: str,
    cell: Path,
    what: str,
    work: Callable[[bool], dict],
    needs: tuple[str, ...] = (),
) -> Trial:
    """A result trial running `work(quiet)` with the configured CPU threads."""

    def run(quiet: bool) -> dict:
        with cells.cpu_threads(cfg.threads), cells.subnormals_flushed():
            return work(quiet)

    return cells.result_trial(name, cell, f"[{cfg.name}] {what}", run, needs)
