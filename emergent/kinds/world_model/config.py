"""Config of a world-model experiment (`kind: world_model`): a real world, the experience
recorded in it, a world-model family and its training stages, and what is measured.

```
env       the real world (a grid world whose agents see (H, W, C) views), its settings
data      experience from the world's batched core under uniform random play
model     family (vae_rnn | diffusion) and its settings (`agents.world_models.FAMILIES`)
train     one `generative.train.FitConfig` per stage of the family (vae_rnn: vae, rnn;
          diffusion: diffusion); unset keys take the defaults below
eval      horizons, temperatures, samplers, throughput and the GIFs of the report
dream     optional: a learner trained in the model's dream and played in the real world,
          iteratively (record -> fit -> train in the dream -> record with the new policy), once
          per seed, beside the same learner trained in the real world, and the temperature table
```
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import agents
import agents.world_models as world_models
import envs
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
from generative.train import FitConfig

TOP_KEYS = ("name", "kind", "seed", "env", "data", "model", "train", "eval", "dream")
DREAM_KEYS = (
    "agent", "rounds", "round_steps", "steps", "num_envs", "max_steps", "temperature",
    "temperatures", "real_steps", "real_evals", "eval_envs", "seeds",
)  # fmt: skip
STAGES = {"vae_rnn": ("vae", "rnn"), "diffusion": ("diffusion",)}
"""Each family's training stages, in order (`WorldModel.stages`)."""
STAGE_DEFAULTS = {
    "vae": {"steps": 4_000, "batch_size": 128, "lr": 1e-3},
    "rnn": {"steps": 3_000, "batch_size": 64, "lr": 1e-3},
    "diffusion": {"steps": 6_000, "batch_size": 64, "lr": 1e-4, "weight_decay": 1e-2},
}
"""What a stage trains with where the config says nothing (World Models: Adam at 1e-3 for V
and M; DIAMOND: AdamW at 1e-4 with weight decay 1e-2)."""
MAX_RECORDED = 10_000_000
"""Most agent-steps recorded (each a view of a few hundred bytes, plus the arrays)."""


@dataclass(frozen=True)
class DataConfig:
    """The experience the world model learns from."""

    steps: int = 100_000
    """Agent-steps recorded (whole segments), 1,000 to 10,000,000."""
    num_envs: int = 16
    """B, copies of the world played at once."""
    length: int = 32
    """T, transitions per segment (a training sequence of M); at most the world's max_steps."""
    val_fraction: float = 0.1
    """Segments held out for every measurement, in (0, 0.5]."""

    def __post_init__(self) -> None:
        check_range("steps", self.steps, 1_000, MAX_RECORDED)
        check_range("num_envs", self.num_envs, 1, 4_096)
        check_range("length", self.length, 2, 10_000)
        check_range("val_fraction", self.val_fraction, 1e-6, 0.5)


@dataclass(frozen=True)
class EvalConfig:
    """What is measured once the model is trained."""

    horizon: int = 15
    """K, open-loop steps imagined from each held-out context (k = 1..K); below data.length."""
    temperatures: tuple[float, ...] = (1.0,)
    """Sampling temperatures tau of the open-loop errors (World Models' table: 0.5, 1.0, 1.15,
    1.3); each > 0 and at most 10."""
    samplers: tuple[str, ...] = ("edm", "ddpm")
    """Diffusion only: the samplers compared."""
    sampler_steps: tuple[int, ...] = (1, 3, 10)
    """Diffusion only: denoising steps compared for each sampler; 1 to 1,000."""
    ddpm_baseline: bool = False
    """Diffusion only: also train the same network with DDPM's objective (Ho et al.'s noise
    prediction) on the same experience and budget, and measure it with DDPM's sampler at each
    of `sampler_steps`: DIAMOND's comparison of two trained models (the 'ddpm' of `samplers`
    walks DDPM's steps with the EDM-trained denoiser)."""
    segments: int = 256
    """Held-out segments measured (at most those there are); 1 to 100,000."""
    throughput_envs: int = 64
    """B of the throughput comparison of the dream against the real core."""
    gifs: int = 2
    """Agents whose real and imagined episode the report shows side by side; 0 to 16."""

    def __post_init__(self) -> None:
        check_range("horizon", self.horizon, 1, 1_000)
        if not 1 <= len(self.temperatures) <= 16:
            raise ValueError(f"temperatures={list(self.temperatures)}; give 1 to 16 values")
        for tau in self.temperatures:
            check_range("temperatures", tau, 1e-3, 10.0)
        for sampler in self.samplers:
            if sampler not in ("edm", "ddpm"):
                raise ValueError(f"samplers: {sampler!r}; allowed: 'edm', 'ddpm'")
        for steps in self.sampler_steps:
            check_range("sampler_steps", steps, 1, 1_000)
        check_range("segments", self.segments, 1, 100_000)
        check_range("throughput_envs", self.throughput_envs, 1, 4_096)
        check_range("gifs", self.gifs, 0, 16)


