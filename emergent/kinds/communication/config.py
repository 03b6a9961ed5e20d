"""Config of a talking-agents experiment (`kind: communication`): a Signalling world with held-out
objects, a speaker and a listener (`agents.talking`), their training and what is measured; with
a `grounding` section, the speaker starts from a character language model of Shakespeare and
is trained once per KL weight beta (grounded speech)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from agents.talking import TalkConfig
from emergent.config import check_keys, check_range, check_seed, from_dict, plain, run_name
from emergent.errors import UserError
from envs.signalling import SignallingConfig
from generative.train import FitConfig

TOP_KEYS = ("name", "kind", "seed", "env", "agent", "train", "eval", "grounding")
MAX_GAMES = 5_000_000
"""Most training games drawn (each K * n_attributes + 1 int64: 1.6 GB at K = 8, 5 attributes)."""
MAX_THREADS = 1_024


@dataclass(frozen=True)
class GamesConfig:
    """What the pair trains on and how the run uses the CPU."""

    games: int = 200_000
    """Training games drawn once from the world's training split with the seed (the fit draws
    its minibatches from them); 1,000 to 5,000,000."""
    threads: int = 1
    """PyTorch's CPU threads while training; 0 keeps PyTorch's setting. One, the default, makes
    the numbers the same whatever the machine's cores (the models are too small to share)."""

    def __post_init__(self) -> None:
        check_range("games", self.games, 1_000, MAX_GAMES)
        check_range("threads", self.threads, 0, MAX_THREADS, "0 = PyTorch's setting")


@dataclass(frozen=True)
class EvalConfig:
    """What is measured during and after training."""

    every: int = 500
    """Play the world every `every` steps (and at the last); a multiple of train.log_every;
    1 to 10**6."""
    games: int = 2_000
    """Games per measurement, per split and channel (B copies of the world); 10 to 100,000."""
    cic_states: int = 1_000
    """Listener states at which the causal influence of communication is measured; 10 to
    100,000."""

    def __post_init__(self) -> None:
        check_range("every", self.every, 1, 10**6)
        check_range("games", self.games, 10, 100_000)
        check_range("cic_states", self.cic_states, 10, 100_000)


@dataclass(frozen=True)
class PriorConfig:
    """The character language model of Shakespeare the grounded speaker starts from (a
    `generative.models.transformer`, trained with nanoGPT's recipe on the corpus's training
    works)."""

    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    """Context of the language model, in characters; at least message_length + 1."""
    steps: int = 2_000
    batch_size: int = 12
    lr: float = 1e-3

    def __post_init__(self) -> None:
        check_range("n_layer", self.n_layer, 1, 16)
        check_range("n_head", self.n_head, 1, 64)
        check_range("n_embd", self.n_embd, 8, 1_024)
        check_range("block_size", self.block_size, 2, 1_024)
        check_range("steps", self.steps, 1, 10**7)
        check_range("batch_size", self.batch_size, 1, 100_000)
        check_range("lr", self.lr, 1e-8, 1.0)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd}; must be divisible by n_head={self.n_head}")


@dataclass(frozen=True)
class GroundingConfig:
    """Grounded speech (Lazaridou et al. 2020; Lee et al. 2019): the speaker starts from the
    language model `prior` and is pulled toward it by beta x KL; one trial per beta."""

    betas: tuple[float, ...] = (0.0, 0.01, 0.1, 1.0)
    """KL weights, one trial each; 1 to 16 values, each 0 to 1,000."""
    prior: PriorConfig = field(default_factory=PriorConfig)

    def __post_init__(self) -> None:
        if not 1 <= len(self.betas) <= 16:
            raise ValueError(f"betas={list(self.betas)}; give 1 to 16 values")
        for beta in self.betas:
            check_range("betas", beta, 0.0, 1_000.0)
        if len(set(self.betas)) != len(self.betas):
            raise ValueError(f"betas={list(self.betas)}; each value once")


