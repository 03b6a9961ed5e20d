"""The ladder of text models the transformer is compared with: unigram, bigram, MLP, GRU.

Each is a `LanguageModel` over token ids 0..V-1, with the transformer's token API (`loss`,
`log_prob`, `score`, `generate`, `sample`), so an experiment treats all of them alike; each
reads more of the past than the one before:

- `unigram`: p(x_{t+1} | x_<=t) = p(x_{t+1}), a table of V log-probabilities.
- `bigram`: p(x_{t+1} | x_t), a V x V table. Both are fitted in closed form (`fit_exact`):
  Lidstone-smoothed counts (Chen & Goodman 1999, sec. 2.1),

      p(w) = (n_w + alpha) / (N + V alpha),   p(w | v) = (n_vw + alpha) / (n_v + V alpha),

  with n counting the targets that `loss` scores (see `CountModel.fit_exact`); alpha is 1
  for the unigram and 0.1 for the bigram by default (see their configs). The tables are
  `nn.Parameter`s of unnormalised log-probabilities (zeros, the uniform distribution, before
  fitting), so gradient steps on `loss` would reach the unsmoothed maximum-likelihood
  estimate too; `fit_exact` is the normal path, and the registry says so (`fit="closed_form"`).
- `mlp`: Bengio et al. 2003's neural probabilistic language model: the embeddings of the last
  n = `context` tokens x_{t-n+1}..x_t, concatenated, through tanh hidden layers to the
  logits. The first n - 1 positions of a sequence, with fewer than n tokens up to them, read
  a pad id (V, an extra embedding row that is never predicted) in place of the missing ones,
  so every position is scored, from what the sequence holds, as in the other models. Bengio
  et al.'s direct connections from the embeddings to the logits are left out. ReLU layers
  and small initial embeddings are options: the grokking MLPs of Liu et al. 2022 and Gromov
  2023 use ReLU, and with N(0, 1) embeddings the MLP does not grok (a + b) mod p.
- `gru`: embeddings through a stacked GRU (Cho et al. 2014) to linear logits; generation
  carries the hidden state from token to token instead of re-reading the prefix.

References:
    Chen & Goodman 1999, "An empirical study of smoothing techniques for language modeling",
        Computer Speech & Language 13(4).
    Bengio, Ducharme, Vincent & Jauvin 2003, "A neural probabilistic language model", JMLR 3.
    Liu, Kitouni, Nolte, Michaud, Tegmark & Williams 2022, "Towards understanding grokking:
        an effective theory of representation learning", arXiv:2205.10343.
    Gromov 2023, "Grokking modular arithmetic", arXiv:2301.02679.
    Cho et al. 2014, "Learning phrase representations using RNN encoder-decoder for
        statistical machine translation", arXiv:1406.1078 (the GRU).
    Zaremba, Sutskever & Vinyals 2014, "Recurrent neural network regularization",
        arXiv:1409.2329 (dropout off the recurrent connections).
    Karpathy, makemore, https://github.com/karpathy/makemore (the same ladder, by characters).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from itertools import pairwise
from typing import Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.config_checks import (
    MAX_LAYERS,
    MAX_WEIGHTS,
    MAX_WIDTH,
    check_float,
    check_int,
    check_widths,
)
from generative.data import DataInfo
from generative.family import Family
from generative.models.language_model import LanguageModel
from generative.models.layers import ACTIVATIONS, check_activation

__all__ = [
    "FAMILIES",
    "GRULM",
    "MLPLM",
    "Bigram",
    "BigramConfig",
    "CountModel",
    "GRULMConfig",
    "GRUState",
    "MLPLMConfig",
    "Unigram",
    "UnigramConfig",
]

MAX_CONTEXT = 1_024
"""Most tokens the MLP reads: far beyond the few words Bengio et al. read (n <= 6)."""


@dataclass(frozen=True)
class UnigramConfig:
    """Settings of `Unigram`."""

    alpha: float = 1.0
    """Lidstone pseudo-count added to every token (1 = Laplace); finite and > 0 (0 would give
    an unseen token log 0). The unigram has few cells, so alpha hardly matters: on
    character-level Shakespeare any value from 0.001 to 1 gives the same validation loss to
    six digits, and 1 is best on small training sets."""

    def __post_init__(self) -> None:
        check_float("alpha", self.alpha, 0.0, open_low=True)


@dataclass(frozen=True)
class BigramConfig:
    """Settings of `Bigram`."""

    alpha: float = 0.1
    """Lidstone pseudo-count added to every (previous, next) pair; finite and > 0. With V^2
    cells most pairs are unseen, and add-one gives them far too much mass once V grows: on
    Shakespeare's validation plays, 0.1 is within 0.001 nats of the best value for characters
    and the best of 0.001 to 1 for a 1,024-token BPE vocabulary."""

    def __post_init__(self) -> None:
        check_float("alpha", self.alpha, 0.0, open_low=True)


@dataclass(frozen=True)
class MLPLMConfig:
    """Settings of `MLPLM`; the vocabulary size comes from the data."""

    context: int = 8
    """n, the tokens each prediction reads (the current one and n - 1 before it); 1 to 1,024
    (`MAX_CONTEXT`)."""
    embed_dim: int = 32
    """Width of each token's embedding; 1 to 16,384 (`MAX_WIDTH`)."""
    hidden: tuple[int, ...] = (256,)
    """Widths of the hidden layers (Bengio et al. use one); 1 to 64 layers, each 1 to
    16,384 wide. Their weights, context x embed_dim x hidden[0] for the first, must total at
    most 2**30 (`MAX_WEIGHTS`)."""
    activation: str = "tanh"
    """Nonlinearity of the hidden layers: 'tanh' (Bengio et al.'s) or another of
    `layers.ACTIVATIONS` ('relu', 'gelu', 'elu', 'silu'); the grokking MLPs use 'relu'."""
    embed_init_std: float = 1.0
    """Standard deviation of the initial embeddings, in (0, 100]: 1 is PyTorch's N(0, 1).
    On (a + b) mod 53 at lr 3e-2 with 128-wide embeddings (`experiments/grokking.yaml`),
    N(0, 1) embeddings keep a ReLU MLP from memorising for 3,000 epochs and a tanh MLP from
    generalising in 10,000; at 0.1 the ReLU MLP generalises by epoch 4,000."""
    dropout: float = 0.0
    """Dropout after each hidden layer in training; [0, 1)."""

    def __post_init__(self) -> None:
        check_int("context", self.context, 1, MAX_CONTEXT)
        check_int("embed_dim", self.embed_dim, 1, MAX_WIDTH)
        check_widths("hidden", self.hidden)
        check_activation(self.activation)
        check_float("embed_init_std", self.embed_init_std, 0.0, 100.0, open_low=True)
        check_float("dropout", self.dropout, 0.0, 1.0, open_high=True)
        widths = (self.context * self.embed_dim, *self.hidden)
        weights = sum(a * b for a, b in pairwise(widths))
        if weights > MAX_WEIGHTS:
            raise ValueError(
                f"context={self.context}, embed_dim={self.embed_dim}, hidden={self.hidden}; "
                f"{weights:,} weights, at most {MAX_WEIGHTS:,} (20 GiB to train)"
            )


