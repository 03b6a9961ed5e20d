"""One run, end to end: world + learner + evaluation + checkpoints + logs + report.

```
envs.make -> agents.make(...).train(env, steps, hooks)
  hooks: progress bar; every eval_every agent-steps evaluation episodes -> social metrics
         -> metrics.jsonl / TensorBoard; every checkpoint_every a checkpoint (atomic)
-> final evaluation (with frames); for a world with a channel, the same policy again with the
   channel cut and scrambled (`channel_ablations`) -> policy.pt -> report
```
A run in a dream (`env.name: dream`) trains in the world model's dream and evaluates (random
play, periodic and final evaluations, channel ablations) in the real world it models
(`ExperimentConfig.world`), with that world's analysis.
Worlds that say how to intervene on messages (`WorldAnalysis.intervene`) also get the causal
influence of communication of the learned listeners in every learned evaluation row ("cic").
A run with a `grid` trains once per grid value in `points/<key>=<value>/` and reports the
metrics against the value. SIGINT stops cleanly with a checkpoint; after SIGKILL the last
periodic checkpoint remains; `--resume RUN_DIR` continues from it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

import agents
import envs
from agents.ppo_policy import resolve_device
from agents.world_models.dream import open_dream
from emergent import rundir, worlds
from emergent.errors import Interrupted, UserError
from emergent.kinds.rl import report as report_mod
from emergent.kinds.rl.config import EnvSpec, ExperimentConfig, grid_points, to_dict
from emergent.logger import MetricsLogger, numeric, read_rows
from emergent.metrics import roles
from emergent.rollout import EpisodeLog, random_policy, run_episodes
from emergent.sweep import grid
from emergent.sweep.trial import OnResult, Trial
from emergent.worlds.base import CHANNEL_ABLATIONS, channel_label
from emergent.worlds.interventions import ListenerRecorder, causal_influence
from generative.checkpoint import CheckpointError
from generative.train import NonFiniteLoss

EVAL_SEED_OFFSET = 7919  # evaluation worlds are seeded apart from the training worlds


def make_env(spec: EnvSpec, batch_size: int, seed: int) -> envs.BatchedEnv:
    """B = `batch_size` copies of the registered world `spec`."""
    options = dataclasses.asdict(spec.options)
    try:
        return envs.make(spec.name, batch_size=batch_size, seed=seed, **options)
    except (KeyError, ValueError) as err:
        raise UserError(f"env: {err.args[0] if err.args else err}") from None


def make_training_env(cfg: ExperimentConfig, batch_size: int, seed: int) -> envs.BatchedEnv:
    """The world the learner trains in: `cfg.env`, or the dream of its world model (on
    train.device)."""
    if not cfg.dreamed:
        return make_env(cfg.env, batch_size, seed)
    try:
        return open_dream(cfg.env.options, batch_size, seed, resolve_device(cfg.train.device))
    except (ValueError, CheckpointError) as err:
        raise UserError(f"env: {err.args[0] if err.args else err}") from None


def channel_ablations(cfg: ExperimentConfig) -> tuple[str, ...]:
    """Channel modes the final evaluation also plays: `CHANNEL_ABLATIONS` for a world whose
    config has a `channel` setting and was trained with it "open"; none otherwise, and none
    for a world whose talk is optional (a `talk_vocab` setting) played without it (0). For a
    dream, those of the real world it models."""
    world = cfg.world
    options = world.options
    names = {f.name for f in dataclasses.fields(envs.WORLDS[world.name].config)}
    if "channel" not in names or options.channel != "open":
        return ()
    if "talk_vocab" in names and options.talk_vocab == 0:
        return ()
    return CHANNEL_ABLATIONS


def preflight(cfg: ExperimentConfig) -> None:
    if cfg.train.device == "cuda" and not torch.cuda.is_available():
        raise UserError("train.device=cuda, but no CUDA device is visible; use 'auto' or 'cpu'")


def make_trainer(cfg: ExperimentConfig) -> agents.Trainer:
    preflight(cfg)
    options = dataclasses.asdict(cfg.agent.options)
    return agents.make(cfg.agent.kind, seed=cfg.seed, device=cfg.train.device, **options)


def trials(cfg: ExperimentConfig, run_dir: Path) -> list[Trial]:
    """One trial for a single run; one per grid value in `points/<key>=<value>/` for a grid."""
    if not cfg.grid:
        return [
            Trial(
                "run",
                lambda: rundir.read_state(run_dir).get("status") == "done",
                lambda quiet, on_result: train_run(
                    cfg,
                    run_dir,
                    resume=started(run_dir),
                    quiet=quiet,
                    on_eval=learned_only(on_result),
                ),
            )
        ]
    return [
        point_trial(cfg.name, grid.name(values), point_cfg, run_dir / "points")
        for values, point_cfg in grid_points(cfg)
    ]


def started(run_dir: Path) -> bool:
    """Whether a run has begun: it resumes from its last checkpoint (an error if it has none)."""
    return bool(rundir.checkpoints(run_dir)) or (run_dir / "metrics.jsonl").exists()


def point_trial(name: str, point: str, cfg: ExperimentConfig, folder: Path) -> Trial:
    """A grid point: resumed from its checkpoint, or started afresh in a cleared directory."""
    path = folder / point

    def run(quiet: bool, on_result: OnResult | None) -> None:
        if not quiet:
            print(f"[{name}] grid point {point}", file=sys.stderr)
        resume = bool(rundir.checkpoints(path))
        if not resume:
            rundir.clear(path)
            rundir.write_config(path, to_dict(cfg))
        train_run(cfg, path, resume=resume, quiet=quiet, on_eval=learned_only(on_result))

    return Trial(point, lambda: rundir.read_state(path).get("status") == "done", run)


def learned_only(on_result: OnResult | None) -> OnResult | None:
    """Pass on the learned policy's evaluation rows only (random play is a baseline)."""
    if on_result is None:
        return None
    return lambda row: on_result(row) if row.get("policy") == "learned" else None


