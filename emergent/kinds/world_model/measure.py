"""What a world-model run measures on held-out experience: open-loop errors against copying the
last frame and against shuffled actions, reward prediction, the diffusion samplers' errors
against their steps, the dream's throughput against the real core, and the real and imagined
episodes side by side."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

import envs
from agents.world_models.base import Segments, WorldModel, to_uint8, to_unit
from agents.world_models.dream import DreamEnv
from agents.world_models.evaluate import (
    copy_last_errors,
    open_loop,
)
from envs.render import save_gif

GIF_SCALE = 8
"""Pixels per view cell in the report's GIFs."""
THROUGHPUT_STEPS = 20
"""Batched steps timed for each side of the throughput comparison (after one untimed step)."""


def errors(
    model: WorldModel, held_out: Segments, horizon: int, temperatures: tuple[float, ...], seed: int
) -> dict:
    """Open-loop errors for k = 1..K: the model at each temperature, the model fed shuffled
    actions (at the first temperature), and copying the last real frame."""
    out: dict = {
        "copy_last": copy_last_errors(held_out, horizon, model.context).tolist(),
        "model": {},
    }
    for tau in temperatures:
        out["model"][f"{tau:g}"] = open_loop(model, held_out, horizon, seed, tau)["mse"].tolist()
    shuffled = open_loop(model, held_out, horizon, seed, temperatures[0], shuffled=True)
    out["shuffled"] = shuffled["mse"].tolist()
    return out


def sampler_errors(
    model: WorldModel,
    held_out: Segments,
    horizon: int,
    samplers: tuple[str, ...],
    steps: tuple[int, ...],
    seed: int,
    label: str | None = None,
) -> dict:
    """Diffusion: open-loop errors (k = 1..K) of each sampler at each number of denoising
    steps, on the same trained network: {"<label or sampler>-<steps>": {"mse": (K,),
    "off_palette": (K,)}} (`evaluate.open_loop`)."""
    out: dict = {}
    for sampler in samplers:
        for n in steps:
            found = open_loop(Sampling(model, sampler, n), held_out, horizon, seed)
            out[f"{label or sampler}-{n}"] = {k: v.tolist() for k, v in found.items()}
    return out


class Sampling:
    """A diffusion world model imagining with another sampler and number of steps (the same
    trained network)."""

    def __init__(self, model: WorldModel, sampler: str, steps: int) -> None:
        self.model, self.sampler, self.steps = model, sampler, steps
        self.context = model.context

    def start(self, views, actions):
        return self.model.start(views, actions)

    def imagine(self, state, actions, gen, temperature=1.0):
        return self.model.imagine(
            state, actions, gen, temperature, sampler=self.sampler, steps=self.steps
        )


def throughput(
    model: WorldModel, held_out: Segments, world: str, options: object, batch_size: int, seed: int
) -> dict[str, float]:
    """Agent-steps per second of the dream and of the real world's batched core at the same B,
    under uniform random actions, timed in this process one after the other."""
    real = envs.make(world, batch_size=batch_size, seed=seed, **dataclasses.asdict(options))
    dream = DreamEnv(model, held_out, real.num_agents, batch_size, THROUGHPUT_STEPS + 1, seed=seed)
    rng = np.random.default_rng(seed)
    rates = {}
    for label, env in (("real", real), ("dream", dream)):
        env.reset(seed=seed)
        n = env.action_space.n
        actions = [
            rng.integers(0, n, (batch_size, env.num_agents)) for _ in range(THROUGHPUT_STEPS + 1)
        ]
        began = 0.0
        for i, a in enumerate(actions):
            if i == 1:  # the first step is not timed (allocations, caches)
                began = time.perf_counter()
            res = env.step(a)
            if (res.terminated | res.truncated).all():
                env.reset()
        seconds = time.perf_counter() - began
        rates[f"{label}_agent_steps_per_s"] = (
            THROUGHPUT_STEPS * batch_size * env.num_agents / seconds
        )
    rates["dream_over_real_per_s"] = (
        rates["dream_agent_steps_per_s"] / rates["real_agent_steps_per_s"]
    )
    rates["batch_size"] = batch_size
    return rates


@torch.no_grad()
def side_by_side(
    model: WorldModel, held_out: Segments, count: int, horizon: int, seed: int, folder: Path
) -> list[str]:
    """GIFs of `count` held-out streams: the real views (left) and the views the model imagines
    from the same context with the same actions (right), `horizon` steps; file names."""
    k = model.context
    gen = torch.Generator().manual_seed(seed)
    picks = np.random.default_rng([seed, 5]).choice(
        len(held_out), min(count, len(held_out)), replace=False
    )
    names = []
    for i, index in enumerate(sorted(picks)):
        part = held_out.subset(slice(int(index), int(index) + 1))
        state = model.start(to_unit(part.views[:, :k]), torch.from_numpy(part.actions[:, : k - 1]))
        imagined = [part.views[0, k - 1]]
        for j in range(horizon):
            a = torch.from_numpy(part.actions[:, k - 1 + j])
            state, out = model.imagine(state, a, gen)
            imagined.append(to_uint8(out.views)[0])
        real = part.views[0, k - 1 : k + horizon]
        frames = [pair(r, m) for r, m in zip(real, imagined, strict=True)]
        name = f"real_vs_imagined_{i}.gif"
        save_gif(frames, folder / name, fps=4)
        names.append(name)
    return names


def pair(real: np.ndarray, imagined: np.ndarray) -> np.ndarray:
    """One frame: the real view and the imagined one, scaled up, a grey bar between."""
    gap = np.full((real.shape[0], 1, 3), 128, np.uint8)
    frame = np.concatenate([real[..., :3], gap, imagined[..., :3]], axis=1)
    return frame.repeat(GIF_SCALE, 0).repeat(GIF_SCALE, 1)