@dataclass(frozen=True)
class GRULMConfig:
    """Settings of `GRULM`; the vocabulary size comes from the data."""

    num_layers: int = 2
    """Stacked GRU layers; 1 to 64 (`MAX_LAYERS`)."""
    hidden_size: int = 256
    """Width of each layer's hidden state; 1 to 16,384 (`MAX_WIDTH`)."""
    embed_dim: int = 64
    """Width of the token embeddings; 1 to 16,384 (`MAX_WIDTH`). The layers' 3 (in + H) H
    weights each must total at most 2**30 (`MAX_WEIGHTS`)."""
    dropout: float = 0.0
    """Dropout on the embeddings, between layers and before the output layer in training
    (Zaremba et al. 2014's placement: never on the recurrent connections); [0, 1)."""

    def __post_init__(self) -> None:
        check_int("num_layers", self.num_layers, 1, MAX_LAYERS)
        check_int("hidden_size", self.hidden_size, 1, MAX_WIDTH)
        check_int("embed_dim", self.embed_dim, 1, MAX_WIDTH)
        check_float("dropout", self.dropout, 0.0, 1.0, open_high=True)
        H = self.hidden_size
        weights = 3 * H * (self.embed_dim + H) + (self.num_layers - 1) * 6 * H * H
        if weights > MAX_WEIGHTS:
            raise ValueError(
                f"num_layers={self.num_layers}, hidden_size={H}, embed_dim={self.embed_dim}; "
                f"{weights:,} weights in the layers, at most {MAX_WEIGHTS:,} (20 GiB to train)"
            )


