"""The diffusion experiment end to end: train, measure, keep what the report needs.

One cell per (dataset, model, seed) under `cells/`, as in the zoo (`modelfit.cell_dir`,
`modelfit.train_and_evaluate`), each a trial: a resumed run skips finished cells, resumes a
cell's training from its checkpoint, and skips each finished measurement of a cell (one JSON
file per phase), so an interrupted run loses at most the phase in progress. Each cell's
`result.json` holds the zoo's metrics (the same `generative.evaluate` protocol, so its row can
join the zoo's table) plus its own:

```
digits / ddpm              FD and seconds against sampling steps for DDPM and DDIM, the
                           guidance sweep (FD and the classifier's accuracy on the requested
                           digit), the forward and reverse chains, per-class samples
digits / latent_diffusion  FD at the compared DDIM steps
<toy> / ddpm               modes, high-quality share and KL (in the zoo's metrics)
speed/seed<s>/             both digits models timed side by side once every cell is done
```

FDs are measured on m = min(eval.samples, N / 2) samples against one random half of the real
digits (the split of `generative.evaluate`, so the floor is the same), with balanced labels
(k mod 10) and the same noise seed at every setting, timed on the model's device (CUDA with
autocast in bf16 or fp16 when `train.amp` asks for it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from emergent import rundir
from emergent.gentables import cell_means
from emergent.kinds.diffusion import speed as diffusion_speed
from emergent.kinds.diffusion.bench import Bench, budget, load_trained
from emergent.kinds.diffusion.config import DiffusionExperiment, Part
from emergent.kinds.diffusion.report import build
from emergent.kinds.diffusion.speed import speed_dir
from emergent.modelfit import (
    cell_dir,
    check_device,
    load_data,
    train_and_evaluate,
)
from emergent.sweep.trial import OnResult, Trial
from generative.data import Dataset
from generative.models.diffusion import DDPM
from generative.models.diffusion.guidance import guided
from generative.models.diffusion.process import normal_noise
from generative.models.diffusion.samplers import sample_loop
from generative.models.diffusion.schedules import timestep_sequence
from generative.train import resolve_amp

Cell = tuple[str, str, str]
"""(dataset, label, part): the part's model trained on the dataset."""


PARTS: tuple[Cell, ...] = (("digits", "ddpm", "pixel"), ("digits", "latent_diffusion", "latent"))


def preflight(cfg: DiffusionExperiment) -> None:
    for part in (cfg.pixel, cfg.latent, cfg.toys):
        check_device(part.train.device)


def trials(cfg: DiffusionExperiment, run_dir: Path) -> list[Trial]:
    """Per seed: the pixel and latent models on the digits, then the DDPM on each toy."""
    return [
        cell_trial(cfg, run_dir, seed, cell)
        for seed in range(cfg.seed, cfg.seed + cfg.seeds)
        for cell in (*PARTS, *((toy, "ddpm", "toys") for toy in cfg.toy_datasets))
    ]


def cell_trial(cfg: DiffusionExperiment, run_dir: Path, seed: int, cell: Cell) -> Trial:
    dataset, label, part = cell
    path = cell_dir(run_dir, dataset, label, seed)

    def run(quiet: bool, on_result: OnResult | None) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if not quiet:
            print(f"[{cfg.name}] {dataset} · {label} · seed {seed}", file=sys.stderr)
        result = measure_cell(cfg, path, dataset, label, part, seed, quiet)
        rundir.write_text_atomic(path / "result.json", json.dumps(result))

    return Trial(f"{dataset}/{label}/seed{seed}", (path / "result.json").is_file, run)


def finish(cfg: DiffusionExperiment, run_dir: Path, quiet: bool) -> None:
    """Time the two digits models of each seed side by side, one at a time (after every
    trial, so that nothing else runs beside the clock), then the report."""
    for seed in range(cfg.seed, cfg.seed + cfg.seeds):
        path = speed_dir(run_dir, seed)
        if (path / "result.json").is_file():
            continue
        if not quiet:
            print(f"[{cfg.name}] digits · speed · seed {seed}", file=sys.stderr)
        path.mkdir(parents=True, exist_ok=True)
        result = diffusion_speed.measure(cfg, run_dir, seed)
        rundir.write_text_atomic(path / "result.json", json.dumps(result))
    rundir.write_state(run_dir, status="done")
    build(run_dir, cfg)


def results(run_dir: Path) -> dict[str, float]:
    """Each cell's numbers averaged over seeds (`<dataset>/<label>/<metric>`)."""
    return cell_means(run_dir)


def phase(path: Path, compute: Callable[[], Any]) -> Any:
    """The JSON result of one measurement, computed once: a resumed cell reads it back."""
    if path.is_file():
        return json.loads(path.read_text())
    value = compute()
    rundir.write_text_atomic(path, json.dumps(value))
    return value


