"""PPO from RLlib (new API stack) over a batched multi-agent world: the distributed learner.

The world reaches RLlib through `envs.adapters.rllib` (registered with
`ray.tune.registry.register_env` under "emergent_<world>", built from the run's world name and
options); RLlib's env runners (`num_env_runners` Ray actors, or the trainer's own process
when 0) step `envs_per_env_runner` copies each, and one local Learner updates one RLModule per
policy ("shared" for parameter sharing, or one per agent), on the GPU when the device allows.
One `train` iteration of RLlib = one batch of `train_batch_size` agent-steps + its SGD epochs;
after each, the run's hooks see the agent-step count, the mean per-agent episode return and
RLlib's learner statistics (mean over modules) under "train/...".

Ray: an existing connection (e.g. inside a Ray Tune trial) is used as is; otherwise
`RAY_ADDRESS` names a cluster to join; otherwise a local Ray is started and `close()` stops
it. A checkpoint is one file, like the other learners': `Algorithm.get_state()` (the learner's
RLModule weights and optimiser state, the env runners' connector state and counters, RLlib's
metrics and iteration) turned into tensors and plain containers by `agents.rllib_state`, with
the options, world and agent-steps it was trained with, written atomically with `torch.save` and
read with `torch.load(weights_only=True)`: resuming never unpickles code. Resume checks the file
(entries, options, and the world when given), rebuilds the algorithm from the stored options
and world and hands the state to `Algorithm.set_state`. RLlib starts new episodes then, so a
resumed run continues the step count and the learner but not the exact numbers.

A loss that is no longer finite in an iteration's learner results stops training with a
`NonFiniteLoss` naming the agent-step and the iteration.

Ref: Schulman et al. 2017, "Proximal Policy Optimization Algorithms"; Liang et al. 2018,
"RLlib: Abstractions for Distributed Reinforcement Learning".
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

import envs
from agents.checkpoints import (
    TRAIN_FORMATS,
    check_options,
    check_same_world,
    damaged,
    read,
    require,
)
from agents.finite import nonfinite
from agents.ppo_policy import plain, resolve_device
from agents.protocols import TrainHooks
from agents.rllib_policy import RLlibPolicy, build_modules
from agents.rllib_ppo_config import RLlibPPOConfig, model_config, module_ids
from agents.rllib_state import decode, encode
from agents.spec import EnvSpec, env_spec
from envs.core import BatchedEnv
from generative.checkpoint import CheckpointError, save_atomic

TRAIN_FORMAT = TRAIN_FORMATS["rllib_ppo"]
RLLIB_PARTS = ("env_runner", "learner_group", "metrics_logger")  # what a restore needs
LEARNER_STATS = {  # RLlib's per-module learner result -> the row key after "train/"
    "policy_loss": "policy_loss",
    "vf_loss": "vf_loss",
    "entropy": "entropy",
    "mean_kl_loss": "mean_kl_loss",
    "vf_explained_var": "vf_explained_var",
    "default_optimizer_learning_rate": "learning_rate",
}
LOSSES = ("total_loss", "policy_loss", "vf_loss")
"""RLlib's per-module learner results that must stay finite."""
SCHEMA = {"world": dict, "spec": dict, "envs_per_env_runner": int, "agent_steps": int}
"""Entries of a training checkpoint besides "options", "rllib" and "mean_return"."""


def shared_module(agent_id: str, episode: Any = None, **kwargs: Any) -> str:
    """Policy mapping for parameter sharing: every agent acts with the module "shared"."""
    return "shared"


def own_module(agent_id: str, episode: Any = None, **kwargs: Any) -> str:
    """Policy mapping for per-agent policies: agent "player_k" acts with module "player_k"."""
    return agent_id


def ensure_ray(num_cpus: int) -> bool:
    """Use the current Ray connection, join `RAY_ADDRESS`, or start a local Ray.

    A local Ray gets at least `num_cpus` logical CPUs (one per env runner plus the trainer),
    so RLlib never waits for CPUs a small machine lacks. Returns True when it started Ray.
    """
    import ray

    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, **quiet)
    else:  # "local": never attach to some other process's Ray by accident
        cpus = max(os.cpu_count() or 1, num_cpus)
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
    return True


def world_of(env: BatchedEnv) -> dict[str, Any]:
    """The registry name and options that rebuild `env` (what RLlib's env creator gets)."""
    name, cfg = getattr(env, "name", None), getattr(env, "cfg", None)
    if name not in envs.WORLDS or not dataclasses.is_dataclass(cfg):
        raise ValueError("rllib_ppo: train() needs a world built by envs.make")
    return {"name": name, **dataclasses.asdict(cfg)}