class CountModel(LanguageModel):
    """The count models' shared part: a table of log-probabilities fitted from counts.

    `table` holds unnormalised log-probabilities given the last `order` tokens: (V,) for the
    unigram (order 0), (V, V) (previous token, next token) for the bigram (order 1).
    """

    order: int
    """Tokens of context each prediction reads."""

    def __init__(self, info: DataInfo, cfg: UnigramConfig | BigramConfig) -> None:
        super().__init__(info)
        self.cfg = cfg
        shape = (self.vocab_size,) * (self.order + 1)
        if self.vocab_size ** len(shape) > MAX_WEIGHTS:
            raise ValueError(
                f"num_categories={self.vocab_size}; a table of "
                f"{self.vocab_size ** len(shape):,} entries, at most {MAX_WEIGHTS:,}"
            )
        self.table = nn.Parameter(torch.zeros(shape))  # uniform until fitted

    @abstractmethod
    def _counts(self, previous: Tensor, following: Tensor) -> Tensor:
        """Float64 counts shaped like `table` of the (previous, following) pairs, (M,) each."""

    @torch.no_grad()
    def fit_exact(self, x: Tensor, y: Tensor | None = None) -> Self:
        """Set the table to the smoothed counts of the targets `loss(x, y)` scores; self.

        x is a token stream (N,), read as one sequence, or windows (N, L), each read on its
        own: the targets are the tokens after the first of the stream or of each window, and
        a bigram counts consecutive pairs inside the stream or each window, never across
        windows. With targets y (as in `loss`; a stream's y is (N,)), the counted targets are
        y's ids other than -1. The unsmoothed table (alpha -> 0) thus maximises the
        likelihood that `log_prob` gives the same data.

        Raises:
            ValueError: token ids outside 0..V-1 (targets may also be -1).
        """
        V = self.vocab_size
        bad_x = x.numel() > 0 and (int(x.min()) < 0 or int(x.max()) >= V)
        bad_y = y is not None and y.numel() > 0 and (int(y.min()) < -1 or int(y.max()) >= V)
        if bad_x or bad_y:
            raise ValueError(f"token ids must be in 0..{V - 1} (targets may also be -1)")
        if x.dim() == 1:  # a stream: one sequence
            x, y = x[None], (y[None] if y is not None else None)
        inputs, targets = self._inputs_targets(x.long(), y.long() if y is not None else None)
        counted = targets >= 0
        smoothed = self._counts(inputs[counted], targets[counted]) + self.cfg.alpha
        log_p = smoothed.log() - smoothed.sum(-1, keepdim=True).log()
        self.table.copy_(log_p.to(self.table))
        return self

    def next_token_logits(self, idx: Tensor, cache: object = None) -> Tensor:
        """(B, V) logits of the token after `idx` (B, T), read from its last token."""
        return self.logits(idx[:, -1:])[:, -1]

    def no_weight_decay(self) -> set[str]:
        """The table: decaying it towards uniform would smooth twice (alpha already does)."""
        return {"table"}


