"""A world-model experiment end to end: record experience, fit the model stage by stage, save
it, measure it on held-out experience, report.

```
data/segments.npz        the recorded experience (recorded once, reused on resume)
fit/<stage>/             each stage's fit: checkpoints/fit.pt (resumed after a kill), metrics.jsonl
world_model.pt           the trained model (`agents.world_models.save`): what a dream loads
fit_ddpm/, world_model_ddpm.pt   with eval.ddpm_baseline: the same network trained with DDPM's
                         objective (the samplers' comparison)
episodes/*.gif           held-out streams, real and imagined side by side
result.json              the measurements: written last, so the run is finished exactly then
```
A dream trained elsewhere points at this directory (`env: {name: dream, world_model: RUN}`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import agents.world_models as world_models
from agents.world_models.base import Segments
from agents.world_models.evaluate import reward_scores
from emergent import cells, rundir
from emergent.kinds.world_model import dreaming, measure
from emergent.kinds.world_model.config import WorldModelExperiment
from emergent.kinds.world_model.dream_report import read as read_dream
from emergent.kinds.world_model.fitting import fit_stages, new_model, real_world, record
from emergent.kinds.world_model.report import build, read_result
from emergent.logger import numeric
from emergent.modelfit import check_device
from emergent.sweep.trial import Trial

SEGMENTS = Path("data") / "segments.npz"
MODEL = "world_model.pt"
DDPM_MODEL = "world_model_ddpm.pt"


def preflight(cfg: WorldModelExperiment) -> None:
    check_device(cfg.device)


def trials(cfg: WorldModelExperiment, run_dir: Path) -> list[Trial]:
    """The world model measured on its own, or with a `dream` section the dream pipeline's
    trials (`dreaming.trials`)."""
    if cfg.dream is not None:
        return dreaming.trials(cfg, run_dir)
    return [
        cells.result_trial(
            "world_model",
            run_dir,
            f"[{cfg.name}] {cfg.family} world model of {cfg.world}",
            lambda quiet: train_and_measure(cfg, run_dir, quiet),
        )
    ]


def train_and_measure(cfg: WorldModelExperiment, run_dir: Path, quiet: bool) -> dict:
    """Record, fit every stage (each resuming its checkpoint), save the model, measure."""
    with cells.cpu_threads(cfg.threads), cells.subnormals_flushed():
        segments, _ = record(cfg, run_dir / SEGMENTS, cfg.seed, cfg.data.steps)
        agents_per_copy = real_world(cfg, 1, cfg.seed).num_agents
        train, held_out = segments.split(cfg.data.val_fraction, cfg.seed, agents_per_copy)
        model = new_model(cfg, segments.view_shape, cfg.seed)
        seconds = fit_stages(cfg, model, train, run_dir / "fit", cfg.seed, quiet)
        world = {"name": cfg.world, "options": dataclasses.asdict(cfg.env)}
        world_models.save(run_dir / MODEL, model, cfg.family, world)
        baseline = None
        if cfg.eval.ddpm_baseline:
            ddpm = ddpm_trained(cfg)
            baseline = new_model(ddpm, segments.view_shape, cfg.seed)
            fitted = fit_stages(ddpm, baseline, train, run_dir / "fit_ddpm", cfg.seed, quiet,
                                "DDPM-trained · ")  # fmt: skip
            seconds.update({f"ddpm_{stage}": s for stage, s in fitted.items()})
            world_models.save(run_dir / DDPM_MODEL, baseline, cfg.family, world)
        return measure_model(cfg, run_dir, model, held_out, seconds, len(train), baseline)


def ddpm_trained(cfg: WorldModelExperiment) -> WorldModelExperiment:
    """The same experiment with the diffusion network trained by DDPM's objective."""
    model = dataclasses.replace(cfg.model, objective="ddpm", sampler="ddpm")
    return dataclasses.replace(cfg, model=model)


def measure_model(
    cfg: WorldModelExperiment,
    run_dir: Path,
    model,
    held_out: Segments,
    seconds: dict,
    train_segments: int,
    baseline=None,
) -> dict:
    ev = cfg.eval
    held = held_out.subset(slice(0, ev.segments))
    found = measure.errors(model, held, ev.horizon, ev.temperatures, cfg.seed)
    result = {
        "world": cfg.world,
        "family": cfg.family,
        "horizon": ev.horizon,
        "train_segments": train_segments,
        "held_out_segments": len(held),
        "recorded_agent_steps": (train_segments + len(held_out)) * cfg.data.length,
        "fit_seconds": seconds,
        "errors": found,
        **reward_scores(model, held, cfg.seed),
    }
    model_errors = found["model"][f"{ev.temperatures[0]:g}"]
    copy = found["copy_last"]
    result["one_step_error"] = model_errors[0]
    result["one_step_reduction"] = 1 - model_errors[0] / copy[0]
    result["last_step_ratio"] = model_errors[-1] / copy[-1]
    result["shuffled_over_real"] = float(sum(found["shuffled"]) / sum(model_errors))
    if cfg.family == "diffusion":
        result["samplers"] = measure.sampler_errors(
            model, held, ev.horizon, ev.samplers, ev.sampler_steps, cfg.seed
        )
        if baseline is not None:
            result["samplers"] |= measure.sampler_errors(
                baseline, held, ev.horizon, ("ddpm",), ev.sampler_steps, cfg.seed, "ddpm_trained"
            )
    result["throughput"] = measure.throughput(
        model, held_out, cfg.world, cfg.env, ev.throughput_envs, cfg.seed
    )
    result["gifs"] = measure.side_by_side(
        model, held, ev.gifs, ev.horizon, cfg.seed, run_dir / "episodes"
    )
    return result


def finish(cfg: WorldModelExperiment, run_dir: Path, quiet: bool) -> None:
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """The world model's measurements, or a dream run's real returns per seed."""
    result = read_result(run_dir / cells.RESULT)
    if result is not None:
        return numeric(result)
    found = {}
    for path in sorted((run_dir / "dream").glob(f"seed*/{cells.RESULT}")):
        seed = read_dream(path)
        if seed is not None:
            found[f"{path.parent.name}/real_return"] = float(seed["real_return"])
    if found:
        found["real_return"] = float(sum(found.values()) / len(found))
    return found
