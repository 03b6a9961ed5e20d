"""What the world-model run and the dream pipeline share: the real world, recording experience
in it (once, then read back), a new model of the configured family, and fitting its stages."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

import agents.world_models as world_models
import envs
from agents.world_models.base import Segments
from agents.world_models.data import ActFn, collect
from emergent.errors import UserError
from emergent.kinds.world_model.config import WorldModelExperiment
from emergent.modelfit import checkpoint_step, fit_in_cell, fit_logger
from generative.train import resolve_device


def real_world(cfg: WorldModelExperiment, batch_size: int, seed: int) -> envs.BatchedEnv:
    return envs.make(cfg.world, batch_size=batch_size, seed=seed, **dataclasses.asdict(cfg.env))


def record(
    cfg: WorldModelExperiment, path: Path, seed: int, steps: int, act: ActFn | None = None
) -> tuple[Segments, float]:
    """(experience, seconds spent recording it): recorded at `path` on first use (uniform
    random play, or `act`), read back afterwards (0 seconds then)."""
    if path.is_file():
        try:
            return Segments.load(path), 0.0
        except (OSError, ValueError, KeyError) as err:
            raise UserError(f"{path}: damaged ({err}); delete it to record again") from None
    began = time.perf_counter()
    world = real_world(cfg, cfg.data.num_envs, seed)
    segments = collect(world, steps, cfg.data.length, seed, act)
    seconds = time.perf_counter() - began
    path.parent.mkdir(parents=True, exist_ok=True)
    segments.save(path)
    return segments, seconds


def new_model(cfg: WorldModelExperiment, view_shape: tuple[int, ...], seed: int) -> torch.nn.Module:
    """An untrained model of the configured family, on the configured device."""
    torch.manual_seed(seed)
    num_actions = int(real_world(cfg, 1, seed).action_space.n)
    model = world_models.make(
        cfg.family, tuple(view_shape), num_actions, cfg.data.length, **dataclasses.asdict(cfg.model)
    )
    return model.to(resolve_device(cfg.device))


def fit_stages(
    cfg: WorldModelExperiment,
    model: torch.nn.Module,
    train: Segments,
    folder: Path,
    seed: int,
    quiet: bool,
    label: str = "",
) -> dict[str, float]:
    """Fit every stage of `model` on `train`, each in `folder/<stage>/` (resumed from its
    checkpoint there); the seconds each took. The model continues from its current weights."""
    seconds = {}
    for i, stage in enumerate(model.stages(train)):
        cell = folder / stage.name
        cell.mkdir(parents=True, exist_ok=True)
        budget = dataclasses.replace(cfg.train[stage.name], seed=seed + i, device=cfg.device)
        logger = fit_logger(cell, checkpoint_step(cell))
        try:
            fitted = fit_in_cell(
                stage.module,
                stage.data(),
                budget,
                cell,
                where=f"train.{stage.name}",
                quiet=quiet,
                on_log=logger.log,
                description=f"{cfg.name} · {label}{stage.name}",
            )
        finally:
            logger.close()
        seconds[stage.name] = fitted.seconds
    model.eval()
    return seconds


def policy_actions(policy, seed: int) -> ActFn:
    """A policy's sampled actions for observations (N, *obs_shape), drawn from one generator."""
    rng = np.random.default_rng([seed, 29])
    return lambda obs: policy.act(obs, rng)