class RLlibPPO:
    """Trainer: `train(env, steps, hooks) -> RLlibPolicy`, with checkpoint save and resume."""

    def __init__(self, options: RLlibPPOConfig, seed: int = 0, device: str = "auto") -> None:
        self.options, self.seed = options, seed
        self.device = resolve_device(device)
        self.algo: Any = None  # ray.rllib.algorithms.ppo.PPO once built
        self.world: dict[str, Any] | None = None
        self.spec: EnvSpec | None = None
        self.envs_per_runner = 0
        self.mean_return: float | None = None
        self._agent_steps = 0
        self._started_ray = False
        self._restored_from: Path | None = None
        """The checkpoint the algorithm was built from (for messages)."""

    @property
    def agent_steps(self) -> int:
        return self._agent_steps

    def _build(self, world: dict[str, Any], spec: EnvSpec, envs_per_runner: int) -> None:
        from ray.rllib.algorithms.ppo import PPOConfig
        from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
        from ray.tune.registry import register_env

        from agents.rllib_connectors import scale_images
        from envs.adapters.rllib import env_creator

        cfg = self.options
        # RLlib's notices at every build (new API stack, gputil) would break the progress bar.
        logging.getLogger("ray.rllib").setLevel(logging.ERROR)
        self._started_ray = ensure_ray(cfg.num_env_runners + 1)
        env_id = f"emergent_{world['name']}"
        register_env(env_id, env_creator)
        config = (
            PPOConfig()
            .environment(env_id, env_config=world)
            .env_runners(
                num_env_runners=cfg.num_env_runners,
                num_envs_per_env_runner=envs_per_runner,
                env_to_module_connector=scale_images if spec.image else None,
            )
            .learners(num_learners=0, num_gpus_per_learner=int(self.device.type == "cuda"))
            .training(
                lr=cfg.lr,
                gamma=cfg.gamma,
                lambda_=cfg.gae_lambda,
                clip_param=cfg.clip_param,
                entropy_coeff=cfg.entropy_coeff,
                vf_loss_coeff=cfg.vf_loss_coeff,
                vf_clip_param=cfg.vf_clip_param or float("inf"),
                use_kl_loss=cfg.kl_coeff > 0,
                kl_coeff=cfg.kl_coeff,
                grad_clip=cfg.grad_clip,
                grad_clip_by="global_norm",
                train_batch_size_per_learner=cfg.train_batch_size,
                minibatch_size=cfg.minibatch_size,
                num_epochs=cfg.num_epochs,
            )
            .multi_agent(
                policies=set(module_ids(cfg, spec.num_agents)),
                policy_mapping_fn=shared_module if cfg.policies == "shared" else own_module,
                count_steps_by="agent_steps",
            )
            .rl_module(model_config=DefaultModelConfig(**model_config(cfg, spec.image)))
            .debugging(seed=self.seed, log_level="ERROR")
        )
        self.algo = config.build_algo()
        self.world, self.spec, self.envs_per_runner = world, spec, envs_per_runner

    def train(self, env: BatchedEnv, steps: int, hooks: TrainHooks) -> RLlibPolicy:
        """Train until `steps` agent-steps in all (counting any restored from a checkpoint),
        in whole RLlib iterations."""
        world = world_of(env)
        if self.algo is None:
            per_runner = self.options.envs_per_env_runner or env.batch_size
            self._build(world, env_spec(env), per_runner)
        elif plain(world) != plain(self.world):
            if self._restored_from is not None:
                check_same_world(self._restored_from, as_stored(self.world), as_stored(world))
            raise ValueError("rllib_ppo: train() was given another world than it was built for")
        while self._agent_steps < steps:
            result = self.algo.train()
            runners = result.get("env_runners", {})
            self._agent_steps += int(sum(runners.get("num_agent_steps_sampled", {}).values()))
            bad = nonfinite_loss(result)
            if bad is not None:
                name, value = bad
                iteration = int(result.get("training_iteration", 0))
                raise nonfinite("rllib_ppo", name, value, self._agent_steps, iteration, "lr")
            returns = runners.get("agent_episode_returns_mean")
            if returns:
                self.mean_return = float(np.mean(list(returns.values())))
            keep_going = hooks.on_step(self._agent_steps, self.mean_return)
            hooks.on_update(self._agent_steps, learner_stats(result))
            if not keep_going:
                break
        return self.policy

    @property
    def policy(self) -> RLlibPolicy:
        """A copy of the learner's current modules on CPU (it stays usable after `close`)."""
        assert self.algo is not None and self.spec is not None, "train() builds the algorithm"
        weights = self.algo.learner_group.get_weights()  # {module_id: {name: ndarray}}
        modules = build_modules(self.spec, self.options)
        for module_id, module in modules.items():
            state = {k: torch.as_tensor(np.asarray(v)) for k, v in weights[module_id].items()}
            module.load_state_dict(state)
        return RLlibPolicy(modules, self.spec, self.options)

    def save_checkpoint(self, path: str | Path) -> None:
        """The algorithm's state (see the module docstring) and the step, as one file."""
        assert self.algo is not None and self.spec is not None, "train() builds the algorithm"
        save_atomic(
            {
                "format": TRAIN_FORMAT,
                "options": plain(dataclasses.asdict(self.options)),
                "world": plain(self.world),
                "spec": self.spec.to_plain(),
                "envs_per_env_runner": self.envs_per_runner,
                "agent_steps": self._agent_steps,
                "mean_return": self.mean_return,
                "rllib": encode(self.algo.get_state()),
            },
            path,
        )

    def load_checkpoint(self, path: str | Path, env: BatchedEnv | None = None) -> int:
        """Check a checkpoint, rebuild the algorithm (when not built yet) and restore it;
        return its step. The world is checked against `env` when given, or against the
        world the algorithm was built for.

        Raises:
            CheckpointError: missing, foreign, incomplete, damaged or unreadable checkpoint.
            ValueError: a checkpoint of another learner, trained with other agent options,
                or on another world than `env` or this trainer's.
        """
        path = Path(path)
        if path.is_dir():
            raise CheckpointError(
                f"checkpoint {str(path)!r} is a directory (an RLlib checkpoint of an older "
                "emergent, which is no longer read)"
            )
        data = read(path, "rllib_ppo")
        require(path, data, {"options": dict})
        check_options(path, data["options"], self.options)
        state = rllib_state(path, data.get("rllib"))
        require(path, data, SCHEMA)
        if not isinstance(data.get("mean_return", 0.0), float | int | None):
            raise damaged(path, "'mean_return' is not a number")
        if not isinstance(data["world"].get("name"), str):
            raise damaged(path, "'world' has no name")
        world = {k: tuple(v) if isinstance(v, list) else v for k, v in data["world"].items()}
        if env is not None or self.algo is not None:
            own = world_of(env) if env is not None else self.world
            check_same_world(path, as_stored(world), as_stored(own))
        if self.algo is None:
            try:
                spec = EnvSpec.from_plain(data["spec"])
            except (KeyError, TypeError, ValueError) as err:
                raise damaged(path, f"'spec' is unreadable: {type(err).__name__} {err}") from None
            self._build(world, spec, data["envs_per_env_runner"])
            self._restored_from = path
        try:
            # RLlib's counters first: restoring the env runners reads their lifetime step count.
            self.algo.set_state({k: v for k, v in state.items() if k not in RLLIB_PARTS[:2]})
            self.algo.set_state({k: state[k] for k in RLLIB_PARTS[:2]})
        except Exception as err:  # RLlib raises many types for a state that does not fit
            reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
            raise CheckpointError(
                f"checkpoint {str(path)!r} does not fit the algorithm ({reason})"
            ) from None
        self._agent_steps = data["agent_steps"]
        self.mean_return = data.get("mean_return")
        return self._agent_steps

    def close(self) -> None:
        """Stop the algorithm (its env runner actors) and the Ray this trainer started."""
        if self.algo is not None:
            self.algo.stop()
            self.algo = None
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False