@dataclass(frozen=True)
class DreamTraining:
    """A learner trained in the dream and played in the real world (World Models sec. 4.4;
    DIAMOND), iteratively: round 1 fits the model on `data` (random play) and trains the
    policy in its dream; each later round records `round_steps` more real agent-steps with the
    current policy, refits the model on everything recorded and trains on in the dream."""

    agent: str = "ppo"
    """The learner (`agents.LEARNERS`); its options are `agent_options`."""
    agent_options: Any = None
    rounds: int = 1
    """Record -> fit -> train in the dream cycles; 1 to 100."""
    round_steps: int = 20_000
    """Real agent-steps recorded with the policy in each round after the first."""
    steps: int = 200_000
    """Agent-steps of policy training in the dream per round."""
    num_envs: int = 32
    """B, dreams trained in at once."""
    max_steps: int = 64
    """Dreamed steps per episode (a dream drifts; World Models dreamed whole episodes)."""
    temperature: float = 1.0
    """tau of the dream the policy trains in."""
    temperatures: tuple[float, ...] = ()
    """The temperature table: after the seeds, a fresh learner trained `steps` in the first
    seed's final model at each tau, its return measured in the dream and in the real world."""
    real_steps: int = 0
    """The same learner trained in the real world for this many agent-steps per seed (the
    reference), 0 for none; its curve gives the comparisons at equal real agent-steps, equal
    wall time and its own end."""
    real_evals: int = 10
    """Evaluations along the reference's training (evenly spaced, plus the dream's budget)."""
    eval_envs: int = 8
    """Real copies played, one episode each, for every real return."""
    seeds: tuple[int, ...] = (0,)
    """Seeds of the whole pipeline (and of the reference); 1 to 16."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperatures", tuple(self.temperatures))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        check_range("rounds", self.rounds, 1, 100)
        check_range("round_steps", self.round_steps, 100, MAX_RECORDED)
        check_range("steps", self.steps, 1, 10**10)
        check_range("num_envs", self.num_envs, 1, 4_096)
        check_range("max_steps", self.max_steps, 1, 100_000)
        check_range("temperature", self.temperature, 1e-3, 10.0)
        for tau in self.temperatures:
            check_range("temperatures", tau, 1e-3, 10.0)
        check_range("real_steps", self.real_steps, 0, 10**10)
        check_range("real_evals", self.real_evals, 1, 1_000)
        check_range("eval_envs", self.eval_envs, 1, 4_096)
        if not 1 <= len(self.seeds) <= 16 or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds={list(self.seeds)}; give 1 to 16 different seeds")


@dataclass(frozen=True)
class WorldModelExperiment:
    """A world model of one real world, trained on recorded experience and measured."""

    name: str
    world: str
    """The real world's registry name."""
    env: Any
    """The real world's typed settings."""
    family: str
    model: Any
    """The family's typed settings."""
    train: dict[str, FitConfig]
    """One fit per stage, in the family's order."""
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    seed: int = 0
    threads: int = 0
    """PyTorch's CPU threads (0 = PyTorch's choice)."""
    device: str = "auto"
    dream: DreamTraining | None = None
    kind: str = "world_model"


def parse(raw: dict) -> WorldModelExperiment:
    """Validate a raw world-model experiment; every mistake one `UserError` line."""
    check_keys(raw, TOP_KEYS, "")
    name = run_name(raw)
    seed = check_seed(raw.get("seed", 0))
    env_raw = dict(section(raw.get("env"), "env"))
    known = sorted(envs.WORLDS)
    world = coerce(env_raw.pop("name", None) or missing("env.name", known), str, "env.name")
    if world not in envs.WORLDS:
        raise UserError(f"env.name: unknown environment {world!r}; known: {', '.join(known)}")
    env = from_dict(envs.WORLDS[world].config, env_raw, "env")
    model_raw = dict(section(raw.get("model"), "model"))
    families = sorted(world_models.FAMILIES)
    family = coerce(
        model_raw.pop("family", None) or missing("model.family", families), str, "model.family"
    )
    if family not in world_models.FAMILIES:
        raise UserError(f"model.family: unknown {family!r}; known: {', '.join(families)}")
    model = from_dict(world_models.FAMILIES[family].config, model_raw, "model")
    train_raw = dict(section(raw.get("train"), "train"))
    shared = {k: train_raw.pop(k) for k in ("device", "threads") if k in train_raw}
    check_keys(train_raw, STAGES[family], "train")
    train = {
        stage: from_dict(
            FitConfig,
            {**STAGE_DEFAULTS[stage], **section(train_raw.get(stage), f"train.{stage}")},
            f"train.{stage}",
        )
        for stage in STAGES[family]
    }
    dream = parse_dream(raw["dream"]) if raw.get("dream") is not None else None
    cfg = WorldModelExperiment(
        name=name,
        world=world,
        env=env,
        family=family,
        model=model,
        train=train,
        data=from_dict(DataConfig, raw.get("data", {}), "data"),
        eval=from_dict(EvalConfig, raw.get("eval", {}), "eval"),
        seed=seed,
        threads=coerce(shared.get("threads", 0), int, "train.threads"),
        device=coerce(shared.get("device", "auto"), str, "train.device"),
        dream=dream,
    )
    check(cfg)
    return cfg