def finish(cfg: ExperimentConfig, run_dir: Path, quiet: bool) -> None:
    if cfg.grid:
        rundir.write_state(run_dir, status="done")
    report_mod.build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """The final learned evaluation's numbers (return, the world's metrics, event counts)."""
    learned, _ = worlds.final_rows(read_rows(run_dir / "metrics.jsonl"))
    return numeric(learned)


def train_run(
    cfg: ExperimentConfig,
    run_dir: Path,
    resume: bool,
    quiet: bool = False,
    on_eval: OnResult | None = None,
) -> Path:
    """Train one config in `run_dir` (new, or resumed from its last checkpoint).

    `on_eval` receives every evaluation row as it is logged (a sweep reports it to Ray Tune).
    """
    torch.manual_seed(cfg.seed)
    env = make_training_env(cfg, cfg.train.num_envs, cfg.seed)
    eval_env = make_env(cfg.world, cfg.train.eval_envs, cfg.seed + EVAL_SEED_OFFSET)
    trainer = make_trainer(cfg)
    try:
        start_step = 0
        if resume:
            start_step = restore(trainer, run_dir, env)
        logger = MetricsLogger(run_dir, resume_step=start_step if resume else None)
        hooks = RunHooks(cfg, run_dir, trainer, eval_env, logger, start_step, quiet, on_eval)
        rundir.write_state(run_dir, status="running", agent_steps=start_step)
        if not resume:
            rng = np.random.default_rng([cfg.seed, 1])
            log = run_episodes(eval_env, random_policy(eval_env.action_space, rng), hooks.eval_seed)
            hooks.log_eval(0, "random", log)

        in_main = (
            threading.current_thread() is threading.main_thread()
        )  # signals need the main thread
        previous = signal.signal(signal.SIGINT, hooks.request_stop) if in_main else None
        try:
            trainer.train(env, cfg.train.steps, hooks)
        except NonFiniteLoss as err:  # the last checkpoint, written before it, is kept
            raise UserError(str(err)) from None
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
            hooks.close_bar()
        step = trainer.agent_steps
        hooks.save_checkpoint(step)
        if hooks.stop_requested:
            rundir.write_state(run_dir, status="interrupted", agent_steps=step)
            logger.close()
            raise Interrupted(run_dir)

        final = hooks.evaluate(step, record_frames=True)
        hooks.evaluate_channels(step)
        final.save(run_dir / "episodes" / "final.npz")
        save_frames(final.frames, run_dir / "episodes")
        trainer.policy.save(run_dir / "checkpoints" / "policy.pt")
        logger.close()
        rundir.write_state(run_dir, status="done", agent_steps=step)
        return run_dir
    finally:
        trainer.close()  # releases what a trainer holds (RLlib's Ray actors)


