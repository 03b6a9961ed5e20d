"""The `sweep:` section of an experiment config: which trials `emergent sweep` runs.

A sweep config is an ordinary experiment config (world, learner, budget) plus:

```yaml
sweep:
  grid:                          # every combination of these values (any env/agent/train key)
    env.regrowth_scale: [0.25, 1.0, 4.0]
  seeds: 5                       # a count (seed, seed + 1, ...) or a list such as [0, 7, 11]
  sample:                        # optional distributions, each drawn num_samples times
    agent.learning_rate: {loguniform: [1.0e-4, 1.0e-3]}
  num_samples: 1
  max_concurrent: 2              # trials at once (default: as many as the resources allow)
  resources: {cpu: 1, gpu: 0}    # what Ray reserves for each trial
  max_failures: 2                # restarts of a failed trial, each from its last checkpoint
```

Trials are grid points x samples x seeds. A *setting* is one grid point with one sample: what
the report compares; its seeds are the replicates aggregated across (IQM, bootstrap CIs).
Samples are drawn here with NumPy from the config's seed, so the same file gives the same
trials, and every trial's config is built and validated by `emergent.config` before Ray starts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from emergent import config, kinds
from emergent.errors import UserError
from emergent.sweep import grid

SECTION_KEYS = (
    "grid",
    "seeds",
    "sample",
    "num_samples",
    "max_concurrent",
    "resources",
    "max_failures",
)
DISTRIBUTIONS = ("uniform", "loguniform", "choice")
FIXED_KEYS = ("name", "kind", "seed")
"""Top-level keys a sweep cannot vary (seeds are swept by `sweep.seeds`)."""
SWEEP_FILE = "sweep.yaml"  # in a sweep directory: the resolved sweep config
MAX_TRIALS = 10_000
"""Trials of one sweep at the most (each is a run directory with its own checkpoints)."""
SAMPLE_DIGITS = 4  # sampled floats are rounded to 4 significant digits, so names are exact


@dataclass(frozen=True)
class Distribution:
    """A distribution to draw one config value from (the names of Ray Tune's search spaces)."""

    kind: str
    """'uniform' or 'loguniform' over [low, high], or 'choice' among the values."""
    values: tuple
    """(low, high) for the continuous kinds; the choices for 'choice'."""

    def draw(self, rng: np.random.Generator) -> Any:
        if self.kind == "choice":
            return self.values[int(rng.integers(len(self.values)))]
        low, high = self.values
        if self.kind == "loguniform":
            x = float(np.exp(rng.uniform(np.log(low), np.log(high))))
        else:
            x = float(rng.uniform(low, high))
        return float(f"{x:.{SAMPLE_DIGITS}g}")

    def to_dict(self) -> dict:
        return {self.kind: list(self.values)}


@dataclass(frozen=True)
class Resources:
    """What Ray reserves for each trial; a trial with gpu > 0 runs on a GPU node."""

    cpu: float = 1.0
    """CPU cores (also the trial's torch threads, at least 1)."""
    gpu: float = 0.0
    """GPUs; fractions share one (0.25: four trials per GPU)."""

    def __post_init__(self) -> None:
        if not 0 < self.cpu <= 1024:
            raise ValueError(f"cpu={self.cpu}; must be positive and at most 1024")
        if not 0 <= self.gpu <= 64:
            raise ValueError(f"gpu={self.gpu}; must be from 0 to 64")


@dataclass(frozen=True)
class SweepSection:
    """The validated `sweep:` section."""

    seeds: tuple[int, ...]
    """Seeds every setting is trained with."""
    grid: dict[str, tuple] = field(default_factory=dict)
    """Dotted key -> values; trials cover every combination."""
    sample: dict[str, Distribution] = field(default_factory=dict)
    """Dotted key -> distribution, drawn `num_samples` times (each draw is one setting)."""
    num_samples: int = 1
    max_concurrent: int | None = None
    """At most this many trials at once (None: as many as the resources allow)."""
    resources: Resources = field(default_factory=Resources)
    max_failures: int = 2
    """How often Ray Tune restarts a failed trial (it resumes from its last checkpoint)."""

    @property
    def swept_keys(self) -> tuple[str, ...]:
        return (*self.grid, *self.sample)

    def to_dict(self) -> dict:
        return {
            "grid": {k: list(v) for k, v in self.grid.items()},
            "seeds": list(self.seeds),
            "sample": {k: d.to_dict() for k, d in self.sample.items()},
            "num_samples": self.num_samples,
            "max_concurrent": self.max_concurrent,
            "resources": dataclasses.asdict(self.resources),
            "max_failures": self.max_failures,
        }


@dataclass(frozen=True)
class TrialSpec:
    """One run of the sweep: a setting and a seed."""

    name: str
    """'env.regrowth_scale=0.5,seed=3': its run directory under trials/."""
    setting: str
    """The name without the seed ('env.regrowth_scale=0.5'; 'seed' for a sweep of seeds only)."""
    values: dict[str, Any]
    """Swept key -> this trial's value (grid and sampled keys, not the seed)."""
    seed: int
    config: Any
    """The trial's validated experiment config."""


@dataclass(frozen=True)
class SweepConfig:
    """An experiment and its sweep: the base config, the section, and every trial."""

    base: dict
    """The resolved experiment config without `sweep` (YAML-ready)."""
    section: SweepSection
    trials: tuple[TrialSpec, ...]

    @property
    def name(self) -> str:
        return self.base["name"]

    @property
    def settings(self) -> list[str]:
        """Setting names in trial order, each once."""
        return list(dict.fromkeys(t.setting for t in self.trials))

    def to_dict(self) -> dict:
        """What `sweep.yaml` holds: `emergent sweep` on it gives the same trials."""
        return {**self.base, "sweep": self.section.to_dict()}


def is_sweep_file(path: str | Path) -> bool:
    """Whether a YAML file has a top-level `sweep:` section (False if unreadable)."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and "sweep" in raw


def makes_a_sweep(path: str | Path, overrides: list[str] | tuple[str, ...]) -> bool:
    """Whether `emergent sweep` runs a sweep: the file has a `sweep:` section or an override
    adds one (`emergent sweep experiments/cleanup.yaml sweep.seeds=3`)."""
    return is_sweep_file(path) or any(
        o.partition("=")[0].split(".")[0] == "sweep" for o in overrides
    )


def is_sweep_dir(path: str | Path) -> bool:
    return (Path(path) / SWEEP_FILE).is_file()


def read_dir(sweep_dir: str | Path) -> SweepConfig:
    """The sweep config of a sweep directory (its trials rebuilt, the same samples drawn)."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UserError(f"sweep directory {str(sweep_dir)!r} not found")
    if not is_sweep_dir(sweep_dir):
        raise UserError(f"{str(sweep_dir)!r} is not a sweep directory (no {SWEEP_FILE} in it)")
    return parse(config.read_mapping(sweep_dir / SWEEP_FILE, "restore the sweep's sweep.yaml"))


def trial_dir(sweep_dir: str | Path, name: str) -> Path:
    """The run directory of trial `name`."""
    return Path(sweep_dir) / "trials" / name


def load(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> SweepConfig:
    """Read a sweep config, apply `key=value` overrides (`sweep.seeds=3` too), and validate."""
    path = Path(path)
    raw = config.read_raw(path, overrides, "sweeps")
    if "sweep" not in raw:
        raise UserError(f"{path}: no `sweep:` section; run a single experiment with `emergent run`")
    return parse(raw)


def parse(raw: dict) -> SweepConfig:
    """Validate a raw sweep config (YAML already read) and build every trial's config."""
    raw = dict(raw)
    section_raw = config.section(raw.pop("sweep"), "sweep")
    if raw.get("grid"):
        raise UserError("grid: a sweep config takes its grid in sweep.grid (any number of keys)")
    raw.pop("grid", None)
    base_cfg = kinds.parse(raw)
    base = kinds.to_dict(base_cfg)
    section = parse_section(section_raw, base)
    check_resources(section.resources, base.get("train", {}).get("device", "cpu"))
    settings = math.prod(len(v) for v in section.grid.values()) * section.num_samples
    if settings * len(section.seeds) > MAX_TRIALS:
        raise UserError(
            f"sweep: {settings:,} settings × {len(section.seeds)} seeds = "
            f"{settings * len(section.seeds):,} trials; at most {MAX_TRIALS:,} (sweep fewer values)"
        )
    return SweepConfig(base=base, section=section, trials=tuple(build_trials(base, section)))


def parse_section(raw: dict, base: dict) -> SweepSection:
    """Validate the `sweep:` section against the resolved experiment config `base`."""
    config.check_keys(raw, SECTION_KEYS, "sweep")
    grid = parse_grid(flatten(config.section(raw.get("grid"), "sweep.grid")), base)
    sample = {}
    samples = flatten(config.section(raw.get("sample"), "sweep.sample"), _is_distribution)
    for key, spec in samples.items():
        check_swept_key(key, "sweep.sample", base)
        sample[key] = parse_distribution(spec, f"sweep.sample.{key}")
    both = sorted(grid.keys() & sample.keys())
    if both:
        raise UserError(f"sweep: {both[0]!r} is both in sweep.grid and sweep.sample; pick one")
    num_samples = config.coerce(raw.get("num_samples", 1), int, "sweep.num_samples")
    if not 1 <= num_samples <= MAX_TRIALS:
        raise UserError(
            f"config: sweep.num_samples={num_samples}; must be from 1 to {MAX_TRIALS:,}"
        )
    if num_samples > 1 and not sample:
        raise UserError(
            f"config: sweep.num_samples={num_samples} needs distributions in sweep.sample"
        )
    max_concurrent = raw.get("max_concurrent")
    if max_concurrent is not None:
        max_concurrent = config.coerce(max_concurrent, int, "sweep.max_concurrent")
        if not 1 <= max_concurrent <= MAX_TRIALS:
            raise UserError(
                f"config: sweep.max_concurrent={max_concurrent}; must be from 1 to {MAX_TRIALS:,}"
            )
    max_failures = config.coerce(raw.get("max_failures", 2), int, "sweep.max_failures")
    if not 0 <= max_failures <= 100:
        raise UserError(f"config: sweep.max_failures={max_failures}; must be from 0 to 100")
    return SweepSection(
        seeds=parse_seeds(raw.get("seeds", 1), base["seed"]),
        grid=grid,
        sample=sample,
        num_samples=num_samples,
        max_concurrent=max_concurrent,
        resources=config.from_dict(Resources, raw.get("resources", {}), "sweep.resources"),
        max_failures=max_failures,
    )


def flatten(
    tree: dict, is_leaf: Callable[[dict], bool] = lambda value: False, prefix: str = ""
) -> dict[str, Any]:
    """{'train': {'num_envs': [1, 2]}} -> {'train.num_envs': [1, 2]}: nested or dotted keys
    (overrides such as sweep.grid.train.num_envs=[1,2] arrive nested)."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict) and not is_leaf(value):
            flat.update(flatten(value, is_leaf, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _is_distribution(value: dict) -> bool:
    return len(value) == 1 and next(iter(value)) in DISTRIBUTIONS


def check_swept_key(key: str, where: str, base: dict) -> None:
    """A swept key names a key of the experiment's config (its value is checked per trial)."""
    top = key.split(".")[0]
    if key == "seed":
        raise UserError(f"{where}.seed: seeds are swept by sweep.seeds (a count or a list)")
    if top in FIXED_KEYS or top not in base:
        allowed = [k for k in base if k not in FIXED_KEYS]
        raise UserError(
            f"{where}.{key}: can only vary keys of the experiment's config "
            f"({', '.join(f'{k}.*' if isinstance(base[k], dict) else k for k in allowed)})"
        )


def parse_grid(raw: dict, base: dict) -> dict[str, tuple]:
    grid = {}
    for key, values in raw.items():
        check_swept_key(key, "sweep.grid", base)
        if not isinstance(values, list) or not values:
            raise UserError(f"sweep.grid.{key}: expected a non-empty list of values")
        if len({yaml.safe_dump(v) for v in values}) != len(values):
            raise UserError(f"sweep.grid.{key}: values repeat in {values}")
        grid[key] = tuple(values)
    return grid


def parse_distribution(spec: Any, where: str) -> Distribution:
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in DISTRIBUTIONS:
        raise UserError(
            f"{where}: expected one of {{uniform: [low, high]}}, {{loguniform: [low, high]}}, "
            f"{{choice: [a, b, ...]}}; got {spec!r}"
        )
    ((kind, values),) = spec.items()
    if not isinstance(values, list) or not values:
        raise UserError(f"{where}.{kind}: expected a non-empty list, got {values!r}")
    if kind == "choice":
        return Distribution(kind, tuple(values))
    if len(values) != 2:
        raise UserError(f"{where}.{kind}: expected [low, high], got {values!r}")
    low, high = (config.coerce(v, float, f"{where}.{kind}") for v in values)
    if not low < high:
        raise UserError(f"{where}.{kind}: low {low} must be below high {high}")
    if kind == "loguniform" and not low > 0:
        raise UserError(f"{where}.loguniform: low {low} must be positive")
    return Distribution(kind, (low, high))


def parse_seeds(raw: Any, base_seed: int) -> tuple[int, ...]:
    if isinstance(raw, list):
        if len(raw) > MAX_TRIALS:
            raise UserError(f"config: sweep.seeds has {len(raw)} seeds; at most {MAX_TRIALS:,}")
        seeds = tuple(config.check_seed(s, f"sweep.seeds[{i}]") for i, s in enumerate(raw))
        if not seeds or len(set(seeds)) != len(seeds):
            raise UserError(f"config: sweep.seeds={raw}; need distinct seeds, at least one")
        return seeds
    count = config.coerce(raw, int, "sweep.seeds")
    if not 1 <= count <= MAX_TRIALS:
        raise UserError(
            f"config: sweep.seeds={count}; a count from 1 to {MAX_TRIALS:,}, or a list of seeds"
        )
    if base_seed + count - 1 > config.SEED_MAX:
        raise UserError(
            f"config: seed={base_seed} with sweep.seeds={count} passes the largest seed "
            f"{config.SEED_MAX}; lower the seed or the count"
        )
    return tuple(range(base_seed, base_seed + count))


def check_resources(resources: Resources, device: str) -> None:
    """A trial sees a GPU only if Ray reserves one for it, so device and resources must agree."""
    if resources.gpu > 0 and device == "cpu":
        raise UserError(
            f"sweep.resources.gpu={resources.gpu} with train.device=cpu; "
            "set train.device to auto or cuda, or the gpu to 0"
        )
    if resources.gpu == 0 and device == "cuda":
        raise UserError(
            "train.device=cuda needs sweep.resources.gpu > 0 (Ray hides GPUs from trials "
            "that reserve none)"
        )


def build_trials(base: dict, section: SweepSection) -> list[TrialSpec]:
    """Every trial (grid point x sample x seed), each config validated by its kind."""
    rng = np.random.default_rng([base["seed"], 2021])  # draws depend only on the config
    samples = [
        {key: dist.draw(rng) for key, dist in section.sample.items()}
        for _ in range(section.num_samples if section.sample else 1)
    ]
    trials = []
    for point in grid.points(section.grid):
        for drawn in samples:
            values = {**point, **drawn}
            setting = grid.name(values)
            for seed in section.seeds:
                name = (f"{setting},seed={seed}" if setting else f"seed={seed}").replace("/", "_")
                raw = grid.with_values({**base, "seed": seed}, values)
                try:
                    cfg = kinds.parse(raw)
                except UserError as err:
                    raise UserError(f"sweep trial {name}: {err}") from None
                trials.append(TrialSpec(name, setting or "seed", values, seed, cfg))
    return trials
