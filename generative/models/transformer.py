"""A small decoder-only transformer language model (GPT-2's shape, as nanoGPT builds it).

Tokens x_1..x_T (int64 ids below the vocabulary size V = `DataInfo.num_categories`) are
embedded, a learned position embedding is added, and `n_layer` pre-LayerNorm blocks follow:

    h = h + Attn(LN(h)),  h = h + MLP(LN(h))   (MLP: D -> 4D -> D with GELU),

with causal multi-head self-attention, so position t sees x_1..x_t only. A final LayerNorm
and the transposed token embedding (input and output weights tied) give the logits of
p(x_{t+1} | x_<=t). `mlp=False` drops the MLP: an attention-only transformer, the setting in
which induction heads were found. The likelihood is exact:

    log p(x_2..x_T | x_1) = sum_{t=1}^{T-1} log softmax(logits_t)[x_{t+1}]   (nats).

The first token is conditioned on, never scored, so `sample` starts every sequence from
token 0. Generation keeps the keys and values of past tokens in a `KVCache` and feeds one new
token per step; once a sequence outgrows `block_size`, the model sees only its last
`block_size` tokens (nanoGPT's crop), and the cache, whose positions would shift, is
refilled from that window at every step instead. The token API (`loss`, `log_prob`, `score`,
`generate`, `sample`) is `LanguageModel`'s, shared with the text baselines; `sample_token` and
`pad_sequences` are exported here too.

References:
    Vaswani et al. 2017, "Attention is all you need", arXiv:1706.03762.
    Radford et al. 2019, "Language models are unsupervised multitask learners" (GPT-2).
    Press & Wolf 2017, "Using the output embedding to improve language models",
        arXiv:1608.05859 (tied weights).
    Holtzman et al. 2020, "The curious case of neural text degeneration", arXiv:1904.09751
        (top-p sampling).
    Olsson et al. 2022, "In-context learning and induction heads", arXiv:2209.11895.
    Karpathy, nanoGPT, https://github.com/karpathy/nanoGPT (model.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from generative.config_checks import MAX_LAYERS, MAX_WEIGHTS, MAX_WIDTH, check_float, check_int
from generative.data import DataInfo
from generative.family import Family
from generative.models.language_model import LanguageModel, pad_sequences, sample_token

__all__ = [
    "FAMILIES",
    "KVCache",
    "Transformer",
    "TransformerConfig",
    "pad_sequences",
    "sample_token",
]

MAX_HEADS = 1_024
"""Most attention heads: at the widest `n_embd` (16,384) each head still has 16 dimensions."""
SMALL_GELU = 16_384
"""Most elements `gelu` computes with PyTorch's own CPU kernel rather than oneDNN (about where
the two cost the same)."""
MAX_BLOCK_SIZE = 8_192
"""Longest context: the CPU's attention kernel holds a (T, T) float32 matrix per head and
sequence, 256 MiB at 8,192."""


@dataclass(frozen=True)
class TransformerConfig:
    """Settings of `Transformer`; the vocabulary size comes from the data."""

    n_layer: int = 4
    """Transformer blocks; 1 to 64 (`MAX_LAYERS`)."""
    n_head: int = 4
    """Attention heads per block; 1 to 1,024 (`MAX_HEADS`), and must divide `n_embd`."""
    n_embd: int = 128
    """D, the width of the residual stream; 1 to 16,384 (`MAX_WIDTH`). The blocks' 12 D^2
    weights each (4 D^2 without MLP) must total at most 2**30 (`MAX_WEIGHTS`)."""
    block_size: int = 64
    """Longest context the model reads (its position embeddings); 1 to 8,192
    (`MAX_BLOCK_SIZE`)."""
    dropout: float = 0.0
    """Dropout on embeddings, attention weights and residual branches in training; [0, 1)."""
    bias: bool = True
    """Biases in the linear layers and LayerNorms (GPT-2 has them)."""
    mlp: bool = True
    """False gives an attention-only transformer (for induction-head experiments)."""

    def __post_init__(self) -> None:
        check_int("n_layer", self.n_layer, 1, MAX_LAYERS)
        check_int("n_head", self.n_head, 1, MAX_HEADS)
        check_int("n_embd", self.n_embd, 1, MAX_WIDTH)
        check_int("block_size", self.block_size, 1, MAX_BLOCK_SIZE)
        check_float("dropout", self.dropout, 0.0, 1.0, open_high=True)
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd}; must be divisible by n_head={self.n_head}")
        weights = self.n_layer * (12 if self.mlp else 4) * self.n_embd**2
        if weights > MAX_WEIGHTS:
            raise ValueError(
                f"n_layer={self.n_layer}, n_embd={self.n_embd}; {weights:,} weights in the "
                f"blocks, at most {MAX_WEIGHTS:,} (20 GiB to train)"
            )


class KVCache:
    """Keys and values of every layer for the tokens a model has read, so that each new token
    costs one position's work. Buffers (B, n_head, block_size, head_size) are allocated at
    the first write, in the dtype and on the device of the keys.

    `length` counts the positions filled; `Transformer.logits` advances it. One cache serves
    one batch of sequences, from their first token on.
    """

    def __init__(self, n_layer: int, block_size: int) -> None:
        self.block_size = block_size
        self.keys: list[Tensor | None] = [None] * n_layer
        self.values: list[Tensor | None] = [None] * n_layer
        self.length = 0

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store `k`, `v` (B, nh, T, hs) after the cached positions of `layer`; return the
        keys and values of every position so far, (B, nh, length + T, hs) each."""
        if self.keys[layer] is None:
            B, nh, _, hs = k.shape
            self.keys[layer] = k.new_zeros(B, nh, self.block_size, hs)
            self.values[layer] = v.new_zeros(B, nh, self.block_size, hs)
        keys, values, new = self.keys[layer], self.values[layer], k.shape[2]
        keys.narrow(2, self.length, new).copy_(k)  # narrow: cheaper than indexing, per token
        values.narrow(2, self.length, new).copy_(v)
        return keys.narrow(2, 0, self.length + new), values.narrow(2, 0, self.length + new)

    def reset(self) -> None:
        """Forget every position (the buffers are kept)."""
        self.length = 0


