"""Config of the diffusion experiment (`kind: diffusion`): what is trained and what is measured.

```
pixel     class-conditional DDPM (U-Net) on the digits, with label dropout (p_uncond) so
          one network samples conditionally, unconditionally and with guidance
latent    latent diffusion on the digits (a VAE, then a diffusion model on its codes)
toys      the 2-D MLP DDPM on each of `toys.datasets`
train     the shared training settings (device, amp, batch, ...); each part's `train`
          overrides keys of it (its steps, learning rate, ...)
eval      the sample set, the sampling-steps sweep, the guidance sweep, the figures
zoo_run   a gen_zoo run directory whose table gets the diffusion rows ('latest': the newest
          one under the runs directory; '' for none)
```
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from emergent.config import (
    check_keys,
    check_range,
    check_seed,
    coerce,
    from_dict,
    plain,
    run_name,
    section,
)
from emergent.errors import UserError
from generative import registry
from generative.models.diffusion import DDPMConfig, LatentDiffusionConfig
from generative.train import FitConfig

PARTS = ("pixel", "latent", "toys")
TOP_KEYS = ("name", "kind", "seed", "seeds", "zoo_run", "train", "eval", *PARTS)
PART_KEYS = {
    "pixel": ("model", "train"),
    "latent": ("model", "train"),
    "toys": ("datasets", "data", "model", "train"),
}
TOYS = ("moons", "ring8", "grid25", "swissroll", "checkerboard")


@dataclass(frozen=True)
class DiffusionEval:
    """What is measured after training."""

    samples: int = 2000
    """Samples per Fréchet distance, capped at half the real digits (898) so that model and
    floor use equal sample sizes."""
    ddpm_steps: tuple[int, ...] = (10, 20, 50, 100, 250, 1000)
    """Sampling steps S of the ancestral (DDPM) sampler in the FD-against-steps sweep."""
    ddim_steps: tuple[int, ...] = (10, 20, 50, 100, 250)
    """Sampling steps S of the DDIM sampler (eta = 0) in the sweep."""
    compare_steps: int = 50
    """The DDIM S compared with the longest DDPM chain, and at which latent and pixel
    diffusion are compared (one of `ddim_steps`)."""
    guidance: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    """Guidance weights w of the trade-off sweep (Ho & Salimans: 0 = conditional)."""
    guidance_steps: int = 50
    """DDIM steps of the guidance sweep."""
    chain_examples: int = 6
    """Rows of the forward- and reverse-chain figures."""
    chain_frames: int = 9
    """Columns (timesteps) of the chain figures."""
    per_class: int = 8
    """Samples per digit in the per-class grids."""

    def __post_init__(self) -> None:
        check_range("samples", self.samples, 10, 1_000_000, "samples per Fréchet distance")
        check_range("guidance_steps", self.guidance_steps, 1, 10_000)
        check_range("chain_frames", self.chain_frames, 2, 100, "columns of the chain figures")
        check_range("per_class", self.per_class, 1, 100, "samples per digit in the grids")
        if len(self.ddpm_steps) + len(self.ddim_steps) + len(self.guidance) > 300 or any(
            s > 10_000 for s in (*self.ddpm_steps, *self.ddim_steps)
        ):
            raise ValueError(
                "ddpm_steps, ddim_steps and guidance: at most 300 values in all, sampling steps "
                "at most 10,000"
            )
        if any(not -1 <= w <= 100 for w in self.guidance):
            raise ValueError(f"guidance={list(self.guidance)}; each weight from -1 to 100")
        if not self.ddpm_steps or not self.ddim_steps:
            raise ValueError("ddpm_steps and ddim_steps need at least one value each")
        if any(s < 1 for s in (*self.ddpm_steps, *self.ddim_steps, self.guidance_steps)):
            raise ValueError("sampling steps must be at least 1")
        if self.compare_steps not in self.ddim_steps:
            raise ValueError(
                f"compare_steps={self.compare_steps}; must be one of ddim_steps="
                f"{list(self.ddim_steps)}"
            )
        if not self.guidance or any(w < -1 for w in self.guidance):
            raise ValueError(f"guidance={list(self.guidance)}; need values >= -1")
        if not 1 <= self.chain_examples <= 10:
            raise ValueError(f"chain_examples={self.chain_examples}; one row per digit, 1..10")
        if self.chain_frames < 2 or self.per_class < 1:
            raise ValueError(
                f"chain_frames={self.chain_frames}, per_class={self.per_class}; "
                "need at least 2 frames and 1 sample per class"
            )


@dataclass(frozen=True)
class Part:
    """One model of the experiment: its options and its training budget."""

    model: Any
    train: FitConfig


@dataclass(frozen=True)
class DiffusionExperiment:
    """Pixel and latent diffusion on the digits, the MLP DDPM on the toys, over seeds."""

    name: str
    pixel: Part
    latent: Part
    toys: Part
    toy_datasets: tuple[str, ...] = ("ring8", "grid25", "moons")
    toy_data: dict = field(default_factory=dict)
    """Options of the toy loaders (e.g. n_test, the test points of the bound)."""
    train: FitConfig = field(default_factory=FitConfig)
    """The shared settings the parts' budgets were merged over."""
    eval: DiffusionEval = field(default_factory=DiffusionEval)
    seeds: int = 2
    seed: int = 0
    zoo_run: str = ""
    kind: str = "diffusion"


