"""The task's sequences and what is measured on them: the in-context score, each head's
prefix-matching score, and the step of the jump.

References:
    Olsson et al. 2022, "In-context Learning and Induction Heads", arXiv:2209.11895 (the
        in-context score, prefix matching, the phase change).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from generative.models.transformer import Transformer
from generative.text.tasks import in_context_score, repeated_segments


def training_sequences(
    n: int, half_len: int, repeat: tuple[int, int], vocab: int, seed: int
) -> Tensor:
    """(n, 2 half_len) int64 random tokens, each row with one segment of m tokens (m uniform in
    `repeat`) copied right after itself at a random offset p: x[p + m + i] = x[p + i] for
    i < m. The copy distance m varies, so only copying from context predicts the copy."""
    rng = np.random.default_rng(seed)
    T = 2 * half_len
    x = rng.integers(0, vocab, size=(n, T))  # (N, T)
    m = rng.integers(repeat[0], repeat[1] + 1, size=n)  # (N,) segment lengths
    p = (rng.random(n) * (T - 2 * m + 1)).astype(np.int64)  # (N,) segment starts
    i = np.arange(T)[None, :]  # (1, T)
    copy = (i >= (p + m)[:, None]) & (i < (p + 2 * m)[:, None])  # (N, T) positions of the copy
    source = np.where(copy, i - m[:, None], i)  # (N, T) each copied position's original
    x = np.take_along_axis(x, source, axis=1)  # an original is never itself a copy
    return torch.from_numpy(x.astype(np.int64))


def held_out(n: int, half_len: int, vocab: int, seed: int) -> Tensor:
    """(n, 2 half_len) held-out sequences whose second half repeats the first (another seed
    than the training set's)."""
    return repeated_segments(n, half_len, vocab, seed + 1).x


@dataclass(frozen=True)
class Measurement:
    in_context: float
    """Mean loss on late tokens minus mean loss on early ones (nats); near -ln(vocab) for a
    perfect copier, 0 for none."""
    loss: float
    """Mean next-token loss over the held-out sequences (nats)."""
    prefix_matching: np.ndarray
    """(layers, heads) prefix-matching score of each head."""


def prefix_matching(maps: list[Tensor], half_len: int) -> np.ndarray:
    """(layers, heads) mean attention from each token t of the second half to the token after
    its earlier occurrence, t - half_len + 1 (Olsson et al. 2022's prefix matching), over the
    sequences of `maps` (each (B, heads, T, T), T = 2 half_len)."""
    t = torch.arange(half_len, 2 * half_len)  # (L,) query positions
    return np.array([m[:, :, t, t - half_len + 1].mean(dim=(0, 2)).tolist() for m in maps])


@torch.no_grad()
def measure(model: Transformer, x: Tensor, half_len: int) -> Measurement:
    """The in-context score, the loss and the prefix-matching scores on held-out repeated
    sequences `x` (N, 2 half_len), in eval mode; the model's mode is restored after. Draws no
    random numbers."""
    was_training = model.training
    model.eval()
    x = x.to(model.device)
    targets = torch.full_like(x, -1)
    targets[:, :-1] = x[:, 1:]
    token_loss = -model.token_log_probs(x, targets)  # (N, T) nats, 0 at the last position
    maps = model.attention_maps(x)
    model.train(was_training)
    return Measurement(
        in_context=in_context_score(token_loss.cpu(), half_len),
        loss=float(token_loss[:, :-1].mean()),
        prefix_matching=prefix_matching([m.cpu() for m in maps], half_len),
    )


@dataclass(frozen=True)
class Jump:
    step: float
    """Where the curve changes fastest: the middle of its steepest interval."""
    start: float
    """First step of the window: the run of intervals around the steepest whose slope has
    its sign and at least `STEEP` of its size."""
    end: float
    """Last step of that window."""
    change: float
    """The change of the curve over the window."""
    total: float
    """The change of the curve from its first to its last measurement."""


STEEP = 0.2
"""Share of the steepest slope an interval needs to belong to the jump's window."""


def find_jump(steps: list[int], values: list[float]) -> Jump | None:
    """The jump of a curve (None below two points): slopes between measurements of the curve
    smoothed by a 3-point moving mean (ends kept), the steepest, and the window of
    neighbouring intervals at least `STEEP` as steep in the same direction."""
    if len(values) < 2:
        return None
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    smooth = v.copy()
    if len(v) >= 3:
        smooth[1:-1] = (v[:-2] + v[1:-1] + v[2:]) / 3
    slopes = np.diff(smooth) / np.diff(s)  # (K - 1,)
    k = int(np.abs(slopes).argmax())
    steep = slopes[k]
    if steep == 0:
        return Jump(float("nan"), float("nan"), float("nan"), 0.0, float(v[-1] - v[0]))
    inside = slopes / steep >= STEEP  # same sign, large enough
    lo, hi = k, k
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    while hi < len(slopes) - 1 and inside[hi + 1]:
        hi += 1
    return Jump(
        step=float((s[k] + s[k + 1]) / 2),
        start=float(s[lo]),
        end=float(s[hi + 1]),
        change=float(smooth[hi + 1] - smooth[lo]),
        total=float(v[-1] - v[0]),
    )