def measure_cell(
    cfg: DiffusionExperiment,
    cell: Path,
    dataset: str,
    label: str,
    part: str,
    seed: int,
    quiet: bool,
) -> dict[str, Any]:
    spec: Part = getattr(cfg, part)
    options = cfg.toy_data if part == "toys" else None
    data = load_data(dataset, seed, options)
    train = budget(spec, seed)
    metrics = phase(
        cell / "evaluate.json",
        lambda: train_and_evaluate(
            cell, label, spec.model, data, train, cfg.eval.samples, 1, quiet, f"{dataset}/{label}"
        ),
    )
    result = {"dataset": dataset, "view": dataset, "model": label, "label": label, "seed": seed}
    result.update(metrics)
    if part == "toys":
        return result
    model = load_trained(cell, label, spec.model, data, train)
    bench = Bench(model, data, cfg.eval.samples, seed, resolve_amp(train.amp, model.device))
    if part == "latent":
        steps = cfg.eval.compare_steps
        result["compare"] = phase(
            cell / "compare.json",
            lambda: bench.run(f"ddim {steps}", sampler="ddim", steps=steps, eta=0.0)[0],
        )
        return result
    result["sweep"] = phase(cell / "sweep.json", lambda: steps_sweep(bench, cfg))
    result["guidance"] = phase(cell / "guidance.json", lambda: guidance_sweep(bench, cfg, cell))
    if not (cell / "chains.npz").is_file():
        forward, reverse, ts = chains(
            model, data, cfg.eval.chain_examples, cfg.eval.chain_frames, seed
        )
        np.savez_compressed(cell / "chains.npz", forward=forward, reverse=reverse, timesteps=ts)
    return result


def steps_sweep(bench: Bench, cfg: DiffusionExperiment) -> list[dict[str, Any]]:
    """FD and sampling time against S, ancestral (DDPM) and DDIM (eta = 0), w = 0."""
    rows = []
    for sampler, values in (("ddpm", cfg.eval.ddpm_steps), ("ddim", cfg.eval.ddim_steps)):
        for steps in sorted(values):
            rows.append(bench.run(f"{sampler} {steps}", sampler=sampler, steps=steps, eta=0.0)[0])
    return rows


def guidance_sweep(bench: Bench, cfg: DiffusionExperiment, cell: Path) -> list[dict[str, Any]]:
    """FD and accuracy on the requested digit against the guidance weight w (DDIM); the
    first `per_class` samples of each digit at every w go to `per_class.npz` for the grids."""
    rows, grids = [], {}
    classes = int(bench.labels.max()) + 1
    per = min(cfg.eval.per_class, int(torch.bincount(bench.labels).min()))
    for w in cfg.eval.guidance:
        row, x = bench.run(
            f"w = {w:g}",
            sampler="ddim",
            steps=cfg.eval.guidance_steps,
            eta=0.0,
            guidance=w,
        )
        grids[f"w={w:g}"] = np.stack(
            [x[bench.labels == c][:per, 0].numpy() for c in range(classes)]
        )  # (classes, per, 8, 8)
        rows.append(row)
    np.savez_compressed(cell / "per_class.npz", **grids)
    return rows


def chain_timesteps(alpha_bar: Tensor, frames: int) -> np.ndarray:
    """F - 1 ascending timesteps at which sqrt(alpha_bar_t), the share of x_0 left in x_t,
    falls in equal steps from 1 to ~0 (the last is T - 1): evenly spaced in what the eye
    sees, where a linear schedule leaves little of the digit after the first quarter."""
    signal = alpha_bar.double().sqrt().cpu().numpy()  # (T,), falling from ~1 to ~0
    levels = np.linspace(1.0, 0.0, frames)[1:]
    return np.unique([int(np.argmin(np.abs(signal - v))) for v in levels])


@torch.no_grad()
def chains(
    model: DDPM, data: Dataset, examples: int, frames: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The forward noising chain of real test digits and the reverse (ancestral, full T)
    chain of fresh samples, as images in [0, 1].

    The forward chain is simulated step by step, x_t = sqrt(1 - beta_t) x_{t-1} +
    sqrt(beta_t) z_t, so each row is one draw of the Markov chain (not q(x_t | x_0) at shared
    noise); the reverse chain records the sampler's x_t on its way down.

    Returns:
        forward (E, F, 8, 8): x_0 (the digits 0, 1, ... of the test split), then x_t at the
            `chain_timesteps`;
        reverse (E, F, 8, 8): x_t at the same timesteps from T - 1 down, then the sample;
        timesteps (F - 1,): the 0-based timesteps shown.
    """
    core, device = model.core, model.device
    T = core.cfg.timesteps
    ts = chain_timesteps(core.process.alpha_bar, frames)  # (F - 1,)
    keep = {int(t) for t in ts}
    gen = torch.Generator(device=device).manual_seed(seed)
    picks = [int(torch.nonzero(data.test_labels == c)[0]) for c in range(examples)]
    x = model.to_diffusion(data.test[picks].to(device))  # (E, 1, 8, 8) in [-1, 1]
    forward = [x]
    for t, beta in enumerate(core.process.betas.double().cpu().tolist()):
        x = (1 - beta) ** 0.5 * x + beta**0.5 * normal_noise(tuple(x.shape), gen, device)
        if t in keep:
            forward.append(x)
    labels = torch.arange(examples, device=device) % core.num_classes
    recorded: dict[int, Tensor] = {}
    denoise = guided(core.network, labels, 0.0, core.null)

    def recording(x_t: Tensor, t: Tensor) -> Tensor:
        if int(t[0]) in keep:
            recorded[int(t[0])] = x_t.clone()
        return denoise(x_t, t)

    x_T = normal_noise((examples, *core.shape), gen, device)
    cfg = core.cfg
    sample = sample_loop(
        recording,
        x_T,
        core.process.alpha_bar,
        timestep_sequence(T, T, cfg.spacing),
        cfg.prediction,
        "ddpm",
        0.0,
        cfg.variance,
        model.clip,
        gen,
    )
    reverse = [recorded[int(t)] for t in ts[::-1]] + [sample]

    def unit(xs: list[Tensor]) -> np.ndarray:
        return ((torch.stack(xs, 1)[:, :, 0] + 1) / 2).clamp(0, 1).float().cpu().numpy()

    return unit(forward), unit(reverse), ts