def parse_dream(raw: Any) -> DreamTraining:
    """The `dream` section: the learner's `agent: {kind, ...options}` and the rest."""
    raw = dict(section(raw, "dream"))
    check_keys(raw, DREAM_KEYS, "dream")
    agent_raw = dict(section(raw.pop("agent", {}), "dream.agent"))
    known = sorted(agents.LEARNERS)
    kind = coerce(agent_raw.pop("kind", "ppo"), str, "dream.agent.kind")
    if kind not in agents.LEARNERS or kind == "rllib_ppo":
        allowed = [k for k in known if k != "rllib_ppo"]
        raise UserError(
            f"dream.agent.kind: {kind!r} cannot train in a dream here; use one of "
            f"{', '.join(allowed)}"
        )
    options = from_dict(agents.LEARNERS[kind].config, agent_raw, "dream.agent")
    base = from_dict(DreamTraining, raw, "dream")
    return dataclasses.replace(base, agent=kind, agent_options=options)


def check(cfg: WorldModelExperiment) -> None:
    """What no one section can check alone."""
    world = envs.make(cfg.world, **dataclasses.asdict(cfg.env))
    space = world.observation_space
    if len(space.shape or ()) != 3 or not hasattr(world.action_space, "n"):
        raise UserError(
            f"env.name={cfg.world!r}: world models need agents that see (H, W, C) views and "
            "take Discrete actions (the grid worlds: commons, cleanup, wolfpack)"
        )
    if cfg.data.length > world.max_steps:
        raise UserError(
            f"config: data.length={cfg.data.length}; at most the world's max_steps "
            f"{world.max_steps} (segments do not cross episodes)"
        )
    if cfg.eval.horizon + cfg.model.context > cfg.data.length + 1:
        raise UserError(
            f"config: eval.horizon={cfg.eval.horizon}; with a context of {cfg.model.context} "
            f"it needs data.length >= {cfg.eval.horizon + cfg.model.context - 1}"
        )
    if cfg.eval.ddpm_baseline and cfg.family != "diffusion":
        raise UserError(
            "config: eval.ddpm_baseline needs model.family 'diffusion'; remove it or switch family"
        )
    if getattr(cfg.model, "objective", "edm") == "ddpm":
        if cfg.eval.ddpm_baseline:
            raise UserError(
                "config: eval.ddpm_baseline: the model is DDPM-trained already; remove one of them"
            )
        if "edm" in cfg.eval.samplers:
            raise UserError(
                "config: eval.samplers: 'edm' needs the EDM-trained denoiser; with "
                "model.objective 'ddpm' use samplers: [ddpm]"
            )
    if not 0 <= cfg.threads <= 1_024:
        raise UserError(f"config: train.threads={cfg.threads}; must be from 0 to 1,024")
    if cfg.device not in ("auto", "cpu", "cuda"):
        raise UserError(f"config: train.device={cfg.device!r}; allowed: 'auto', 'cpu', 'cuda'")


def to_dict(cfg: WorldModelExperiment) -> dict:
    out = {
        "name": cfg.name,
        "kind": cfg.kind,
        "seed": cfg.seed,
        "env": {"name": cfg.world, **plain(dataclasses.asdict(cfg.env))},
        "data": plain(dataclasses.asdict(cfg.data)),
        "model": {"family": cfg.family, **plain(dataclasses.asdict(cfg.model))},
        "train": {
            "device": cfg.device,
            "threads": cfg.threads,
            **{stage: plain(dataclasses.asdict(fit)) for stage, fit in cfg.train.items()},
        },
        "eval": plain(dataclasses.asdict(cfg.eval)),
    }
    if cfg.dream is not None:
        dream = plain(dataclasses.asdict(cfg.dream))
        dream.pop("agent_options")
        out["dream"] = {
            **dream,
            "agent": {
                "kind": cfg.dream.agent,
                **plain(dataclasses.asdict(cfg.dream.agent_options)),
            },
        }
    return out