class Unigram(CountModel):
    """p(x_{t+1} | x_<=t) = softmax(table)[x_{t+1}], the same at every position."""

    order = 0

    def __init__(self, info: DataInfo, cfg: UnigramConfig | None = None) -> None:
        super().__init__(info, cfg or UnigramConfig())

    def logits(self, idx: Tensor) -> Tensor:
        return self.table.expand(*idx.shape, self.vocab_size)  # (B, T, V)

    def _counts(self, previous: Tensor, following: Tensor) -> Tensor:
        return torch.bincount(following, minlength=self.vocab_size).double()  # (V,)


class Bigram(CountModel):
    """p(x_{t+1} | x_t) = softmax(table[x_t])[x_{t+1}]."""

    order = 1

    def __init__(self, info: DataInfo, cfg: BigramConfig | None = None) -> None:
        super().__init__(info, cfg or BigramConfig())

    def logits(self, idx: Tensor) -> Tensor:
        return self.table[idx]  # (B, T, V)

    def _counts(self, previous: Tensor, following: Tensor) -> Tensor:
        V = self.vocab_size
        pairs = torch.bincount(previous * V + following, minlength=V * V)  # (V * V,)
        return pairs.view(V, V).double()


class MLPLM(LanguageModel):
    """Bengio et al. 2003 (see the module docstring):

        h_0 = [e(x_{t-n+1}); ...; e(x_t)],  h_l = f(W_l h_{l-1} + b_l),  logits = U h_L + b,

    with f = tanh (or `MLPLMConfig.activation`). Initialisation is PyTorch's: embeddings
    N(0, 1) (times `embed_init_std`), linear layers U(-1/sqrt(fan_in), ...).
    """

    def __init__(self, info: DataInfo, cfg: MLPLMConfig | None = None) -> None:
        super().__init__(info)
        cfg = cfg or MLPLMConfig()
        self.cfg = cfg
        V = self.vocab_size
        self._check_per_token("embed_dim", cfg.embed_dim)
        self._check_per_token("hidden[-1]", cfg.hidden[-1])
        self.pad = V  # the id of the missing tokens before a window's start
        self.tok_emb = nn.Embedding(V + 1, cfg.embed_dim)
        with torch.no_grad():  # scaling PyTorch's N(0, 1) draw: the same random numbers
            self.tok_emb.weight.mul_(cfg.embed_init_std)
        widths = (cfg.context * cfg.embed_dim, *cfg.hidden)
        act = ACTIVATIONS[cfg.activation]
        layers: list[nn.Module] = []
        for width_in, width_out in pairwise(widths):
            layers += [nn.Linear(width_in, width_out), act(), nn.Dropout(cfg.dropout)]
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(cfg.hidden[-1], V)

    def windows(self, idx: Tensor) -> Tensor:
        """(B, T, n) the tokens x_{t-n+1}..x_t each position t of idx (B, T) reads, the pad id
        before the sequence's start."""
        n = self.cfg.context
        padded = F.pad(idx, (n - 1, 0), value=self.pad)  # (B, n - 1 + T)
        return padded.unfold(1, n, 1)

    def read(self, windows: Tensor) -> Tensor:
        """(..., V) logits of windows (..., n) of token ids."""
        h = self.tok_emb(windows).flatten(-2)  # (..., n * embed_dim)
        return self.out(self.hidden(h))

    def logits(self, idx: Tensor) -> Tensor:
        return self.read(self.windows(idx))  # (B, T, V)

    def loss(
        self, x: Tensor, y: Tensor | None = None, group: str = "model", *, step: int | None = None
    ) -> dict[str, Tensor]:
        """`LanguageModel.loss`, with logits computed only at the counted positions: each
        position reads its own window and nothing else, so the rest are skipped (a task
        scored at one of T positions, as `modular_addition`, costs 1/T of the full pass; with
        dropout, masks are drawn for those positions only)."""
        inputs, targets = self._inputs_targets(x, y)
        counted = targets >= 0  # (B, T')
        logits = self.read(self.windows(inputs)[counted]).float()  # (M, V)
        nll = F.cross_entropy(logits, targets[counted])
        return {"loss": nll, "bits_per_token": nll / math.log(2)}

    def next_token_logits(self, idx: Tensor, cache: object = None) -> Tensor:
        """(B, V) logits of the token after `idx` (B, T), read from its last `context`
        tokens (the last window only)."""
        return self.read(self.windows(idx[:, -self.cfg.context :])[:, -1])


