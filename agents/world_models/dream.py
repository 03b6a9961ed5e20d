"""The dream: a learned world model run in imagination as a batched world (`DreamEnv`).

It has the contract of every world (`envs.core.BatchedEnv`): B copies of A agents, `reset` ->
observations (B, A, H, W, C) uint8, `step(actions (B, A))` -> observations, rewards,
terminated, truncated, events; so every learner trains in it unchanged (Ha & Schmidhuber 2018
sec. 4.4, "training inside of the dream"; Alonso et al. 2024).

The model is decentralised: each agent dreams its own view with its own model stream, the
other agents being part of the world's randomness. A reset starts every copy from a real moment
of recorded experience: a random group of A streams recorded together (one real copy's agents)
at a random step, their `context` real views and the actions between them; the first
observation is the real view.

Ends: every learner, like every world, needs the B copies to end on the same step. A copy's
dream ends when the model's end probability of any of its agents exceeds 1/2; the copy then
stays in that absorbing state (its views frozen, rewards and events zero: the terminal state
of Sutton & Barto 2018 sec. 3.4) until every copy has ended or max_steps are dreamed. Then the
batch ends together: terminated the copies whose dream ended, truncated (cut off) the others.

Events: "dreamed_reward" is each agent's predicted reward rounded to a whole number (what the
dream says it earned), so analysis can count imagined rewards like real ones.

`DreamConfig` names a world-model run directory (`world_model.pt` written by
`agents.world_models.save`, `data/segments.npz` the recorded real experience) and the dream's
settings; `open_dream` builds the dream from it and `real_world` says which real world it models.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

import envs
from agents.world_models import FORMAT, load
from agents.world_models.base import Segments, WorldModel, to_uint8, to_unit
from envs.core import BatchedEnv, StepResult
from envs.render import check_index
from generative.checkpoint import CheckpointError
from generative.config_checks import check_float, check_int

__all__ = ["MAX_DREAM_STEPS", "DreamConfig", "DreamEnv", "open_dream", "real_world"]

MAX_DREAM_STEPS = 100_000
"""Longest dreamed episode (steps); a dream drifts long before."""
END_THRESHOLD = 0.5
"""A copy terminates when an agent's predicted end probability exceeds this."""
RENDER_SCALE = 8
"""Pixels per view cell in `render`."""
MODEL_FILE = "world_model.pt"
"""The trained world model in a world-model run directory (`agents.world_models.save`)."""
SEGMENTS_FILE = "data/segments.npz"
"""The recorded real experience in a world-model run directory (`Segments.save`)."""
FIX = "run a world_model experiment first, e.g. `emergent run experiments/world_model_commons.yaml`"


@dataclass(frozen=True)
class DreamConfig:
    """A dream to train in: which world model, and how it dreams."""

    world_model: str
    """A world-model run directory (holding world_model.pt and data/segments.npz)."""
    temperature: float = 1.0
    """The model's sampling temperature tau (> 0): lower is a more average dream, higher a
    noisier, harder one (Ha & Schmidhuber 2018 sec. 4.4)."""
    max_steps: int = 100
    """Dreamed steps per episode, 1 to MAX_DREAM_STEPS."""

    def __post_init__(self) -> None:
        if not isinstance(self.world_model, str) or not self.world_model.strip():
            raise ValueError(
                f"world_model={self.world_model!r}; must name a world-model run directory"
            )
        check_float("temperature", self.temperature, 0.0, open_low=True)
        check_int("max_steps", self.max_steps, 1, MAX_DREAM_STEPS)

    @property
    def folder(self) -> Path:
        return Path(self.world_model)


def run_files(cfg: DreamConfig) -> tuple[Path, Path]:
    """(model file, segments file) of the world-model run directory, checked to exist.

    Raises:
        ValueError: a missing directory or file, in one line naming it and the fix.
    """
    folder = cfg.folder
    if not folder.is_dir():
        raise ValueError(f"world model directory {str(folder)!r} not found; {FIX}")
    for path in (folder / MODEL_FILE, folder / SEGMENTS_FILE):
        if not path.is_file():
            raise ValueError(f"{str(path)!r} not found (not a finished world-model run); {FIX}")
    return folder / MODEL_FILE, folder / SEGMENTS_FILE