def restore(trainer: agents.Trainer, run_dir: Path, env: envs.BatchedEnv) -> int:
    """Load the newest checkpoint, checked against this run's world and options first."""
    state = rundir.read_state(run_dir)
    if state.get("status") == "done":
        raise UserError(f"run {str(run_dir)!r} already finished; start a new run instead")
    found = rundir.checkpoints(run_dir)
    if not found:
        raise UserError(
            f"no checkpoint in {str(run_dir / 'checkpoints')!r} to resume from; start a new run"
        )
    path = found[-1][1]
    try:
        return trainer.load_checkpoint(path, env)
    except CheckpointError as err:
        raise UserError(f"{err}; delete it to resume from an earlier checkpoint") from None
    except ValueError as err:
        raise UserError(str(err)) from None


def save_frames(frames: list[np.ndarray], folder: Path) -> None:
    """The final episode as an animated GIF (copy 0)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(f) for f in frames[:: max(1, len(frames) // 300)]]
    if images:
        images[0].save(
            folder / "final.gif", save_all=True, append_images=images[1:], duration=80, loop=0
        )
    np.savez_compressed(
        folder / "final_frames.npz", frames=np.stack(frames[:: max(1, len(frames) // 12)])
    )


class RunHooks:
    """Progress bar, periodic evaluation and checkpoints, SIGINT: the run's side of training."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        run_dir: Path,
        trainer: agents.Trainer,
        eval_env: envs.BatchedEnv,
        logger: MetricsLogger,
        start_step: int,
        quiet: bool,
        on_eval: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.cfg, self.run_dir, self.trainer = cfg, run_dir, trainer
        self.world = cfg.world  # the real world evaluated (not the dream trained in)
        self.analysis = worlds.analysis(self.world.name)
        self.eval_env, self.logger, self.on_eval = eval_env, logger, on_eval
        self.eval_seed = cfg.seed + EVAL_SEED_OFFSET
        every = cfg.train
        self.next_eval = (start_step // every.eval_every + 1) * every.eval_every
        self.next_checkpoint = (start_step // every.checkpoint_every + 1) * every.checkpoint_every
        self.stop_requested = False
        self.cic_refused = False
        self.last_eval_step: int | None = None
        self.mean_return: float | None = None
        self.last_step = start_step
        self.clock = (time.perf_counter(), start_step)
        self.bar = tqdm(
            total=cfg.train.steps,
            initial=start_step,
            unit="step",
            unit_scale=True,
            desc=cfg.name,
            dynamic_ncols=True,
            disable=quiet,
            file=sys.stderr,
        )

    def request_stop(self, signum: int, frame: Any) -> None:
        if self.stop_requested:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.stop_requested = True
        # A second Ctrl-C waits until the message is written: raised inside tqdm's lock, it
        # would leave the lock half taken and end in a traceback.
        with sigint_deferred():
            self.bar.write("stopping: saving a checkpoint (Ctrl-C again to abort)")

    def on_step(self, agent_steps: int, mean_return: float | None) -> bool:
        self.bar.update(agent_steps - self.last_step)
        self.last_step = agent_steps
        if mean_return is not None and mean_return != self.mean_return:
            self.mean_return = mean_return
            self.bar.set_postfix_str(f"mean return {mean_return:.1f}", refresh=False)
        return not self.stop_requested

    def on_update(self, agent_steps: int, stats: dict[str, float]) -> None:
        now = time.perf_counter()
        rate = (agent_steps - self.clock[1]) / max(now - self.clock[0], 1e-9)
        self.clock = (now, agent_steps)
        row = {"step": agent_steps, "kind": "train", "steps_per_s": rate}
        if self.mean_return is not None:
            row["mean_return"] = self.mean_return
        row.update(
            {k.removeprefix("train/"): v for k, v in stats.items() if k.startswith("train/")}
        )
        self.logger.log(row)
        # Evaluate before checkpointing: a run killed between the two resumes from the
        # checkpoint with this step's evaluation row already written.
        if agent_steps >= self.next_eval:
            self.evaluate(agent_steps)
            self.next_eval = (
                agent_steps // self.cfg.train.eval_every + 1
            ) * self.cfg.train.eval_every
            self.clock = (time.perf_counter(), agent_steps)  # evaluation time is not training speed
        if agent_steps >= self.next_checkpoint:
            self.save_checkpoint(agent_steps)
            self.next_checkpoint = (
                agent_steps // self.cfg.train.checkpoint_every + 1
            ) * self.cfg.train.checkpoint_every

    def evaluate(self, agent_steps: int, record_frames: bool = False) -> EpisodeLog:
        new = agent_steps != self.last_eval_step  # the final evaluation may repeat the last one
        log, measured = self.play(
            self.eval_env, self.world.options, agent_steps, record_frames, measure=new
        )
        if new:
            self.log_eval(agent_steps, "learned", log, measured)
        self.last_eval_step = agent_steps
        return log

    def evaluate_channels(self, agent_steps: int) -> None:
        """The same learned policy with the channel cut and scrambled (`channel_ablations`),
        on the evaluation seeds, logged as `channel_label(mode)` rows; CIC on the scrambled
        channel too."""
        for mode in channel_ablations(self.cfg):
            options = dataclasses.replace(self.world.options, channel=mode)
            world = dataclasses.replace(self.world, options=options)
            env = make_env(world, self.cfg.train.eval_envs, self.eval_seed)
            log, measured = self.play(env, options, agent_steps, measure=mode == "scrambled")
            self.log_eval(agent_steps, channel_label(mode), log, measured)

    def play(
        self,
        env: envs.BatchedEnv,
        options: Any,
        agent_steps: int,
        record_frames: bool = False,
        measure: bool = True,
    ) -> tuple[EpisodeLog, dict[str, float]]:
        """Evaluation episodes of the learned policy on `env` (world settings `options`), and,
        if `measure` and the world says how to intervene on messages, the causal influence of
        communication of its listeners ("cic", bits; `emergent.worlds.interventions`)."""
        policy = self.trainer.policy
        rng = np.random.default_rng([self.cfg.seed, agent_steps, 2])

        def act(obs: np.ndarray) -> np.ndarray:
            return policy.act(obs, rng)

        intervention = self.analysis.intervene
        recorder = None
        if measure and intervention is not None:
            recorder = ListenerRecorder(act, intervention, options, env.num_agents)
        sample = ObservationSample(act if recorder is None else recorder)
        log = run_episodes(env, sample, self.eval_seed, record_frames)
        measured = {}
        if measure:
            snd = neural_diversity(policy, sample.observations(), env.num_agents)
            measured = {"snd": snd} if snd is not None else {}
        if recorder is None:
            return log, measured
        try:
            cic = causal_influence(
                policy.action_probabilities,
                recorder.steps,
                recorder.intervention,
                options,
                np.random.default_rng([self.cfg.seed, agent_steps, 3]),
            )
        except ValueError as err:  # Box actions or a recurrent policy: no distribution to read
            if not self.cic_refused:
                self.bar.write(f"no causal influence of communication: {err}")
            self.cic_refused = True
            return log, measured
        return log, {**measured, "cic": cic}

    def log_eval(
        self,
        agent_steps: int,
        policy: str,
        log: EpisodeLog,
        measured: dict[str, float] | None = None,
    ) -> None:
        folder = self.run_dir / "episodes"
        folder.mkdir(parents=True, exist_ok=True)
        log.save(folder / f"eval_{policy}_{agent_steps:012d}.npz")
        row: dict[str, Any] = {"step": agent_steps, "kind": "eval", "policy": policy}
        row["return"] = float(log.returns.mean())
        row["return_std"] = float(log.returns.mean(axis=1).std())
        row.update(self.analysis.summarize(log.rewards, log.events))
        row.update(measured or {})
        names = tuple(self.analysis.per_agent.values())
        if len(names) >= 2 and all(n in log.events for n in names):  # who does what
            found = roles.roles_from_episodes(log.events, names)
            row.update(roles=float(found.k), roles_p=found.p_value)
        counted = self.analysis.counted_events
        for name, counts in log.events.items():
            if counted is None or name in counted:
                row[f"{name}_per_agent"] = float(counts.sum(axis=1).mean())
        self.logger.log(row)
        if self.on_eval is not None:
            self.on_eval(row)
        if policy == "learned":
            self.bar.write(
                f"[eval @ {agent_steps:,} steps] return {row['return']:.1f}"
                + "".join(f", {k} {row[k]:.2f}" for k in self.analysis.metrics[:3] if k in row)
            )

    def save_checkpoint(self, agent_steps: int) -> None:
        self.trainer.save_checkpoint(rundir.checkpoint_path(self.run_dir, agent_steps))
        rundir.prune_checkpoints(self.run_dir, self.cfg.train.keep_checkpoints)
        rundir.write_state(self.run_dir, status="running", agent_steps=agent_steps)

    def close_bar(self) -> None:
        self.bar.close()


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """SIGINT held back by the OS inside the block and delivered when it ends (POSIX)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


SND_OBSERVATIONS = 256
"""Observations an evaluation keeps for System Neural Diversity (every 16th step's)."""


class ObservationSample:
    """An act function that also keeps some of the observations it is shown: rows of every
    16th step, up to `SND_OBSERVATIONS`."""

    def __init__(self, act: Callable[[np.ndarray], np.ndarray], every: int = 16) -> None:
        self.act, self.every, self.t, self.rows = act, every, 0, []

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        kept = sum(len(r) for r in self.rows)
        if self.t % self.every == 0 and kept < SND_OBSERVATIONS:
            self.rows.append(np.array(obs[: SND_OBSERVATIONS - kept], copy=True))
        self.t += 1
        return self.act(obs)

    def observations(self) -> np.ndarray | None:
        return np.concatenate(self.rows) if self.rows else None


def neural_diversity(policy: Any, observations: np.ndarray | None, agents: int) -> float | None:
    """System Neural Diversity (Bettini et al. 2023, `metrics.roles.snd_categorical`) of the
    agents' policies on the same observations: each observation is shown to every agent; 0 for
    identical policies (a shared network), None where the policy gives no distribution (Box
    actions, a recurrent policy) or there are fewer than two agents."""
    if observations is None or agents < 2:
        return None
    n = len(observations)
    shown = np.repeat(observations[:, None], agents, axis=1).reshape(
        n * agents, *observations.shape[1:]
    )
    try:
        p = policy.action_probabilities(shown)
    except ValueError:
        return None
    return float(roles.snd_categorical(p.reshape(n, agents, -1).transpose(1, 0, 2)))
