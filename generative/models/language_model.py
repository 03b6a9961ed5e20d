"""The token API every language model shares: `LanguageModel`, `sample_token`, `pad_sequences`.

A language model over token ids 0..V-1 (V = `DataInfo.num_categories`) gives the logits of
p(x_{t+1} | x_<=t) at every position, `logits(idx) -> (B, T, V)`; everything else follows from
them here, once, so the transformer and the text baselines (`text_baselines`) are scored,
sampled and trained alike:

- `loss(x, y)`: the mean next-token cross-entropy in nats over the counted targets (a target
  of -1 is not counted, nanoGPT's convention; y None scores x[:, 1:] given x[:, :-1]), and
  the same in bits per token.
- `token_log_probs`, `log_prob`, `score`: the same exact log-likelihoods per token, per
  sequence, and for padded sequences after a prefix. The first token of a sequence is
  conditioned on, never scored:

      log p(x_2..x_T | x_1) = sum_{t=1}^{T-1} log softmax(logits_t)[x_{t+1}]   (nats).

- `generate`: one token at a time, each picked by `sample_token` from one uniform per sequence
  and step. A model may keep what it has read in a cache (`new_cache`, `next_token_logits`:
  the transformer's keys and values, the GRU's hidden state), so a cached and a recomputed
  generation draw the same tokens from the same generator.
- `sample(n)`: token 0, then L - 1 sampled tokens (L = `info.shape[0]`).
- `freeze` / `unfreeze`, and `no_weight_decay`: the parameters below 2-D (biases, norm gains).

References:
    Holtzman et al. 2020, "The curious case of neural text degeneration", arXiv:1904.09751
        (top-p sampling).
    Karpathy, nanoGPT, https://github.com/karpathy/nanoGPT (targets of -1 are ignored).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, Self

import torch
import torch.nn.functional as F
from torch import Tensor

from generative.base import GenerativeModel
from generative.config_checks import MAX_WEIGHTS, check_float, check_int
from generative.data import DataInfo

__all__ = ["MAX_VOCAB", "LanguageModel", "pad_sequences", "sample_token"]

MAX_VOCAB = 2**20
"""Largest vocabulary: GPT-2 has 50,257 tokens; 2**20 x 1,024 embeddings are 2**30 weights."""


def sample_token(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    u: Tensor | None = None,
) -> Tensor:
    """Draw the next token of each sequence by inverting the CDF of the filtered softmax.

    Logits are divided by `temperature`; `top_k` keeps the k largest (ties kept), `top_p`
    the smallest set of most likely tokens whose probability reaches p (nucleus sampling,
    Holtzman et al. 2020). One uniform per sequence picks the token, so two callers with the
    same uniforms and the same logits draw the same tokens.

    Args:
        logits: (B, V).
        temperature: 0 picks the most likely token (greedy; `u` is not needed).
        u: (B,) uniforms in [0, 1).
    Returns:
        (B,) int64 token ids.
    """
    if temperature == 0:
        return logits.argmax(-1)
    if u is None:
        raise ValueError(f"temperature={temperature}; sampling needs uniforms u (B,)")
    logits = logits.float() if temperature == 1 else logits.float() / temperature
    if top_k is not None:
        kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, -math.inf)
    if top_p is not None and top_p < 1:
        sorted_probs, order = logits.softmax(-1).sort(-1, descending=True)  # (B, V) each
        mass_before = sorted_probs.cumsum(-1) - sorted_probs
        drop = torch.zeros_like(mass_before, dtype=torch.bool)
        drop.scatter_(-1, order, mass_before >= top_p)  # the most likely token always stays
        logits = logits.masked_fill(drop, -math.inf)
    cdf = logits.softmax(-1).double().cumsum(-1)  # (B, V)
    target = u.double()[:, None] * cdf[:, -1:]  # (B, 1), below the total mass
    return torch.searchsorted(cdf, target, right=True)[:, 0]  # first token with cdf > target


def pad_sequences(
    sequences: Sequence[Sequence[int] | Tensor], pad: int = 0
) -> tuple[Tensor, Tensor]:
    """Token sequences of different lengths as one batch for `LanguageModel.score`.

    Returns:
        tokens (B, T_max) int64, padded with `pad` after each sequence, and lengths (B,) int64.
    """
    rows = [torch.as_tensor(s, dtype=torch.long).reshape(-1) for s in sequences]
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    tokens = torch.full((len(rows), max(map(len, rows), default=0)), pad, dtype=torch.long)
    for i, row in enumerate(rows):
        tokens[i, : len(row)] = row
    return tokens, lengths


def _uniform(n: int, gen: torch.Generator | None, device: torch.device) -> Tensor:
    if gen is None:
        return torch.rand(n, device=device)
    return torch.rand(n, generator=gen, device=gen.device).to(device)


class LanguageModel(GenerativeModel):
    """Base of the autoregressive models of token sequences; see the module docstring.

    A subclass gives `logits`, and, where it reads a bounded context or keeps a cache,
    `next_token_logits` and `new_cache`.
    """

    likelihood = "exact"

    def __init__(self, info: DataInfo) -> None:
        super().__init__(info)
        if len(info.shape) != 1:
            raise ValueError(f"shape={info.shape}; token data is (sequence length,)")
        check_int("num_categories", info.num_categories, 2, MAX_VOCAB)
        self.vocab_size: int = info.num_categories

    def _check_per_token(self, key: str, width: int) -> None:
        """Raise a one-line ValueError if a (vocab_size, width) table (an embedding, an output
        layer) has more than `MAX_WEIGHTS` weights."""
        weights = self.vocab_size * width
        if weights > MAX_WEIGHTS:
            raise ValueError(
                f"num_categories={self.vocab_size}, {key}={width}; {weights:,} weights in a "
                f"layer of the vocabulary's size, at most {MAX_WEIGHTS:,}"
            )

    @abstractmethod
    def logits(self, idx: Tensor) -> Tensor:
        """(B, T, V) logits of p(x_{t+1} | x_<=t) for idx (B, T) int64 token ids."""

    def next_token_logits(self, idx: Tensor, cache: Any = None) -> Tensor:
        """(B, V) logits of the token after `idx` (B, T).

        `cache` (from `new_cache`) holds what the model has read of `idx` so far; this default
        keeps none and reads the whole of `idx`.
        """
        return self.logits(idx)[:, -1]

    def new_cache(self) -> Any:
        """An empty cache for one `generate` call, or None for a model that keeps none."""
        return None

    def _inputs_targets(self, x: Tensor, y: Tensor | None) -> tuple[Tensor, Tensor]:
        """(inputs, targets) (B, T'): x and y, or x[:, :-1] and x[:, 1:] when y is None."""
        if y is None:
            if x.dim() != 2 or x.shape[1] < 2:
                raise ValueError(f"x of shape {tuple(x.shape)}; need (B, T), T >= 2 tokens")
            return x[:, :-1], x[:, 1:]
        if y.shape != x.shape:
            raise ValueError(
                f"y of shape {tuple(y.shape)}; targets must have x's shape {tuple(x.shape)}"
            )
        return x, y

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """Mean next-token cross-entropy in nats over the counted positions.

        L = -1/|C| sum_{(b, t) in C} log p(y_bt | x_b1..x_bt),  C = {(b, t): y_bt != -1}.

        Args:
            x: (B, T) int64 inputs.
            y: (B, T) int64 targets, -1 where not scored (nanoGPT's convention); None scores
                x[:, 1:] given x[:, :-1].
        Returns:
            {"loss": L, "bits_per_token": L / ln 2}.
        """
        inputs, targets = self._inputs_targets(x, y)
        logits = self.logits(inputs).float()  # (B, T', V)
        nll = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-1)
        return {"loss": nll, "bits_per_token": nll / math.log(2)}

    def token_log_probs(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """(B, T') log p(y_bt | x_b1..x_bt) in nats, 0 where y_bt = -1 (x, y as in `loss`)."""
        inputs, targets = self._inputs_targets(x, y)
        log_p = F.log_softmax(self.logits(inputs).float(), dim=-1)  # (B, T', V)
        picked = log_p.gather(-1, targets.clamp(min=0)[..., None])[..., 0]  # (B, T')
        return picked.masked_fill(targets < 0, 0.0)

    def log_prob(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """(B,) exact log-likelihood of the counted targets in nats (x, y as in `loss`); with
        y None, log p(x_2..x_T | x_1)."""
        return self.token_log_probs(x, y).sum(-1)

    def score(
        self, tokens: Tensor, lengths: Tensor | None = None, prefix_len: int | Tensor = 1
    ) -> Tensor:
        """(B,) log p(tokens[b, prefix_len:lengths[b]] | tokens[b, :prefix_len]) in nats.

        For sequences of different lengths (see `pad_sequences`): the prefix is read, not
        scored, and the padding after `lengths` is ignored.

        Args:
            tokens: (B, T) int64.
            lengths: (B,) int64 in prefix_len..T; None for T each.
            prefix_len: int or (B,) int64, at least 1 (the first token has no prediction).
        """
        B, T = tokens.shape
        prefix = torch.as_tensor(prefix_len, device=tokens.device).expand(B)
        if (prefix < 1).any():
            raise ValueError(f"prefix_len={prefix_len}; must be at least 1")
        if lengths is None:
            lengths = torch.full((B,), T, device=tokens.device)
        if T < 2:
            return torch.zeros(B, device=tokens.device)
        at = torch.arange(1, T, device=tokens.device)  # (T - 1,) positions of the targets
        counted = (at >= prefix[:, None]) & (at < lengths.to(tokens.device)[:, None])
        return self.log_prob(tokens[:, :-1], tokens[:, 1:].masked_fill(~counted, -1))

    def generate(
        self,
        prefix: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        stop_token: int | None = None,
        gen: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> Tensor:
        """Continue each prefix by sampling one token at a time (call `eval()` first to turn
        dropout off).

        Every step draws one uniform per sequence (none when greedy) and picks the token with
        `sample_token`, so with and without the cache the same generator gives the same
        tokens (up to float rounding of the logits).

        Args:
            prefix: (B, T0) int64, T0 >= 1; a model with a bounded context reads its tail.
            temperature: >= 0; 0 is greedy.
            top_k: keep the k most likely tokens (k >= 1).
            top_p: keep the most likely tokens up to probability mass p in (0, 1].
            stop_token: a sequence that emits it is padded with it afterwards; generation
                stops once every sequence has.
            use_cache: feed one token per step through `new_cache()` instead of recomputing
                (no difference for a model that keeps no cache).
        Returns:
            (B, T0 + n) int64, the prefix and n <= max_new_tokens new tokens.
        """
        V = self.vocab_size
        if prefix.dim() != 2 or prefix.shape[1] < 1:
            raise ValueError(f"prefix of shape {tuple(prefix.shape)}; need (B, T0), T0 >= 1")
        check_int("max_new_tokens", max_new_tokens, 0, 10**9)
        check_float("temperature", temperature, 0.0)
        if top_k is not None:
            check_int("top_k", top_k, 1, V)
        if top_p is not None:
            check_float("top_p", top_p, 0.0, 1.0, open_low=True)
        if stop_token is not None:
            check_int("stop_token", stop_token, 0, V - 1)
        B = prefix.shape[0]
        idx = prefix.to(self.device)
        with torch.inference_mode():  # no autograd bookkeeping: ~15% off a cached step on CPU
            cache = self.new_cache() if use_cache else None
            stopped = torch.zeros(B, dtype=torch.bool, device=idx.device)
            for _ in range(max_new_tokens):
                logits = self.next_token_logits(idx, cache)  # (B, V)
                u = _uniform(B, gen, idx.device) if temperature > 0 else None
                token = sample_token(logits, temperature, top_k, top_p, u)  # (B,)
                if stop_token is not None:
                    token = token.masked_fill(stopped, stop_token)
                    stopped |= token == stop_token
                idx = torch.cat([idx, token[:, None]], dim=1)
                if stop_token is not None and stopped.all():
                    break
        return idx.clone()  # a normal tensor: an inference tensor cannot be changed in place

    def sample(
        self, n: int, cond: Tensor | None = None, gen: torch.Generator | None = None
    ) -> Tensor:
        """(n, L) sequences of the data's length L: token 0, then L - 1 sampled tokens.

        The model scores every token but the first (`log_prob` conditions on it), so samples
        start from a fixed one: token 0, which a vocabulary may reserve for the start of a
        text.
        """
        if cond is not None:
            raise ValueError(
                f"{type(self).__name__} is unconditional; condition on tokens with generate"
            )
        start = torch.zeros(n, 1, dtype=torch.long, device=self.device)
        return self.generate(start, self.info.shape[0] - 1, gen=gen)

    def no_weight_decay(self) -> set[str]:
        """Biases and normalisation gains (every parameter below 2-D), as nanoGPT: matrices
        and embeddings are decayed."""
        return {name for name, p in self.named_parameters() if p.dim() < 2}

    def freeze(self) -> Self:
        """Stop gradients to every parameter (a fixed language model for an agent)."""
        self.requires_grad_(False)
        return self

    def unfreeze(self) -> Self:
        """Train every parameter again."""
        self.requires_grad_(True)
        return self