def real_world(cfg: DreamConfig) -> dict[str, Any]:
    """The real world the model was trained on: {"name": registry name, "options": settings}.

    Reads the model file's plain entries only (its tensors are memory-mapped, not loaded).

    Raises:
        ValueError: a missing directory or file, in one line.
        CheckpointError: an unreadable or foreign model file.
    """
    model_file, _ = run_files(cfg)
    stat = model_file.stat()
    world = _world_record(str(model_file.resolve()), stat.st_mtime_ns, stat.st_size)
    return {"name": world["name"], "options": dict(world["options"])}  # the cache's stays intact


@functools.lru_cache(maxsize=16)
def _world_record(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    """The "world" entry of model file `path` (cached while its time and size are unchanged)."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # torch raises many types for truncated or foreign files
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise CheckpointError(f"world model {path!r} is corrupt or unreadable ({reason})") from None
    world = data.get("world") if isinstance(data, dict) and data.get("format") == FORMAT else None
    if not isinstance(world, dict) or not isinstance(world.get("name"), str):
        raise CheckpointError(f"world model {path!r} does not say which world it models")
    return {"name": world["name"], "options": dict(world.get("options") or {})}


def open_dream(
    cfg: DreamConfig, batch_size: int, seed: int | None, device: str | torch.device = "cpu"
) -> DreamEnv:
    """B = `batch_size` copies of the dream of `cfg`'s world model, on `device`.

    A, the agents per copy, is the real world's; the model's view and action sizes are checked
    against the real world's spaces, so a policy trained in the dream acts in the real world.

    Raises:
        ValueError: a missing directory or file, segments or a model that do not fit the real
            world, or a real world that no longer builds; in one line.
        CheckpointError: an unreadable or damaged model file.
    """
    model_file, segments_file = run_files(cfg)
    saved = load(model_file, device)
    model, world = saved.model, saved.world
    try:
        real = envs.make(world["name"], batch_size=1, seed=0, **world["options"])
    except (KeyError, ValueError, TypeError) as err:
        reason = err.args[0] if err.args else err
        raise ValueError(
            f"{str(model_file)!r} models a world that does not build: {reason}"
        ) from None
    space, actions = real.observation_space, real.action_space
    if (
        space.shape != model.view_shape
        or not isinstance(actions, gymnasium.spaces.Discrete)
        or (actions.n != model.num_actions)
    ):
        raise ValueError(
            f"{str(model_file)!r} imagines views {model.view_shape} and {model.num_actions} "
            f"actions, but {world['name']} has {space} and {actions}"
        )
    try:
        starts = Segments.load(segments_file)
    except (KeyError, ValueError, OSError) as err:  # a truncated or foreign .npz
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise ValueError(f"{str(segments_file)!r} is damaged ({reason}); {FIX}") from None
    if starts.view_shape != model.view_shape:
        raise ValueError(
            f"{str(segments_file)!r} holds views {starts.view_shape}, the model's are "
            f"{model.view_shape}"
        )
    return DreamEnv(
        model, starts, real.num_agents, batch_size, cfg.max_steps, cfg.temperature, seed
    )


class DreamEnv(BatchedEnv):
    """B copies of A agents dreaming with `model`, started from `starts`.

    Args:
        model: the world model (in eval mode; its device is used).
        starts: recorded segments to start from, N = groups x A streams with groups of A
            consecutive streams recorded together (as `data.collect` orders them).
        num_agents: A, agents per copy.
        batch_size: B, copies.
        max_steps: dreamed steps per episode (1 to MAX_DREAM_STEPS).
        temperature: the model's sampling temperature tau (> 0).
        seed: seeds the start draws (NumPy) and the dream (a torch generator).
        name: the name in messages.
    """

    def __init__(
        self,
        model: WorldModel,
        starts: Segments,
        num_agents: int,
        batch_size: int = 1,
        max_steps: int = 100,
        temperature: float = 1.0,
        seed: int | None = None,
        name: str = "dream",
    ) -> None:
        self.name = name
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"{name}: batch_size={batch_size!r}; must be a positive integer")
        if not 1 <= max_steps <= MAX_DREAM_STEPS:
            raise ValueError(
                f"{name}: max_steps={max_steps}; must be from 1 to {MAX_DREAM_STEPS:,}"
            )
        if not temperature > 0:
            raise ValueError(f"{name}: temperature={temperature}; must be > 0")
        if len(starts) % num_agents or starts.length + 1 < model.context:
            raise ValueError(
                f"{name}: the start segments do not hold whole groups of {num_agents} agents "
                f"with {model.context} views each"
            )
        self.model, self.starts = model, starts
        self.num_agents, self.batch_size, self.max_steps = num_agents, batch_size, max_steps
        self.temperature = temperature
        h, w, c = model.view_shape
        self.observation_space = gymnasium.spaces.Box(0, 255, (h, w, c), np.uint8)
        self.action_space = gymnasium.spaces.Discrete(model.num_actions)
        self.event_names = ("dreamed_reward",)
        self._seed(seed)
        self.t = np.zeros(batch_size, np.int64)
        self._ended = np.zeros(batch_size, bool)  # (B,) the copy's dream has ended
        self._over = False  # the batch has ended: reset before stepping
        self._state = None
        self._obs = np.zeros((batch_size, num_agents, h, w, c), np.uint8)
        self.reset()

    def _seed(self, seed: int | None) -> None:
        self._rng = np.random.default_rng(seed)
        self._gen = torch.Generator().manual_seed(int(self._rng.integers(2**62)))

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start every copy from a random recorded moment; observations (B, A, H, W, C)."""
        if seed is not None:
            self._seed(seed)
        B, A, k = self.batch_size, self.num_agents, self.model.context
        groups = len(self.starts) // A
        group = self._rng.integers(groups, size=B)
        t0 = self._rng.integers(self.starts.length + 2 - k, size=B)
        streams = (group[:, None] * A + np.arange(A)).reshape(-1)  # (B A,)
        steps = np.repeat(t0, A)[:, None] + np.arange(k)  # (B A, k)
        views = self.starts.views[streams[:, None], steps]  # (B A, k, H, W, C)
        actions = self.starts.actions[streams[:, None], steps[:, :-1]]  # (B A, k - 1)
        self._state = self.model.start(to_unit(views), torch.from_numpy(actions))
        self.t[:] = 0
        self._ended[:] = False
        self._over = False
        self._obs = views[:, -1].reshape(B, A, *views.shape[2:]).copy()
        return self._obs.copy()

    def step(self, actions: np.ndarray) -> StepResult:
        """Dream one step of every copy with actions (B, A) int."""
        actions = np.asarray(actions)
        B, A, n = self.batch_size, self.num_agents, self.model.num_actions
        if actions.shape != (B, A):
            raise ValueError(f"{self.name}: actions shape {actions.shape}; expected {(B, A)}")
        if actions.dtype.kind not in "iu" or actions.min() < 0 or actions.max() >= n:
            raise ValueError(f"{self.name}: actions must be integers in [0, {n})")
        if self._over:
            raise ValueError(f"{self.name}: step after the episode ended; call reset() first")
        flat = torch.from_numpy(actions.reshape(-1).astype(np.int64))
        self._state, out = self.model.imagine(self._state, flat, self._gen, self.temperature)
        live = ~self._ended  # (B,) copies still dreaming: ended ones stay absorbed
        obs = to_uint8(out.views).reshape(B, A, *self.model.view_shape)
        self._obs[live] = obs[live]
        rewards = out.rewards.float().cpu().numpy().reshape(B, A).astype(np.float32)
        rewards[~live] = 0.0
        ends = out.ends.cpu().numpy().reshape(B, A)
        self._ended |= live & (ends > END_THRESHOLD).any(axis=1)
        self.t += 1
        self._over = bool(self._ended.all() or self.t[0] >= self.max_steps)
        terminated = self._ended & self._over
        truncated = ~self._ended & self._over
        events = {"dreamed_reward": np.round(rewards).astype(np.int32)}
        return StepResult(self._obs.copy(), rewards, terminated, truncated, events)

    def render(self, index: int = 0) -> np.ndarray:
        """RGB frame of copy `index`: its agents' dreamed views side by side, scaled up."""
        check_index(self.name, index, self.batch_size)
        views = self._obs[index]  # (A, H, W, C)
        gap = np.full((views.shape[1], 1, 3), 128, np.uint8)
        tiles = []
        for a, view in enumerate(views):
            tiles += [view[..., :3]] + ([gap] if a + 1 < len(views) else [])
        frame = np.concatenate(tiles, axis=1)
        return frame.repeat(RENDER_SCALE, 0).repeat(RENDER_SCALE, 1)
