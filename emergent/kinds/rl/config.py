"""Config of a reinforcement-learning experiment (`kind: rl`, the default): a world, a learner,
a training budget, and optionally a grid of one swept key.

`env.name: dream` trains in a learned world model's dream instead of a world
(`agents.world_models.dream.DreamConfig`: `world_model`, a world-model run directory, then
`temperature` and `max_steps`); every evaluation still plays the real world the model was
trained on (`ExperimentConfig.world`), so reports show real returns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import agents
import envs
from agents.world_models.dream import DreamConfig, real_world
from emergent.config import (
    check_keys,
    check_range,
    check_seed,
    coerce,
    from_dict,
    missing,
    plain,
    run_name,
    section,
)
from emergent.errors import UserError
from emergent.sweep import grid as sweep_grid
from generative.checkpoint import CheckpointError

MAX_STEPS = 10**12
"""Agent-steps of one run at the most (years of CPU time beyond it)."""
MAX_COPIES = 65_536
"""Copies of a world stepped at once at the most; the world itself also refuses a batch whose
observations would not fit in memory."""
DREAM = "dream"
"""`env.name` of a learned world model's dream (options: `DreamConfig`)."""


@dataclass(frozen=True)
class TrainConfig:
    """How long to train and how often to look at the agents."""

    steps: int = 200_000
    """Agent-steps of training (environment steps × agents × copies)."""
    num_envs: int = 8
    """B: copies of the world stepped together during training."""
    eval_every: int = 50_000
    """Agent-steps between evaluations (episode logs -> social metrics)."""
    eval_envs: int = 4
    """Copies evaluated in parallel, one episode each."""
    checkpoint_every: int = 50_000
    """Agent-steps between checkpoints (written atomically)."""
    keep_checkpoints: int = 2
    """The newest training checkpoints kept on disk (older ones are deleted as new ones are
    written), so a long run's disk use stays bounded; at least 1, at most 1,000."""
    device: str = "auto"
    """'auto' (CUDA when present, else CPU), 'cpu' or 'cuda'."""

    def __post_init__(self) -> None:
        for name in ("steps", "eval_every", "checkpoint_every"):
            check_range(name, getattr(self, name), 1, MAX_STEPS)
        check_range("num_envs", self.num_envs, 1, MAX_COPIES, "copies stepped at once")
        check_range("eval_envs", self.eval_envs, 1, MAX_COPIES, "copies evaluated at once")
        check_range("keep_checkpoints", self.keep_checkpoints, 1, 1_000)
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device={self.device!r}; allowed: 'auto', 'cpu', 'cuda'")


@dataclass(frozen=True)
class EnvSpec:
    """Which world, and its typed options."""

    name: str
    options: Any


@dataclass(frozen=True)
class AgentSpec:
    """Which learner, and its typed options."""

    kind: str
    options: Any


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment: a world, a learner, a training budget, and optionally a grid.

    `grid` maps dotted keys (e.g. `env.regrowth_scale`) to lists of values; the run then
    trains once per value and reports the metrics against it.
    """

    name: str
    env: EnvSpec
    agent: AgentSpec
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = 0
    grid: dict[str, tuple] = field(default_factory=dict)

    @property
    def dreamed(self) -> bool:
        """Whether the learner trains in a world model's dream (`env.name: dream`)."""
        return self.env.name == DREAM

    @property
    def world(self) -> EnvSpec:
        """The real world every evaluation plays and analyses: `env` itself, or for a dream the
        world its model was trained on (read from the world-model file)."""
        return dream_world(self.env.options) if self.dreamed else self.env

    @property
    def title(self) -> str:
        """What was trained where, for report titles: "commons with ppo", or "wolfpack with
        ppo, trained in a dream (world model `runs/...`)"."""
        where = f"{self.world.name} with {self.agent.kind}"
        if self.dreamed:
            where += f", trained in a dream (world model `{self.env.options.world_model}`)"
        return where


TOP_KEYS = ("name", "kind", "seed", "env", "agent", "train", "grid")