@dataclass(frozen=True)
class CommunicationExperiment:
    """A speaker and a listener on one Signalling world, measured in the world itself."""

    name: str
    env: SignallingConfig
    agent: TalkConfig = field(default_factory=TalkConfig)
    train: FitConfig = field(default_factory=FitConfig)
    games: GamesConfig = field(default_factory=GamesConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    grounding: GroundingConfig | None = None
    seed: int = 0
    kind: str = "communication"


def parse(raw: dict) -> CommunicationExperiment:
    check_keys(raw, TOP_KEYS, "")
    name = run_name(raw)
    seed = check_seed(raw.get("seed", 0))
    env_raw = dict(raw.get("env") or {})
    world = env_raw.pop("name", "signalling")
    if world != "signalling":
        raise UserError(
            f"config: env.name={world!r}; kind communication plays the Signalling world only "
            "(other worlds with a channel train with kind rl)"
        )
    train_raw = dict(raw.get("train") or {})
    games = from_dict(
        GamesConfig, {k: train_raw.pop(k) for k in ("games", "threads") if k in train_raw}, "train"
    )
    grounding_raw = raw.get("grounding")
    grounding = None
    if grounding_raw is not None and "vocab_size" in env_raw:
        raise UserError(
            "config: env.vocab_size with grounding; the messages are the language model's "
            "characters, so its vocabulary sets it: remove env.vocab_size"
        )
    if grounding_raw is not None:
        grounding_raw = dict(grounding_raw)
        prior = from_dict(PriorConfig, grounding_raw.pop("prior", {}), "grounding.prior")
        grounding = from_dict(GroundingConfig, grounding_raw, "grounding")
        grounding = dataclasses.replace(grounding, prior=prior)
    cfg = CommunicationExperiment(
        name=name,
        env=from_dict(SignallingConfig, env_raw, "env"),
        agent=from_dict(TalkConfig, raw.get("agent", {}), "agent"),
        train=from_dict(FitConfig, train_raw, "train"),
        games=games,
        eval=from_dict(EvalConfig, raw.get("eval", {}), "eval"),
        grounding=grounding,
        seed=seed,
    )
    check(cfg)
    return cfg


def check(cfg: CommunicationExperiment) -> None:
    """What no one section can check alone; each mistake one `UserError` line."""
    env, train, agent = cfg.env, cfg.train, cfg.agent
    if cfg.eval.every % train.log_every:
        raise UserError(
            f"config: eval.every={cfg.eval.every}; must be a multiple of "
            f"train.log_every={train.log_every} (the world is played at log steps)"
        )
    if env.held_out == 0:
        raise UserError(
            "config: env.held_out=0; the experiment measures generalisation to unseen "
            "attribute combinations: hold some out (e.g. env.held_out: 12)"
        )
    if env.split != "train" or env.channel != "open" or env.pairs != 1:
        raise UserError(
            "config: env.split, env.channel and env.pairs are set by the run (it trains on "
            "the training split with an open channel, one pair, and measures every split and "
            "channel); remove them"
        )
    if agent.training == "ppo" and train.batch_size % agent.minibatches:
        raise UserError(
            f"config: train.batch_size={train.batch_size}; must be a multiple of "
            f"agent.minibatches={agent.minibatches} (a PPO rollout is one batch of games)"
        )
    if agent.training == "ppo" and train.checkpoint_every % agent.ppo_cycle:
        raise UserError(
            f"config: train.checkpoint_every={train.checkpoint_every}; must be a multiple of "
            f"agent.ppo_epochs x agent.minibatches = {agent.ppo_cycle} (a checkpoint between "
            "two rollouts resumes exactly)"
        )
    if cfg.grounding is None and agent.kl_beta > 0:
        raise UserError(
            "config: agent.kl_beta needs a grounding section (the language model the KL "
            "term pulls toward); set the weights in grounding.betas"
        )
    if cfg.grounding is not None:
        if agent.kl_beta > 0:
            raise UserError("config: agent.kl_beta is set per trial by grounding.betas; remove it")
        if cfg.grounding.prior.block_size < env.message_length + 1:
            raise UserError(
                f"config: grounding.prior.block_size={cfg.grounding.prior.block_size}; must be "
                f"at least env.message_length + 1 = {env.message_length + 1}"
            )


def to_dict(cfg: CommunicationExperiment) -> dict:
    env = {"name": "signalling", **plain(dataclasses.asdict(cfg.env))}
    if cfg.grounding is not None:  # set by the language model's vocabulary at run time
        del env["vocab_size"]
    out = {
        "name": cfg.name,
        "kind": cfg.kind,
        "seed": cfg.seed,
        "env": env,
        "agent": plain(dataclasses.asdict(cfg.agent)),
        "train": {**plain(dataclasses.asdict(cfg.train)), **dataclasses.asdict(cfg.games)},
        "eval": plain(dataclasses.asdict(cfg.eval)),
    }
    if cfg.grounding is not None:
        out["grounding"] = plain(dataclasses.asdict(cfg.grounding))
    return out
