"""World models: generative models of an agent's view and its dynamics, and the dream they make.

- `vae_rnn`: World Models' V + M (Ha & Schmidhuber 2018), a conv VAE and an MDN-RNN.
- `diffusion`: DIAMOND's denoiser of the next view (Alonso et al. 2024).
- `dream.DreamEnv`: either one imagined as a batched world every learner trains in.
- `data.collect`: experience from a world's batched core; `evaluate`: open-loop errors.

`FAMILIES` maps family names to (config class, model class); `make` builds one, `save` and
`load` write and read a trained model with what rebuilds it (the family, its settings, the
view and action sizes, and the real world it models), weights only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from agents.world_models.base import Imagined, Segments, WorldModel
from agents.world_models.diffusion import DiffusionWorldConfig, DiffusionWorldModel
from agents.world_models.vae_rnn import VAERNNConfig, VAERNNWorldModel
from generative.checkpoint import CheckpointError, load_safe, save_atomic

__all__ = [
    "FAMILIES",
    "Family",
    "Imagined",
    "Saved",
    "Segments",
    "WorldModel",
    "load",
    "make",
    "save",
]

FORMAT = "emergent-world-model-1"


class Family(NamedTuple):
    """A world-model family: its typed settings and its model class, built as
    model_class(view_shape, num_actions, length, config)."""

    config: type
    model: type


FAMILIES: dict[str, Family] = {
    "vae_rnn": Family(VAERNNConfig, VAERNNWorldModel),
    "diffusion": Family(DiffusionWorldConfig, DiffusionWorldModel),
}


def make(
    family: str, view_shape: tuple[int, int, int], num_actions: int, length: int, **settings: Any
) -> nn.Module:
    """A new (untrained) world model of `family` with keyword settings of its config.

    Raises:
        KeyError: an unknown family (the message lists the known ones).
        ValueError: an unknown or invalid setting, in one line.
    """
    if family not in FAMILIES:
        raise KeyError(f"unknown world-model family {family!r}; known: {', '.join(FAMILIES)}")
    config_cls, model_cls = FAMILIES[family]
    allowed = [f.name for f in dataclasses.fields(config_cls)]
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(f"{family}: unknown option(s) {unknown}; allowed: {', '.join(allowed)}")
    return model_cls(tuple(view_shape), num_actions, length, config_cls(**settings))


class Saved(NamedTuple):
    """A loaded world model and what it models."""

    model: nn.Module
    family: str
    world: dict[str, Any]
    """{"name": the real world's registry name, "options": its settings}."""


def save(path: str | Path, model: nn.Module, family: str, world: dict[str, Any]) -> None:
    """Write a trained world model to one file, atomically (weights and plain settings)."""
    settings = {f.name: _plain(getattr(model.cfg, f.name)) for f in dataclasses.fields(model.cfg)}
    save_atomic(
        {
            "format": FORMAT,
            "family": family,
            "settings": settings,
            "view_shape": list(model.view_shape),
            "num_actions": int(model.num_actions),
            "length": int(model.length),
            "world": world,
            "weights": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        },
        path,
    )


def load(path: str | Path, device: str | torch.device = "cpu") -> Saved:
    """Rebuild a world model written by `save` (`torch.load(weights_only=True)`), in eval mode.

    Raises:
        CheckpointError: a missing, corrupt or foreign file, or weights that do not fit.
    """
    data = load_safe(path, FORMAT)
    try:
        model = make(
            data["family"],
            tuple(data["view_shape"]),
            data["num_actions"],
            data["length"],
            **data["settings"],
        )
        model.load_state_dict(data["weights"])
    except (KeyError, ValueError, TypeError, RuntimeError) as err:
        reason = str(err).splitlines()[0][:160]
        raise CheckpointError(f"world model {str(path)!r} is damaged ({reason})") from None
    return Saved(model.to(device).eval(), data["family"], data["world"])


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
