"""Text as one token stream: the dataset a language model trains on, and exact scoring in
windows.

A split of text becomes one int64 stream of token ids (N,). `token_dataset` wraps the train and
validation streams in a `generative.data.Dataset` of kind "tokens" whose `info.shape` is
(block_size + 1,): `generative.train.fit` then draws random windows of block_size + 1 tokens
(nanoGPT's `get_batch`), each giving block_size next-token predictions.

Scoring cuts a stream into consecutive windows of block_size + 1 tokens that overlap by one
token (window k holds tokens k B .. k B + B, for B = block_size), so every token after the first
is predicted exactly once, from the tokens before it in its window (1 to B of them):

    log p(x_2..x_N | x_1) ~= sum_{t=2}^{N} log p(x_t | x_{s(t)}..x_{t-1}),
    s(t) = B floor((t - 2) / B) + 1,

the sum the validation loss of nanoGPT-style character models is an estimate of (there from
random windows; here each token once, so the number is exact and the same on every run).

References:
    Karpathy, nanoGPT, https://github.com/karpathy/nanoGPT (`train.py`: `get_batch`,
        `estimate_loss`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from generative.data import DataInfo, Dataset

__all__ = [
    "WINDOW_TOKENS",
    "estimate_loss",
    "sequence_log_probs",
    "stream_log_probs",
    "token_dataset",
    "windows",
]

WINDOW_TOKENS = 1 << 16
"""Tokens scored per forward pass (windows x block_size): bounds the memory of the logits,
(windows, block_size, V) floats."""


def token_dataset(
    train: np.ndarray | Tensor,
    val: np.ndarray | Tensor,
    vocab_size: int,
    block_size: int,
    name: str = "text",
) -> Dataset:
    """Train and validation token streams as a "tokens" dataset for `fit` (test = val).

    Args:
        train, val: (N,) token ids in 0..vocab_size-1.
        block_size: B; batches are random windows of B + 1 tokens (`info.shape` = (B + 1,)).

    Raises:
        ValueError: a stream is not 1-D or holds fewer than B + 1 tokens.
    """
    streams = [torch.as_tensor(np.asarray(s), dtype=torch.long) for s in (train, val)]
    for split, stream in zip(("train", "val"), streams, strict=True):
        if stream.dim() != 1 or len(stream) < block_size + 1:
            raise ValueError(
                f"{split} stream of {len(stream.reshape(-1)):,} tokens; need one stream of at "
                f"least block_size + 1 = {block_size + 1} tokens"
            )
    info = DataInfo(name, (block_size + 1,), "tokens", num_categories=vocab_size)
    return Dataset(info, streams[0], streams[1], streams[1])


def windows(stream: Tensor, block_size: int, prefix_len: int = 1) -> tuple[Tensor, Tensor]:
    """The consecutive scoring windows of one stream: inputs and targets.

    Window k reads tokens kB .. kB + B - 1 and predicts tokens kB + 1 .. kB + B (B =
    block_size); the last window is padded. Targets are -1 where nothing is scored: past the
    end, and for the tokens before `prefix_len` (read as context, not scored).

    Args:
        stream: (N,) int64, N >= 1.
    Returns:
        x, y: (W, B) int64 each, W = max(1, ceil((N - 1) / B)).
    """
    n = len(stream)
    count = max(1, -(-(n - 1) // block_size))
    padded = torch.zeros(count * block_size + 1, dtype=torch.long, device=stream.device)
    padded[:n] = stream
    at = torch.arange(count, device=stream.device)[:, None] * block_size  # (W, 1)
    at = at + torch.arange(block_size + 1, device=stream.device)  # (W, B + 1) positions
    tokens = padded[at]
    scored = (at[:, 1:] < n) & (at[:, 1:] >= prefix_len)  # (W, B)
    return tokens[:, :-1], tokens[:, 1:].masked_fill(~scored, -1)


@torch.no_grad()
def _window_log_probs(model, x: Tensor, y: Tensor) -> Tensor:
    """(W, B) log-probabilities of the targets, 0 where y = -1, in chunks of windows; read in
    eval mode (no dropout), the model's mode restored after."""
    chunk = max(1, WINDOW_TOKENS // max(x.shape[1], 1))
    device, training = model.device, model.training
    model.eval()
    try:
        parts = [
            model.token_log_probs(x[i : i + chunk].to(device), y[i : i + chunk].to(device))
            for i in range(0, len(x), chunk)
        ]
    finally:
        model.train(training)
    return torch.cat([p.cpu() for p in parts]).double()


def stream_log_probs(model, stream: Tensor | np.ndarray, block_size: int) -> Tensor:
    """(N - 1,) float64: log p of tokens 2..N of `stream`, each from its window (module
    docstring), in nats. The model is put in eval mode.

    Args:
        model: a language model of the token API (`token_log_probs(x, y)`).
        stream: (N,) token ids, N >= 1.
    """
    stream = torch.as_tensor(np.asarray(stream), dtype=torch.long).reshape(-1)
    if len(stream) < 1:
        raise ValueError("an empty stream has nothing to condition on; give at least 1 token")
    x, y = windows(stream, block_size)
    return _window_log_probs(model, x, y).reshape(-1)[: len(stream) - 1]


def sequence_log_probs(
    model, sequences: Sequence[Sequence[int] | np.ndarray | Tensor], block_size: int, prefix_len=1
) -> Tensor:
    """(S,) float64: log p(x_{prefix_len+1}..x_N | x_1..x_prefix_len) of each sequence in
    nats, sequences longer than block_size + 1 scored in windows (module docstring); the
    windows of every sequence go through the model together.

    Raises:
        ValueError: a sequence shorter than `prefix_len` (at least 1) tokens.
    """
    if prefix_len < 1:
        raise ValueError(f"prefix_len={prefix_len}; must be at least 1")
    xs, ys, owners = [], [], []
    for i, seq in enumerate(sequences):
        stream = torch.as_tensor(np.asarray(seq), dtype=torch.long).reshape(-1)
        if len(stream) < prefix_len:
            raise ValueError(
                f"sequence {i} has {len(stream)} tokens; need at least prefix_len={prefix_len}"
            )
        x, y = windows(stream, block_size, prefix_len)
        xs.append(x)
        ys.append(y)
        owners.append(torch.full((len(x),), i, dtype=torch.long))
    if not xs:
        return torch.zeros(0, dtype=torch.float64)
    per_window = _window_log_probs(model, torch.cat(xs), torch.cat(ys)).sum(-1)  # (W,)
    total = torch.zeros(len(xs), dtype=torch.float64)
    return total.index_add_(0, torch.cat(owners), per_window)


@torch.no_grad()
def estimate_loss(model, stream: Tensor, block_size: int, count: int) -> float:
    """Mean next-token loss in nats on `count` windows of block_size + 1 tokens at evenly
    spaced offsets of `stream` (the same windows every call: a curve over training moves only
    with the model), read in eval mode; the model's mode is restored after. nanoGPT's
    `estimate_loss` draws random windows instead.
    """
    last = len(stream) - block_size - 1  # the last offset with a whole window
    if last < 0 or count < 1:
        raise ValueError(f"{len(stream)} tokens, {count} windows; need at least 1 of each")
    offsets = torch.linspace(0, last, min(count, last + 1)).round().long()  # (count,)
    x = stream.unfold(0, block_size + 1, 1)[offsets]  # (count, block_size + 1)
    per_token = _window_log_probs(model, x[:, :-1], x[:, 1:])  # (count, block_size)
    return float(-per_token.mean())