def parse(raw: dict) -> DiffusionExperiment:
    """Validate a raw `kind: diffusion` config; every mistake is a one-line `UserError`."""
    check_keys(raw, TOP_KEYS, "")
    shared = section(raw.get("train", {}), "train")
    base = from_dict(FitConfig, shared, "train")
    parts = {}
    for part in PARTS:
        spec = section(raw.get(part, {}), part)
        check_keys(spec, PART_KEYS[part], part)
        own = section(spec.get("train", {}), f"{part}.train")
        check_keys(own, [f.name for f in dataclasses.fields(FitConfig)], f"{part}.train")
        budget = from_dict(FitConfig, {**shared, **own}, f"{part}.train")
        options_cls = LatentDiffusionConfig if part == "latent" else DDPMConfig
        path = f"{part}.model"
        options = from_dict(options_cls, section(spec.get("model", {}), path), path)
        parts[part] = Part(options, budget)
    toys = section(raw.get("toys", {}), "toys")
    datasets = coerce(
        toys.get("datasets", ["ring8", "grid25", "moons"]), tuple[str, ...], "toys.datasets"
    )
    for name in datasets:
        if name not in TOYS:
            raise UserError(f"toys.datasets: {name!r} is not a 2-D toy; allowed: {', '.join(TOYS)}")
    pixel = parts["pixel"].model
    if not pixel.class_conditional or pixel.p_uncond <= 0:
        raise UserError(
            "pixel.model: class_conditional must be true and p_uncond > 0 (one network serves "
            "conditional, unconditional and guided sampling)"
        )
    if parts["toys"].model.class_conditional:
        raise UserError("toys.model.class_conditional: the toys have no labels; use false")
    evaluation = from_dict(DiffusionEval, section(raw.get("eval", {}), "eval"), "eval")
    for key in ("ddpm_steps", "ddim_steps"):
        if max(getattr(evaluation, key)) > pixel.timesteps:
            raise UserError(
                f"eval.{key}={list(getattr(evaluation, key))}; each must be at most "
                f"pixel.model.timesteps={pixel.timesteps}"
            )
    seeds = coerce(raw.get("seeds", 2), int, "seeds")
    if not 1 <= seeds <= 1_000:
        raise UserError(f"config: seeds={seeds}; must be from 1 to 1,000")
    toy_data = dict(section(toys.get("data", {}), "toys.data"))
    for name in datasets:
        try:
            registry.load_data(name, seed=0, **{**toy_data, "n_train": 4, "n_val": 4, "n_test": 4})
        except (TypeError, ValueError) as err:
            raise UserError(f"toys.data: {name}: {err}") from None
    return DiffusionExperiment(
        name=run_name(raw),
        seed=check_seed(raw.get("seed", 0)),
        seeds=seeds,
        zoo_run=coerce(raw.get("zoo_run", ""), str, "zoo_run"),
        pixel=parts["pixel"],
        latent=parts["latent"],
        toys=parts["toys"],
        toy_datasets=datasets,
        toy_data=toy_data,
        train=base,
        eval=evaluation,
    )


def to_dict(cfg: DiffusionExperiment) -> dict:
    """The resolved config (what config.yaml holds); `parse(to_dict(cfg)) == cfg`."""
    parts = {}
    for part in PARTS:
        spec: Part = getattr(cfg, part)
        parts[part] = {
            **(
                {"datasets": list(cfg.toy_datasets), "data": plain(cfg.toy_data)}
                if part == "toys"
                else {}
            ),
            "model": plain(dataclasses.asdict(spec.model)),
            "train": plain(dataclasses.asdict(spec.train)),
        }
    return {
        "name": cfg.name,
        "kind": cfg.kind,
        "seed": cfg.seed,
        "seeds": cfg.seeds,
        "zoo_run": cfg.zoo_run,
        "train": plain(dataclasses.asdict(cfg.train)),
        **parts,
        "eval": plain(dataclasses.asdict(cfg.eval)),
    }
