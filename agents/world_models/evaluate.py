"""How well a world model predicts held-out experience, against the baselines that matter.

- Open-loop error (DIAMOND's and World Models' "dreams"): from the real context, imagine k =
  1..K steps with the actions really taken and compare each imagined view with the real one
  (mean squared error per pixel, views in [0, 1]).
- Copying the last real frame: the error of predicting "nothing changes" k steps ahead; a model
  that has learned the dynamics must beat it.
- Shuffled actions: the same model fed the actions of other streams (a permutation across
  streams at every step, so the actions' frequencies are kept); a model that uses the action
  is worse then.
- Off-palette distance: how far the imagined pixels lie from the colours the world draws
  with; a sampler that drifts into blur or noise raises it even where its errors are small.
- Reward prediction: the imagined reward of the first step from every real context, rounded to
  the nearest integer (the grid worlds' rewards are whole), against the real reward.
"""

from __future__ import annotations

import numpy as np
import torch

from agents.world_models.base import Segments, WorldModel, to_unit

__all__ = [
    "copy_last_errors",
    "off_palette",
    "open_loop",
    "reward_scores",
    "starts",
]


def starts(model: WorldModel, segments: Segments, horizon: int) -> int:
    """The first step imagined: context views 0..k-1 are real, step k - 1 is the first action.
    Raises ValueError unless the segments hold context + horizon views."""
    k = model.context
    if k + horizon > segments.length + 1:
        raise ValueError(
            f"horizon={horizon} with a context of {k} needs segments of at least "
            f"{k + horizon - 1} transitions; these have {segments.length}"
        )
    return k - 1


@torch.no_grad()
def open_loop(
    model: WorldModel,
    segments: Segments,
    horizon: int,
    seed: int,
    temperature: float = 1.0,
    shuffled: bool = False,
    chunk: int = 512,
) -> dict[str, np.ndarray]:
    """The views imagined 1..horizon steps ahead against the real ones, each (horizon,):
    "mse", the mean squared error per pixel; "off_palette", the mean squared distance of each
    imagined pixel to the nearest colour the real views of the segments use (0 for a view drawn
    in the world's own colours, whatever it shows: blur and sampler noise raise it, so it tells
    a drifting sampler from a wrong but clean guess).

    Args:
        shuffled: feed each stream the actions of another (a fixed random permutation of the
            streams per step, drawn from `seed`).
    """
    s = starts(model, segments, horizon)
    rng = np.random.default_rng([seed, 3])
    actions = segments.actions[:, s : s + horizon].copy()
    if shuffled:
        for j in range(horizon):
            actions[:, j] = actions[rng.permutation(len(actions)), j]
    palette = to_unit(np.unique(segments.views.reshape(-1, segments.view_shape[-1]), axis=0))
    gen = torch.Generator().manual_seed(seed)
    mse, off = np.zeros(horizon), np.zeros(horizon)
    for i in range(0, len(segments), chunk):
        part = segments.subset(slice(i, i + chunk))
        views = to_unit(part.views[:, : s + 1])
        state = model.start(views, torch.from_numpy(part.actions[:, :s]))
        for j in range(horizon):
            a = torch.from_numpy(actions[i : i + chunk, j])
            state, out = model.imagine(state, a, gen, temperature)
            imagined = out.views.cpu()
            real = to_unit(part.views[:, s + 1 + j])
            mse[j] += ((imagined - real) ** 2).mean(dim=(1, 2, 3)).sum().item()
            off[j] += off_palette(imagined, palette).sum().item()
    return {"mse": mse / len(segments), "off_palette": off / len(segments)}


def off_palette(views: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """(n,) mean over pixels of the squared distance from each pixel of views (n, H, W, C) to
    the nearest of the palette's colours (K, C), all in [0, 1]."""
    pixels = views.reshape(len(views), -1, 1, views.shape[-1])  # (n, HW, 1, C)
    distance = ((pixels - palette[None, None]) ** 2).sum(-1).min(-1).values  # (n, HW)
    return distance.mean(-1) / views.shape[-1]


def copy_last_errors(segments: Segments, horizon: int, context: int = 1) -> np.ndarray:
    """(horizon,) mean squared error per pixel of predicting the last context view k steps on."""
    s = context - 1
    last = to_unit(segments.views[:, s])
    return np.array(
        [
            ((to_unit(segments.views[:, s + k]) - last) ** 2).mean().item()
            for k in range(1, horizon + 1)
        ]
    )


@torch.no_grad()
def reward_scores(
    model: WorldModel, segments: Segments, seed: int, chunk: int = 512
) -> dict[str, float]:
    """The first imagined step's reward from every real context of the segments, rounded,
    against the real one: accuracy over all steps, and precision and recall of rewarded steps
    (nan where undefined)."""
    k = model.context
    gen = torch.Generator().manual_seed(seed)
    predicted, real = [], []
    for t in range(k - 1, segments.length):
        for i in range(0, len(segments), chunk):
            part = segments.subset(slice(i, i + chunk))
            state = model.start(
                to_unit(part.views[:, t - k + 1 : t + 1]),
                torch.from_numpy(part.actions[:, t - k + 1 : t]),
            )
            _, out = model.imagine(state, torch.from_numpy(part.actions[:, t]), gen)
            predicted.append(out.rewards.cpu().numpy())
            real.append(part.rewards[:, t])
    pred, true = np.round(np.concatenate(predicted)), np.round(np.concatenate(real))
    hit = (pred == true) & (true != 0)
    return {
        "reward_accuracy": float((pred == true).mean()),
        "reward_precision": float(hit.sum() / (pred != 0).sum())
        if (pred != 0).any()
        else float("nan"),
        "reward_recall": float(hit.sum() / (true != 0).sum())
        if (true != 0).any()
        else float("nan"),
        "rewarded_fraction": float((true != 0).mean()),
    }