def parse(raw: dict) -> ExperimentConfig:
    """Validate a raw reinforcement-learning experiment into an `ExperimentConfig`."""
    raw = dict(raw)
    raw.pop("kind", None)
    check_keys(raw, TOP_KEYS, "")
    name = run_name(raw)
    seed = check_seed(raw.get("seed", 0))
    env = parse_env(raw.get("env"))
    agent = parse_agent(raw.get("agent"))
    if env.name == DREAM and agent.kind == "rllib_ppo":
        raise UserError(
            "agent.kind: rllib_ppo cannot train in a dream (RLlib's workers build worlds by "
            "registry name); use ppo or sb3_ppo"
        )
    train = from_dict(TrainConfig, section(raw.get("train", {}), "train"), "train")
    grid = parse_grid(raw.get("grid", {}) or {})
    base = {k: v for k, v in raw.items() if k != "grid"}
    for values in sweep_grid.points(grid) if grid else ():  # each point must be valid itself
        parse(sweep_grid.with_values(base, values))
    return ExperimentConfig(name=name, env=env, agent=agent, train=train, seed=seed, grid=grid)


def parse_env(raw: Any) -> EnvSpec:
    raw = dict(section(raw, "env"))
    known = sorted([*envs.WORLDS, DREAM])
    name = coerce(raw.pop("name", None) or missing("env.name", known), str, "env.name")
    if name == DREAM:
        if "world_model" not in raw:
            raise UserError(
                "config: missing key 'env.world_model' (a world-model run directory, e.g. "
                "runs/world_model_commons/<stamp>)"
            )
        spec = EnvSpec(DREAM, from_dict(DreamConfig, raw, "env"))
        dream_world(spec.options)  # the model is there and names a world that builds
        return spec
    if name not in envs.WORLDS:
        raise UserError(f"env.name: unknown environment {name!r}; known: {', '.join(known)}")
    return EnvSpec(name, from_dict(envs.WORLDS[name].config, raw, "env"))


def dream_world(options: DreamConfig) -> EnvSpec:
    """The real world a dream's world model was trained on, as a typed `EnvSpec`."""
    try:
        world = real_world(options)
    except (ValueError, CheckpointError) as err:
        raise UserError(f"config: env.world_model: {err}") from None
    name = world["name"]
    if name not in envs.WORLDS:
        raise UserError(
            f"config: env.world_model: models world {name!r}, which is not one of "
            f"{', '.join(sorted(envs.WORLDS))}"
        )
    where = f"env.world_model {options.world_model!r}: world"
    return EnvSpec(name, from_dict(envs.WORLDS[name].config, world["options"], where))


def parse_agent(raw: Any) -> AgentSpec:
    raw = dict(section(raw, "agent"))
    known = sorted(agents.LEARNERS)
    kind = coerce(raw.pop("kind", None) or missing("agent.kind", known), str, "agent.kind")
    if kind not in agents.LEARNERS:
        raise UserError(f"agent.kind: unknown agent {kind!r}; known: {', '.join(known)}")
    return AgentSpec(kind, from_dict(agents.LEARNERS[kind].config, raw, "agent"))


def parse_grid(raw: Any) -> dict[str, tuple]:
    if not isinstance(raw, dict):
        raise UserError("grid: expected a mapping of dotted keys to lists of values")
    grid = {}
    for key, values in raw.items():
        if not isinstance(values, list) or not values:
            raise UserError(f"grid.{key}: expected a non-empty list of values")
        if key.split(".")[0] not in ("env", "agent", "train", "seed"):
            raise UserError(f"grid.{key}: can only vary env.*, agent.*, train.* or seed")
        grid[key] = tuple(values)
    if len(grid) > 1:
        raise UserError(
            f"grid: one swept key at a time, got {sorted(grid)}; use `emergent sweep` for more"
        )
    return grid


def grid_points(cfg: ExperimentConfig) -> list[tuple[dict[str, Any], ExperimentConfig]]:
    """(swept values, config without a grid) for each point of the grid."""
    base = {k: v for k, v in to_dict(cfg).items() if k != "grid"}
    return [
        (values, parse(sweep_grid.with_values(base, values)))
        for values in sweep_grid.points(cfg.grid)
    ]


def to_dict(cfg: ExperimentConfig) -> dict:
    """The resolved config as plain YAML-ready data (what `config.yaml` holds)."""
    return {
        "name": cfg.name,
        "seed": cfg.seed,
        "env": {"name": cfg.env.name, **plain(dataclasses.asdict(cfg.env.options))},
        "agent": {"kind": cfg.agent.kind, **plain(dataclasses.asdict(cfg.agent.options))},
        "train": plain(dataclasses.asdict(cfg.train)),
        **({"grid": {k: list(v) for k, v in cfg.grid.items()}} if cfg.grid else {}),
    }
