"""What every world model shares: the recorded experience it learns from and the contract of
imagination that the dream world drives.

Models are decentralised (Ha & Schmidhuber 2018; Alonso et al. 2024, per agent): each agent's
model sees that agent's egocentric view and its own action only, and the other agents are part
of the world's randomness. Experience is therefore stored per agent stream: a world of B copies
and A agents played for an episode gives B x A streams, cut into segments of T transitions.

A `WorldModel` starts from `context` real views (and the actions between them) and then imagines
one step at a time for n streams at once: next view, reward and the probability that the episode
ends. Views are float in [0, 1], (n, H, W, C) as the world observes them (channels last).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from generative.base import GenerativeModel
from generative.data import Dataset

__all__ = ["Imagined", "Segments", "Stage", "WorldModel", "to_unit", "to_uint8"]


def to_unit(views: np.ndarray | Tensor) -> Tensor:
    """uint8 views 0..255 -> float32 tensor in [0, 1] (same shape)."""
    x = torch.as_tensor(views)
    return x.float() / 255.0


def to_uint8(views: Tensor) -> np.ndarray:
    """float views in [0, 1] -> uint8 array 0..255 (clipped, rounded)."""
    return (views.detach().clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()


@dataclass
class Segments:
    """Recorded experience: N agent streams of T transitions each.

    Attributes:
        views: (N, T + 1, H, W, C) uint8, the agent's view before each action and after the last.
        actions: (N, T) int64, the agent's action at each step.
        rewards: (N, T) float32, the agent's reward for it.
        ends: (N, T) bool, whether the episode terminated with that step (never for worlds that
            are only cut off at max_steps: a cut is not an event of the world to predict).
    """

    views: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    ends: np.ndarray

    def __post_init__(self) -> None:
        n, t = self.actions.shape
        if self.views.shape[:2] != (n, t + 1) or self.views.ndim != 5:
            raise ValueError(f"views {self.views.shape}; expected ({n}, {t + 1}, H, W, C)")
        if self.rewards.shape != (n, t) or self.ends.shape != (n, t):
            raise ValueError("rewards and ends must be (N, T) like actions")

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def length(self) -> int:
        """T, transitions per segment."""
        return self.actions.shape[1]

    @property
    def view_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one view."""
        return tuple(self.views.shape[2:])  # type: ignore[return-value]

    def subset(self, index: np.ndarray | slice) -> Segments:
        """The segments at `index` (a slice or an index array)."""
        return Segments(
            self.views[index], self.actions[index], self.rewards[index], self.ends[index]
        )

    def split(self, val_fraction: float, seed: int, group: int = 1) -> tuple[Segments, Segments]:
        """(train, validation): a random `val_fraction` of the groups of `group` consecutive
        segments (one copy's agents, recorded together) held out, at least one group each
        when there are two or more."""
        if len(self) % group:
            raise ValueError(f"{len(self)} segments are not whole groups of {group}")
        groups = len(self) // group
        order = np.random.default_rng(seed).permutation(groups)
        n_val = min(groups - 1, max(1, round(val_fraction * groups))) if groups > 1 else 0

        def streams(chosen: np.ndarray) -> np.ndarray:
            return (np.sort(chosen)[:, None] * group + np.arange(group)).reshape(-1)

        return self.subset(streams(order[n_val:])), self.subset(streams(order[:n_val]))

    def save(self, path: str | Path) -> None:
        """Write the segments to one compressed .npz file (to a temporary name, then renamed)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp, views=self.views, actions=self.actions, rewards=self.rewards, ends=self.ends
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> Segments:
        """Read segments written by `save` (plain arrays, no pickles)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(data["views"], data["actions"], data["rewards"], data["ends"])

    @classmethod
    def concatenate(cls, parts: list[Segments]) -> Segments:
        """One set of segments from several of the same T and view shape."""
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("views", "actions", "rewards", "ends")
            )
        )


class Imagined(NamedTuple):
    """One imagined step of n streams."""

    views: Tensor
    """(n, H, W, C) float in [0, 1], the next view."""
    rewards: Tensor
    """(n,) float, the predicted reward of the step."""
    ends: Tensor
    """(n,) float in [0, 1], the predicted probability that the episode terminated."""


class Stage(NamedTuple):
    """One part of a world model trained by `generative.train.fit`, in order: its name (the
    config's `train.<name>` and its checkpoint folder), the module, and its data, built when
    the stage starts (a later stage's data may need an earlier stage trained)."""

    name: str
    module: GenerativeModel
    data: Callable[[], Dataset]


@runtime_checkable
class WorldModel(Protocol):
    """A learned model of one agent's view and its dynamics that can imagine n streams at once.

    Attributes:
        view_shape: (H, W, C) of one view, as the world observes it.
        num_actions: n of the world's Discrete(n) action space.
        context: real views it starts from (1 for the VAE + recurrent model, k for diffusion).
    """

    view_shape: tuple[int, int, int]
    num_actions: int
    context: int
    length: int
    """T of the segments it trains on."""

    def stages(self, segments: Segments) -> list[Stage]:
        """The parts to train on `segments`, in order."""
        ...

    def start(self, views: Tensor, actions: Tensor) -> Any:
        """The imagination state after the real context: views (n, context, H, W, C) float in
        [0, 1] and the actions taken between them (n, context - 1) int64."""
        ...

    def imagine(
        self, state: Any, actions: Tensor, gen: torch.Generator, temperature: float = 1.0
    ) -> tuple[Any, Imagined]:
        """Advance n streams by one step with actions (n,) int64; draws from `gen`; the sampling
        temperature tau scales the model's randomness where it has a notion of one."""
        ...
