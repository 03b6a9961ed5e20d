"""Synthetic sequence tasks for the language model, generated from a seed.

Every task gives token sequences in the language model's convention: inputs x (N, T) and
targets y (N, T), both int64, where y[:, t] is the token to predict after reading x[:, :t+1]
and `IGNORE` (-1) marks positions the loss and the metrics skip. The same arguments give the
same tensors on every machine (`numpy.random.default_rng(seed)` is the only randomness).

- `modular_addition`: a + b mod p, the grokking task (Power et al. 2022, "Grokking:
  Generalization Beyond Overfitting on Small Algorithmic Datasets", arXiv:2201.02177).
- `repeated_segments`: random tokens whose second half repeats the first; a model that copies
  from context (induction heads) predicts the second half (Olsson et al. 2022, "In-context
  Learning and Induction Heads", arXiv:2209.11895).
- `addition`: k-digit decimal addition written as characters, answer reversed by default
  (Lee et al. 2023, "Teaching Arithmetic to Small Transformers", arXiv:2307.03381).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

IGNORE = -1
"""Target value of a position that is not scored."""

MAX_TOKENS = 50_000_000
"""Upper bound on N * T for any generated task (about 400 MB per int64 tensor)."""
MAX_MODULUS = 2_000
MAX_ADDITION_DIGITS = 9
"""Operands below 10**9, so every pair index (below 10**18) fits in int64."""


@dataclass(frozen=True)
class Sequences:
    """Token sequences with next-token targets.

    Attributes:
        x: (N, T) int64 input tokens.
        y: (N, T) int64 targets; y[:, t] follows x[:, :t+1]; `IGNORE` where not scored.
    """

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Splits:
    """A task's fixed train/validation split and its vocabulary size (ids 0..vocab_size-1)."""

    train: Sequences
    val: Sequences
    vocab_size: int


def _sequences(x: np.ndarray, y: np.ndarray) -> Sequences:
    return Sequences(torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64)))


def _check_int(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name}={value!r}; must be an integer in {low}..{high}")
    if not low <= value <= high:
        raise ValueError(f"{name}={value}; must be in {low}..{high}")


def _check_seed(seed: int) -> None:
    _check_int("seed", seed, 0, 2**63 - 1)


def _check_size(n: int, length: int) -> None:
    if n * length > MAX_TOKENS:
        raise ValueError(f"n={n} sequences of {length} tokens exceed {MAX_TOKENS:,} tokens")


def exact_match(pred: Tensor, y: Tensor) -> float:
    """Share of rows whose every scored position is predicted exactly.

    Args:
        pred: (N, T) predicted token ids, e.g. `logits.argmax(-1)` under teacher forcing.
        y: (N, T) targets with `IGNORE` at unscored positions.
    Returns:
        mean over rows of all_t [pred[:, t] == y[:, t] or y[:, t] == IGNORE]; NaN when N == 0.
    """
    if pred.shape != y.shape:
        raise ValueError(f"pred shape {tuple(pred.shape)} != targets shape {tuple(y.shape)}")
    right = (pred == y) | (y == IGNORE)
    return right.all(dim=1).double().mean().item()


def modular_addition(p: int, train_fraction: float, seed: int) -> Splits:
    """All p * p problems [a, b, "="] -> (a + b) mod p, split at random into train and val.

    Tokens: 0..p-1 for the numbers, p for "=" (vocab_size p + 1). Each sequence has T = 3;
    only the last position is scored: y = [IGNORE, IGNORE, (a + b) mod p].

    Args:
        p: the modulus, 2..MAX_MODULUS (Power et al. use the prime 97).
        train_fraction: share of the p * p problems in train; round(train_fraction p^2)
            problems, at least one on each side.
        seed: fixes the split (a permutation from `default_rng(seed)`).
    """
    _check_int("p", p, 2, MAX_MODULUS)
    _check_seed(seed)
    n_train = round(train_fraction * p * p) if 0 < train_fraction < 1 else 0
    if not 1 <= n_train <= p * p - 1:
        raise ValueError(
            f"train_fraction={train_fraction}; must leave at least one of the {p * p} "
            "problems on each side"
        )
    order = np.random.default_rng(seed).permutation(p * p)  # (p^2,) problem ids a p + b
    a, b = order // p, order % p
    x = np.stack([a, b, np.full_like(a, p)], axis=1)  # (p^2, 3)
    y = np.full_like(x, IGNORE)
    y[:, 2] = (a + b) % p
    train = _sequences(x[:n_train], y[:n_train])
    val = _sequences(x[n_train:], y[n_train:])
    return Splits(train, val, vocab_size=p + 1)


