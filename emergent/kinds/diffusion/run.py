"""The diffusion experiment end to end: train, measure, keep what the report needs.

One cell per (dataset, model, seed) under `cells/`, as in the zoo, with the zoo's cell and
claim machinery (`gen_runner.cell_dir`, `gen_runner.claim`, `gen_runner.train_and_evaluate`):
a resumed run skips finished cells, resumes a cell's training from its checkpoint, and skips
each finished measurement of a cell (one JSON file per phase), so an interrupted run loses at
most the phase in progress. Each cell's `result.json` holds the zoo's metrics (the same
`generative.evaluate` protocol, so its row can join the zoo's table) plus its own:

```
digits / ddpm              FD and seconds against sampling steps for DDPM and DDIM, the
                           guidance sweep (FD and the classifier's accuracy on the requested
                           digit), the forward and reverse chains, per-class samples
digits / latent_diffusion  FD at the compared DDIM steps
<toy> / ddpm               modes, high-quality share and KL (in the zoo's metrics)
speed/seed<s>/             both digits models timed side by side (`diffusion_speed`)
```

FDs are measured on m = min(eval.samples, N / 2) samples against one random half of the real
digits (the split of `generative.evaluate`, so the floor is the same), with balanced labels
(k mod 10) and the same noise seed at every setting, timed on the model's device (CUDA with
autocast in bf16 or fp16 when `train.amp` asks for it).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from emergent import diffusion_speed, rundir
from emergent.diffusion_config import DiffusionExperiment, Part
from emergent.diffusion_speed import ready, speed_dir
from emergent.gen_runner import (
    cell_dir,
    check_device,
    claim,
    load_data,
    train_and_evaluate,
)
from generative import registry
from generative.base import GenerativeModel
from generative.checkpoint import load_safe
from generative.data import Dataset
from generative.evaluate import real_pool
from generative.metrics import features, frechet
from generative.models.diffusion import DDPM
from generative.models.diffusion.guidance import guided
from generative.models.diffusion.process import normal_noise
from generative.models.diffusion.samplers import sample_loop
from generative.models.diffusion.schedules import timestep_sequence
from generative.train import FORMAT, FitConfig, autocast, resolve_amp, resolve_device

Cell = tuple[str, str, str]
"""(dataset, label, part): the part's model trained on the dataset."""


def cells(cfg: DiffusionExperiment) -> list[Cell]:
    """The cells of one seed, in the order they are computed; "speed" times the two digits
    models side by side once both are trained (`diffusion_speed`)."""
    return [
        ("digits", "ddpm", "pixel"),
        ("digits", "latent_diffusion", "latent"),
        ("digits", "speed", "speed"),
        *((toy, "ddpm", "toys") for toy in cfg.toy_datasets),
    ]


def cell_path(run_dir: Path, seed: int, cell: Cell) -> Path:
    dataset, label, part = cell
    return speed_dir(run_dir, seed) if part == "speed" else cell_dir(run_dir, dataset, label, seed)


def run(cfg: DiffusionExperiment, run_dir: Path, quiet: bool = False) -> Path:
    """Every cell for every seed (finished ones kept), then the report."""
    from emergent import diffusion_report

    for part in (cfg.pixel, cfg.latent, cfg.toys):
        check_device(part.train.device)
    seeds = range(cfg.seed, cfg.seed + cfg.seeds)
    for seed in seeds:
        for dataset, label, part in cells(cfg):
            cell = cell_path(run_dir, seed, (dataset, label, part))
            if (cell / "result.json").is_file():
                continue
            if part == "speed" and not ready(run_dir, seed):
                continue  # another process is training one of the two models
            cell.mkdir(parents=True, exist_ok=True)
            if not claim(cell / "claim.json"):
                continue  # another live process is computing it
            if not quiet:
                print(f"[{cfg.name}] {dataset} · {label} · seed {seed}", file=sys.stderr)
            if part == "speed":
                result = diffusion_speed.measure(cfg, run_dir, seed)
            else:
                result = measure_cell(cfg, cell, dataset, label, part, seed, quiet)
            rundir.write_text_atomic(cell / "result.json", json.dumps(result))
            (cell / "claim.json").unlink(missing_ok=True)
    # Counted afresh: a process that skipped a cell held elsewhere may now be the last one.
    unfinished = sum(
        not (cell_path(run_dir, seed, cell) / "result.json").is_file()
        for seed in seeds
        for cell in cells(cfg)
    )
    if unfinished:
        if not quiet:
            print(
                f"[{cfg.name}] {unfinished} cell(s) are being computed by another process; "
                "the last process to finish writes the report",
                file=sys.stderr,
            )
        return run_dir
    rundir.write_state(run_dir, status="done")
    diffusion_report.build(run_dir, cfg)
    return run_dir


def budget(part: Part, seed: int) -> FitConfig:
    return FitConfig(**{**part.train.__dict__, "seed": seed})


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


def load_trained(
    cell: Path, name: str, options: Any, data: Dataset, train: FitConfig
) -> GenerativeModel:
    """The trained model (its EMA weights where the budget kept an EMA), in eval mode."""
    model = registry.make(name, data.info, options)
    state = load_safe(cell / "checkpoints" / "fit.pt", FORMAT)
    model.load_state_dict(state["ema"] or state["model"])
    return model.to(resolve_device(train.device)).eval()


class Bench:
    """Samples a trained digits model with balanced labels and measures FD, accuracy, time.

    Args:
        model: a class-conditional DDPM or latent diffusion model on the digits.
        samples: requested sample-set size (capped at half the real data).
        seed: the real-data split (as `generative.evaluate`) and the noise of every draw.
        amp: the autocast dtype of sampling, None for float32.
    """

    def __init__(
        self,
        model: GenerativeModel,
        data: Dataset,
        samples: int,
        seed: int,
        amp: torch.dtype | None,
    ) -> None:
        self.model, self.info, self.seed, self.amp = model, data.info, seed, amp
        real = real_pool(data)
        order = np.random.default_rng(seed).permutation(len(real))
        half = len(real) // 2
        self.m = min(samples, half)
        self.real_a = features.embed(real[order[: self.m]], data.info)
        real_b = features.embed(real[order[half : half + self.m]], data.info)
        self.floor = frechet.frechet_distance(real_b, self.real_a)
        self.labels = torch.arange(self.m) % (data.info.num_classes or 1)

    @torch.no_grad()
    def draw(self, **options: Any) -> tuple[Tensor, float]:
        """(m, 1, 8, 8) samples for the balanced labels, and the seconds they took."""
        device = self.model.device
        gen = torch.Generator(device=device).manual_seed(self.seed)
        if device.type == "cuda":
            torch.cuda.synchronize()
        began = time.perf_counter()
        with autocast(device, self.amp):
            x = self.model.sample(self.m, self.labels.to(device), gen=gen, **options)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return x.float().cpu(), time.perf_counter() - began

    def run(self, name: str, **options: Any) -> tuple[dict[str, Any], Tensor]:
        """FD against the real half, the classifier's accuracy on the requested labels and
        the time, and the samples themselves."""
        x, seconds = self.draw(**options)
        fd = frechet.frechet_distance(features.embed(x, self.info), self.real_a)
        accuracy = (features.predict(x, self.info.kind) == self.labels).float().mean()
        row = {
            "name": name,
            **options,
            "fd": fd,
            "fd_floor": self.floor,
            "accuracy": float(accuracy),
            "seconds": seconds,
            "per_sample_s": seconds / self.m,
            "samples": self.m,
        }
        return row, x


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