def dropout(p: float) -> nn.Module:
    """Dropout with probability p, or, for p = 0, the identity: the same function, without
    the cost of a dropout call per layer and generated token (~7% of a cached step on CPU)."""
    return nn.Dropout(p) if p > 0 else nn.Identity()


class CausalSelfAttention(nn.Module):
    """Multi-head attention in which position t attends to positions <= t."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.n_head, self.dropout = cfg.n_head, cfg.dropout
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_drop = dropout(cfg.dropout)

    def forward(self, h: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        B, T, D = h.shape
        past = cache.length if cache is not None else 0
        qkv = self.qkv(h).view(B, T, 3, self.n_head, D // self.n_head)  # (B, T, 3, nh, hs)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, nh, T, hs) each, as views
        if cache is not None:
            k, v = cache.update(layer, k, v)  # (B, nh, past + T, hs)
        p = self.dropout if self.training else 0.0
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        elif T == 1:  # one new position after the cached ones sees every key: no mask needed
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p)  # (a faster CPU path)
        else:  # query i sits at position past + i: is_causal would align it to position i
            mask = torch.ones(T, past + T, dtype=torch.bool, device=h.device).tril(past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        y = y.transpose(1, 2).reshape(B, T, D)  # (B, T, D), heads side by side
        return self.resid_drop(self.proj(y))

    def attention(self, h: Tensor) -> Tensor:
        """The causal attention probabilities the forward pass uses (without dropout):

            A = softmax(q k^T / sqrt(hs) + M),  M_ij = -inf for j > i,

        with q, k from this layer's projection of `h` (B, T, D) (its LayerNorm applied).

        Returns:
            (B, nh, T, T); row i is query position i's distribution over key positions.
        """
        B, T, D = h.shape
        q, k, _ = self.qkv(h).split(D, dim=2)
        q, k = (t.view(B, T, self.n_head, D // self.n_head).transpose(1, 2) for t in (q, k))
        scores = q @ k.transpose(-2, -1) / math.sqrt(D // self.n_head)  # (B, nh, T, T)
        future = torch.ones(T, T, dtype=torch.bool, device=h.device).triu(1)
        return scores.masked_fill(future, -math.inf).softmax(-1)


def gelu(x: Tensor) -> Tensor:
    """The exact GELU, x Phi(x) (Hendrycks & Gimpel 2016), as `F.gelu`.

    On the CPU, PyTorch hands contiguous float32 tensors to oneDNN, whose fixed cost per call
    (tens of microseconds) dwarfs the work on the few positions of a cached generation step;
    up to `SMALL_GELU` elements PyTorch's own kernel computes the same function instead (the
    two may differ in the last bit). Larger tensors, as in training, keep oneDNN, the faster
    there.
    """
    if (
        x.device.type != "cpu"
        or x.numel() > SMALL_GELU
        or not torch.backends.mkldnn.enabled
        or torch.backends.flags_frozen()  # the flag may not be set outside `flags()`
    ):
        return F.gelu(x)
    torch.backends.mkldnn.enabled = False
    try:
        return F.gelu(x)
    finally:
        torch.backends.mkldnn.enabled = True


class MLP(nn.Module):
    """D -> 4D -> GELU -> D, the position-wise feed-forward layer."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.drop = dropout(cfg.dropout)

    def forward(self, h: Tensor) -> Tensor:
        return self.drop(self.proj(gelu(self.fc(h))))


