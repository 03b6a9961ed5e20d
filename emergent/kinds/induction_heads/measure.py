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


def ngram_tokens(
    n: int, length: int, vocab: int, scale: float, rng: np.random.Generator
) -> np.ndarray:
    """(n, length) int64 tokens of a random second-order model: x[t] is drawn with logits
    A[x[t-1]] + B[x[t-2]], A and B (vocab, vocab) Gaussian with std `scale` (drawn from `rng`
    first); the first two tokens uniform; scale 0 gives uniform random tokens (and draws no
    tables).

    The B term is what makes a previous-token head pay on its own (it moves x[t-1] to t to
    predict x[t+1]), as the n-gram statistics of text do in Olsson et al.'s models; on
    uniform random tokens nothing favours attending one position back over any other offset,
    and two-layer models then compose induction circuits from layer-0 heads that look k > 1
    back (k from 2 to 7 when measured), whose attention lands k - 1 positions after the token
    that prefix matching counts."""
    if scale == 0:
        return rng.integers(0, vocab, size=(n, length))
    A = rng.normal(size=(vocab, vocab)) * scale  # (V, V) logits of x[t] given x[t-1]
    B = rng.normal(size=(vocab, vocab)) * scale  # (V, V) logits of x[t] given x[t-2]
    x = rng.integers(0, vocab, size=(n, length))  # (N, T)
    for t in range(2, length):
        logits = A[x[:, t - 1]] + B[x[:, t - 2]]  # (N, V)
        x[:, t] = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1)  # Gumbel-max sample
    return x


def training_sequences(
    n: int, half_len: int, shortest: int, vocab: int, seed: int, ngram_scale: float = 0.0
) -> Tensor:
    """(n, T = 2 half_len) int64 tokens (`ngram_tokens`), each row with one segment of m tokens
    copied d positions later: x[c + i] = x[c - d + i] for i < m.

    The distance d is uniform in shortest..T - shortest, the length m uniform in
    shortest..min(d, T - d) (the copy never overlaps its source and fits), the copy's start c
    uniform in d..T - m. Drawing the distance first and over the whole context keeps the
    copy distance from carrying a positional signal: at a query position in the second
    half, every distance up to it is about equally likely (half_len with chance about
    1 / half_len), so a one-layer model that attends a fixed offset back gains little,
    while an induction head (which finds the earlier occurrence by content) gains at any
    distance. Copying segments right after themselves (d = m) at a random place would not
    do: the longest segments fit only at the end, so late positions would favour the
    distance half_len, the one the held-out sequences measure.
    """
    rng = np.random.default_rng(seed)
    T = 2 * half_len
    x = ngram_tokens(n, T, vocab, ngram_scale, rng)  # (N, T)
    d = rng.integers(shortest, T - shortest + 1, size=n)  # (N,) copy distances
    m = rng.integers(shortest, np.minimum(d, T - d) + 1)  # (N,) segment lengths
    c = rng.integers(d, T - m + 1)  # (N,) starts of the copies
    i = np.arange(T)[None, :]  # (1, T)
    copy = (i >= c[:, None]) & (i < (c + m)[:, None])  # (N, T) positions of the copy
    source = np.where(copy, i - d[:, None], i)  # (N, T) each copied position's original
    x = np.take_along_axis(x, source, axis=1)  # m <= d: an original is never itself a copy
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


def smoothed(values: np.ndarray) -> np.ndarray:
    """A curve's 3-point moving mean, its two ends kept."""
    smooth = np.array(values, dtype=float)
    if len(smooth) >= 3:
        smooth[1:-1] = (smooth[:-2] + smooth[1:-1] + smooth[2:]) / 3
    return smooth


def largest_change(steps: list[int], values: list[float], width: float) -> float:
    """The largest change, by size and with its sign, of a curve (smoothed as in `find_jump`)
    between two measurements at most `width` steps apart; 0 below two points. How flat a
    curve stays, against another's jump over a window that wide."""
    s = np.asarray(steps, dtype=float)
    v = smoothed(np.asarray(values, dtype=float))
    gaps = v[None, :] - v[:, None]  # (K, K) change from measurement i to j
    near = (s[None, :] > s[:, None]) & (s[None, :] - s[:, None] <= width)
    if not near.any():
        return 0.0
    changes = gaps[near]
    return float(changes[np.abs(changes).argmax()])


def find_jump(steps: list[int], values: list[float]) -> Jump | None:
    """The jump of a curve (None below two points): slopes between measurements of the curve
    smoothed by a 3-point moving mean (ends kept), the steepest, and the window of
    neighbouring intervals at least `STEEP` as steep in the same direction."""
    if len(values) < 2:
        return None
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    smooth = smoothed(v)
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