def repeated_segments(n: int, half_len: int, vocab: int, seed: int) -> Sequences:
    """n sequences of 2 * half_len tokens whose second half repeats the first.

    The first half is uniform over 0..vocab-1; targets are the next token everywhere except
    the last position (nothing follows it), so T = 2 * half_len and y[:, t] = x[:, t + 1].

    Positions for the in-context score (`segment_positions`): "early" targets, t in
    0..half_len-2, are fresh random tokens (best loss ln(vocab)); "late" targets, t in
    half_len..2 half_len-2, repeat the token that followed the same token half_len positions
    earlier, so a model that copies from context predicts them (loss near 0). Position
    half_len-1 (whose target is x[:, 0]) is neither: it is predictable from position alone.

    Args:
        n: number of sequences, >= 1.
        half_len: length of the repeated segment, >= 2.
        vocab: token values 0..vocab-1, 2..2**31-1.
        seed: fixes the tokens.
    """
    _check_int("n", n, 1, MAX_TOKENS)
    _check_int("half_len", half_len, 2, MAX_TOKENS)
    _check_int("vocab", vocab, 2, 2**31 - 1)
    _check_seed(seed)
    _check_size(n, 2 * half_len)
    first = np.random.default_rng(seed).integers(0, vocab, size=(n, half_len))  # (N, L)
    x = np.concatenate([first, first], axis=1)  # (N, T = 2L)
    y = np.full_like(x, IGNORE)
    y[:, :-1] = x[:, 1:]
    return _sequences(x, y)


def segment_positions(half_len: int) -> tuple[slice, slice]:
    """(early, late) target positions of `repeated_segments` sequences (see its docstring)."""
    return slice(0, half_len - 1), slice(half_len, 2 * half_len - 1)


def in_context_score(token_loss: Tensor, half_len: int) -> float:
    """Mean late loss minus mean early loss; about -ln(vocab) for a perfect copier, 0 for none.

    Olsson et al. 2022 define the in-context learning score as the loss at a late token minus
    the loss at an early one; here early and late are the position ranges of
    `segment_positions`, so the score is
        mean_{t in late} loss_t - mean_{t in early} loss_t.

    Args:
        token_loss: (N, T) or (T,) per-position cross-entropy in nats, T = 2 * half_len.
    """
    early, late = segment_positions(half_len)
    loss = token_loss.reshape(-1, token_loss.shape[-1]).double()
    if loss.shape[-1] != 2 * half_len:
        raise ValueError(f"token_loss has T={loss.shape[-1]}; expected {2 * half_len}")
    return (loss[:, late].mean() - loss[:, early].mean()).item()


ADDITION_CHARS = "0123456789+="
"""Addition vocabulary: digit d is id d, "+" is 10, "=" is 11."""