class GRUState:
    """What a `GRULM` has read of a batch of sequences: its hidden state after `length` tokens
    (None before the first), so each new token costs one step."""

    def __init__(self) -> None:
        self.hidden: Tensor | None = None  # (num_layers, B, hidden_size)
        self.length = 0


class GRULM(LanguageModel):
    """logits_t = W drop(g_t) + b, with g_t the top layer's state of a stacked GRU after
    drop(e(x_1)), ..., drop(e(x_t)) (zero initial state). Initialisation is PyTorch's."""

    def __init__(self, info: DataInfo, cfg: GRULMConfig | None = None) -> None:
        super().__init__(info)
        cfg = cfg or GRULMConfig()
        self.cfg = cfg
        self._check_per_token("embed_dim", cfg.embed_dim)
        self._check_per_token("hidden_size", cfg.hidden_size)
        self.tok_emb = nn.Embedding(self.vocab_size, cfg.embed_dim)
        self.drop = nn.Dropout(cfg.dropout)
        between = cfg.dropout if cfg.num_layers > 1 else 0.0  # torch warns on 1 layer
        self.rnn = nn.GRU(
            cfg.embed_dim, cfg.hidden_size, cfg.num_layers, batch_first=True, dropout=between
        )
        self.out = nn.Linear(cfg.hidden_size, self.vocab_size)

    def logits(self, idx: Tensor, state: GRUState | None = None) -> Tensor:
        """Next-token logits at every position.

        Args:
            idx: (B, T) int64 token ids; with a state, the tokens after the ones it has read.
                The state is advanced by T.
        Returns:
            (B, T, V) logits of p(x_{t+1} | x_<=t).
        """
        h0 = state.hidden if state is not None else None
        g, h = self.rnn(self.drop(self.tok_emb(idx)), h0)  # g (B, T, H), h (layers, B, H)
        if state is not None:
            state.hidden, state.length = h, state.length + idx.shape[1]
        return self.out(self.drop(g))

    def next_token_logits(self, idx: Tensor, cache: GRUState | None = None) -> Tensor:
        """(B, V) logits of the token after `idx` (B, T); with a state that has read the first
        `state.length` tokens of `idx`, only the rest are fed."""
        if cache is None:
            return self.logits(idx)[:, -1]
        if cache.length >= idx.shape[1]:
            raise ValueError(
                f"the state has read {cache.length} tokens of a {idx.shape[1]}-token sequence; "
                "feed at least one new token"
            )
        return self.logits(idx[:, cache.length :], cache)[:, -1]

    def new_cache(self) -> GRUState:
        """An empty `GRUState` for one `generate` call."""
        return GRUState()


FAMILIES = {
    name: Family(config, model, ("tokens",), fit, "exact", "language_model")
    for name, config, model, fit in (
        ("unigram", UnigramConfig, Unigram, "closed_form"),
        ("bigram", BigramConfig, Bigram, "closed_form"),
        ("mlp", MLPLMConfig, MLPLM, "gradient"),
        ("gru", GRULMConfig, GRULM, "gradient"),
    )
}