class Block(nn.Module):
    """h + Attn(LN(h)), then h + MLP(LN(h)) unless the config is attention-only."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias) if cfg.mlp else None
        self.mlp = MLP(cfg) if cfg.mlp else None

    def forward(self, h: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        h = h + self.attn(self.ln_1(h), cache, layer)
        if self.mlp is not None:
            h = h + self.mlp(self.ln_2(h))
        return h


class Transformer(LanguageModel):
    """Decoder-only transformer language model over token sequences; see the module docstring.

    Initialisation as GPT-2 and nanoGPT: every weight matrix and embedding N(0, 0.02^2),
    biases 0, and the projections back into the residual stream N(0, (0.02 / sqrt(N))^2) for
    N residual branches (2 n_layer; n_layer without MLP), so the stream's variance does not
    grow with depth.
    """

    def __init__(self, info: DataInfo, cfg: TransformerConfig | None = None) -> None:
        super().__init__(info)
        cfg = cfg or TransformerConfig()
        self.cfg = cfg
        V = self.vocab_size
        self._check_per_token("n_embd", cfg.n_embd)
        self.tok_emb = nn.Embedding(V, cfg.n_embd)  # also the output layer (tied)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        branches = cfg.n_layer * (2 if cfg.mlp else 1)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):  # into the residual stream
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(branches))
            elif p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def logits(self, idx: Tensor, cache: KVCache | None = None) -> Tensor:
        """Next-token logits at every position.

        Args:
            idx: (B, T) int64 token ids; with a cache, the tokens after the cached ones, at
                positions cache.length .. cache.length + T - 1. The cache is advanced by T.
        Returns:
            (B, T, V) logits of p(x_{t+1} | x_<=t).

        Raises:
            ValueError: the positions run past `block_size`.
        """
        B, T = idx.shape
        start = cache.length if cache is not None else 0
        if start + T > self.cfg.block_size:
            raise ValueError(
                f"{start + T} positions ({start} cached + {T} new) exceed "
                f"block_size={self.cfg.block_size}; crop the input or reset the cache"
            )
        pos = torch.arange(start, start + T, device=idx.device)  # (T,)
        h = self.drop(self.tok_emb(idx) + self.pos_emb(pos))  # (B, T, D)
        for layer, block in enumerate(self.blocks):
            h = block(h, cache, layer)
        if cache is not None:
            cache.length += T
        return F.linear(self.ln_f(h), self.tok_emb.weight)  # (B, T, V)

    def attention_maps(self, idx: Tensor) -> list[Tensor]:
        """Every layer's attention probabilities on `idx` (B, T) int64, as the forward pass
        computes them (dropout off): one (B, n_head, T, T) tensor per layer, from the first
        (see `CausalSelfAttention.attention`). The model's numbers are not changed."""
        length = idx.shape[1]
        if length > self.cfg.block_size:
            raise ValueError(f"{length} positions exceed block_size={self.cfg.block_size}")
        pos = torch.arange(length, device=idx.device)  # (T,)
        h = self.tok_emb(idx) + self.pos_emb(pos)  # (B, T, D)
        maps = []
        for block in self.blocks:
            maps.append(block.attn.attention(block.ln_1(h)))
            h = block(h)
        return maps

    def next_token_logits(self, idx: Tensor, cache: KVCache | None = None) -> Tensor:
        """(B, V) logits of the token after `idx` (B, T), read from its last `block_size`
        tokens.

        With a cache that holds the first `cache.length` tokens of `idx`, only the rest are
        fed; when `idx` is longer than `block_size`, the window has moved past the cached
        positions, so the cache is reset and refilled with the window (a full recompute).
        """
        window = idx[:, -self.cfg.block_size :]
        if cache is None:
            return self.logits(window)[:, -1]
        if idx.shape[1] > self.cfg.block_size:
            cache.reset()
        elif cache.length >= idx.shape[1]:
            raise ValueError(
                f"the cache holds {cache.length} tokens of a {idx.shape[1]}-token sequence; "
                "feed at least one new token"
            )
        return self.logits(window[:, cache.length :], cache)[:, -1]

    def new_cache(self) -> KVCache:
        """An empty `KVCache` for one `generate` call."""
        return KVCache(self.cfg.n_layer, self.cfg.block_size)


FAMILIES = {
    "transformer": Family(
        TransformerConfig, Transformer, ("tokens",), "gradient", "exact", "language_model"
    ),
}