@dataclass(frozen=True)
class AdditionTask:
    """k-digit addition problems "a+b=c" as character ids (see `addition`).

    Attributes:
        train, val: the sequences; T = 3k + 2.
        k: digits per operand.
        reverse: whether the answer is written least significant digit first.
    """

    train: Sequences
    val: Sequences
    k: int
    reverse: bool

    @property
    def vocab_size(self) -> int:
        return len(ADDITION_CHARS)

    @property
    def vocab(self) -> dict[str, int]:
        """Character to id."""
        return {c: i for i, c in enumerate(ADDITION_CHARS)}

    @property
    def prompt_len(self) -> int:
        """Tokens up to and including "=" (2k + 2); the model then writes k + 1 digits."""
        return 2 * self.k + 2

    @property
    def answer_positions(self) -> slice:
        """Columns of y holding the k + 1 answer digits (in written order)."""
        return slice(2 * self.k + 1, 3 * self.k + 2)

    def encode(self, text: str) -> Tensor:
        """(len(text),) int64 ids of a string over `ADDITION_CHARS`."""
        vocab = self.vocab
        bad = [c for c in text if c not in vocab]
        if bad:
            raise ValueError(f"character {bad[0]!r} is not in {ADDITION_CHARS!r}")
        return torch.tensor([vocab[c] for c in text], dtype=torch.int64)

    def decode(self, ids: Sequence[int] | Tensor) -> str:
        """The string of ids in 0..11 (`IGNORE` entries are skipped)."""
        ids = [int(i) for i in ids if int(i) != IGNORE]
        if any(not 0 <= i < self.vocab_size for i in ids):
            raise ValueError(f"ids must be in 0..{self.vocab_size - 1}, got {ids}")
        return "".join(ADDITION_CHARS[i] for i in ids)

    def exact_match(self, pred: Tensor, data: Sequences) -> float:
        """Share of problems with every answer digit right (`exact_match` on data.y)."""
        return exact_match(pred, data.y)

    def digit_accuracy(self, pred: Tensor, data: Sequences) -> Tensor:
        """(k + 1,) float64 accuracy per answer digit by place value: [units, tens, ...].

        Args:
            pred: (N, T) predicted ids under teacher forcing, e.g. `logits.argmax(-1)`.
        """
        if pred.shape != data.y.shape:
            raise ValueError(f"pred shape {tuple(pred.shape)} != {tuple(data.y.shape)}")
        cols = self.answer_positions
        accuracy = (pred[:, cols] == data.y[:, cols]).double().mean(dim=0)  # (k+1,) written
        return accuracy if self.reverse else accuracy.flip(0)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(N, width) decimal digits of values, most significant first, zero padded."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)  # (width,)
    return (values[:, None] // powers) % 10


def addition(
    k: int, n: int, seed: int, *, val_fraction: float = 0.1, reverse: bool = True
) -> AdditionTask:
    """n distinct problems "a+b=c" with a, b uniform in 0..10^k-1, split into train and val.

    Every example has the same length: a and b written with k digits and c = a + b with k + 1
    digits, zero padded ("07+45=052"); with `reverse` the answer is written units first
    ("07+45=250"), the order in which the carries are computed, which small transformers learn
    much faster (Lee et al. 2023). The sequence has 3k + 3 characters; x is all but the last,
    y scores only the k + 1 answer digits (columns `answer_positions`).

    Args:
        k: digits per operand, 1..MAX_ADDITION_DIGITS.
        n: distinct (a, b) pairs in all, 1..10^(2k), n (3k + 2) <= MAX_TOKENS.
        seed: fixes the problems and the split.
        val_fraction: share of the n problems held out (round(val_fraction n)), in [0, 1);
            train keeps at least one.
        reverse: write the answer least significant digit first.
    """
    _check_int("k", k, 1, MAX_ADDITION_DIGITS)
    _check_int("n", n, 1, 10 ** (2 * k))
    _check_seed(seed)
    _check_size(n, 3 * k + 2)
    n_val = round(val_fraction * n) if 0 <= val_fraction < 1 else -1
    if not 0 <= n_val <= n - 1:
        raise ValueError(
            f"val_fraction={val_fraction}; must be in [0, 1) and leave train a problem"
        )
    pairs = np.random.default_rng(seed).choice(10 ** (2 * k), size=n, replace=False)  # (N,)
    a, b = pairs // 10**k, pairs % 10**k
    answer = _digits(a + b, k + 1)
    if reverse:
        answer = answer[:, ::-1]
    plus, equals = np.full((n, 1), 10), np.full((n, 1), 11)
    seq = np.concatenate([_digits(a, k), plus, _digits(b, k), equals, answer], axis=1)
    x = seq[:, :-1]  # (N, T = 3k + 2); seq is (N, 3k + 3)
    y = np.full_like(x, IGNORE)
    y[:, 2 * k + 1 :] = seq[:, 2 * k + 2 :]
    train = _sequences(x[n_val:], y[n_val:])
    val = _sequences(x[:n_val], y[:n_val])
    return AdditionTask(train, val, k=k, reverse=reverse)