def rllib_state(path: Path, stored: Any) -> dict[str, Any]:
    """The stored `Algorithm.get_state()` of a checkpoint, decoded and checked for its parts.

    Without a local env runner RLlib returns the connector states at the top level but reads
    them back under "env_runner": they are moved there.
    """
    try:
        state = decode(stored)
    except ValueError as err:
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt ({err})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt (no RLlib state)")
    connectors = ("env_to_module_connector", "module_to_env_connector")
    if "env_runner" not in state and all(name in state for name in connectors):
        state["env_runner"] = {name: state.pop(name) for name in connectors}
    missing = [name for name in RLLIB_PARTS if name not in state]
    if missing:  # RLlib would restore what is there and skip the rest without a word
        raise CheckpointError(f"checkpoint {str(path)!r} is incomplete (no {missing[0]})")
    return state


def as_stored(world: dict[str, Any]) -> dict[str, Any]:
    """An RLlib world ({"name", **settings}) as `agents.checkpoints` compares worlds."""
    settings = {k: v for k, v in world.items() if k != "name"}
    return {"name": world["name"], "config": plain(settings)}


def nonfinite_loss(result: dict[str, Any]) -> tuple[str, float] | None:
    """The first loss of `LOSSES` in an iteration's learner results (per module) that is NaN or
    infinite, as ("the <module> <loss>", value); None when all are finite."""
    for module, values in result.get("learners", {}).items():
        if module == "__all_modules__" or not isinstance(values, dict):
            continue
        for key in LOSSES:
            if key in values and not np.isfinite(float(values[key])):
                return f"the {key} of module {module!r}", float(values[key])
    return None


def learner_stats(result: dict[str, Any]) -> dict[str, float]:
    """RLlib's learner statistics of one iteration, averaged over modules, as "train/..."."""
    modules = [v for k, v in result.get("learners", {}).items() if k != "__all_modules__" and v]
    stats = {}
    for key, name in LEARNER_STATS.items():
        values = [float(m[key]) for m in modules if isinstance(m, dict) and key in m]
        if values:
            stats[f"train/{name}"] = float(np.mean(values))
    return stats
