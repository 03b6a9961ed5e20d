"""Tokenizers for the small language model: characters, or byte-level BPE.

- `CharTokenizer`: one id per character of a fixed alphabet (the sorted set of a text's
  characters); exact, tiny, and the classic choice for character-level Shakespeare.
- `BPETokenizer`: byte-level byte-pair encoding (Sennrich et al. 2016, "Neural Machine
  Translation of Rare Words with Subword Units", arXiv:1508.07909; byte-level as in GPT-2,
  Radford et al. 2019) trained with the Hugging Face `tokenizers` library. Every unicode text
  encodes, and decodes back exactly, since the 256 byte symbols are always in the vocabulary.

Both have an optional end token (default `END_TOKEN`, "<|end|>") with its own id `end_id`, the
language model's stop token. Its text inside an encoded string becomes `end_id`, and `end_id`
decodes back to that text, so `decode(encode(s)) == s` for every string `s`.

Both save to JSON; `load_tokenizer(path)` reads either kind back: a char tokenizer's file has
`"kind": "char"`, a BPE file is the library's own `tokenizer.json` (`"model": {"type": "BPE"}`).

The library is imported by absolute name (`import tokenizers`), which is the installed package,
not this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import tokenizers
from tokenizers import decoders, models, pre_tokenizers, trainers

END_TOKEN = "<|end|>"
"""The default end-of-text token (GPT-2 spells it <|endoftext|>)."""

BYTE_ALPHABET_SIZE = 256
"""Byte-level BPE always holds the 256 byte symbols."""

MAX_BPE_VOCAB = 1 << 20

IdsLike = Sequence[int] | np.ndarray


class TextTokenizer(Protocol):
    """What the language model needs from a tokenizer."""

    vocab_size: int
    end_id: int | None

    def encode(self, text: str) -> np.ndarray: ...

    def decode(self, ids: IdsLike) -> str: ...

    def save(self, path: str | Path) -> None: ...


def _as_ids(ids: IdsLike, vocab_size: int) -> np.ndarray:
    """ids as an int64 vector, checked to lie in 0..vocab_size-1."""
    out = np.asarray(ids, dtype=np.int64).reshape(-1)
    if out.size and (out.min() < 0 or out.max() >= vocab_size):
        bad = out[(out < 0) | (out >= vocab_size)][0]
        raise ValueError(f"token id {bad} out of range; vocab_size is {vocab_size}")
    return out


class CharTokenizer:
    """One id per character: ids 0..len(chars)-1 in codepoint order, then the end token.

    Attributes:
        chars: the alphabet, sorted by codepoint, no repeats.
        end_token: text of the end token, or None for none.
        end_id: len(chars) when there is an end token, else None.
        vocab_size: len(chars) (+ 1 with an end token).
    """

    def __init__(self, chars: Iterable[str], end_token: str | None = END_TOKEN) -> None:
        chars = list(chars)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("CharTokenizer: every alphabet entry must be a single character")
        if len(set(chars)) != len(chars) or chars != sorted(chars):
            raise ValueError("CharTokenizer: the alphabet must be sorted and without repeats")
        if not chars:
            raise ValueError("CharTokenizer: the alphabet is empty")
        if end_token is not None and len(end_token) < 2:
            raise ValueError(f"end_token={end_token!r}; needs at least 2 characters")
        self.chars = tuple(chars)
        self.end_token = end_token
        self.end_id = len(chars) if end_token is not None else None
        self.vocab_size = len(chars) + (end_token is not None)
        self._codepoints = np.array([ord(c) for c in chars], dtype=np.int64)  # (V,) sorted

    @classmethod
    def from_text(cls, text: str, end_token: str | None = END_TOKEN) -> CharTokenizer:
        """The alphabet of `text` (the end token's text, if present, is not counted)."""
        if end_token is not None:
            text = text.replace(end_token, "")
        return cls(sorted(set(text)), end_token)

    def _encode_plain(self, text: str) -> np.ndarray:
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        cps = cps.astype(np.int64)  # (N,)
        idx = np.searchsorted(self._codepoints, cps)
        found = self._codepoints[np.minimum(idx, len(self._codepoints) - 1)] == cps
        if not found.all():
            bad = chr(int(cps[~found][0]))
            raise ValueError(f"character {bad!r} is not in the tokenizer's alphabet")
        return idx

    def encode(self, text: str) -> np.ndarray:
        """(N,) int64 ids; raises ValueError naming the first character outside the alphabet."""
        if self.end_token is None:
            return self._encode_plain(text)
        pieces = [self._encode_plain(p) for p in text.split(self.end_token)]
        out = [pieces[0]]
        for piece in pieces[1:]:
            out += [np.array([self.end_id]), piece]
        return np.concatenate(out).astype(np.int64)

    def decode(self, ids: IdsLike) -> str:
        """The text of ids (any sequence of ints in 0..vocab_size-1)."""
        table = [*self.chars, *([self.end_token] if self.end_token is not None else [])]
        return "".join(table[i] for i in _as_ids(ids, self.vocab_size).tolist())

    def save(self, path: str | Path) -> None:
        """JSON {"kind": "char", "chars": "...", "end_token": ...}."""
        record = {"kind": "char", "chars": "".join(self.chars), "end_token": self.end_token}
        Path(path).write_text(json.dumps(record, ensure_ascii=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> CharTokenizer:
        tokenizer = load_tokenizer(path)
        if not isinstance(tokenizer, CharTokenizer):
            raise ValueError(f"{path}: holds a BPE tokenizer, not a char tokenizer")
        return tokenizer

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CharTokenizer):
            return NotImplemented
        return (self.chars, self.end_token) == (other.chars, other.end_token)

    def __hash__(self) -> int:
        return hash((self.chars, self.end_token))

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, end_token={self.end_token!r})"


class BPETokenizer:
    """Byte-level BPE over a `tokenizers.Tokenizer`.

    Attributes:
        tokenizer: the library object (BPE model, ByteLevel pre-tokenizer and decoder).
        end_token: the special token's text, or None.
        end_id: its id (0: special tokens come first), or None.
        vocab_size: ids are 0..vocab_size-1.
    """

    def __init__(self, tokenizer: tokenizers.Tokenizer) -> None:
        special = [t.content for t in tokenizer.get_added_tokens_decoder().values() if t.special]
        if len(special) > 1:
            raise ValueError(f"BPETokenizer: expected at most one special token, got {special}")
        self.tokenizer = tokenizer
        self.end_token = special[0] if special else None
        self.end_id = tokenizer.token_to_id(special[0]) if special else None
        self.vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)

    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int, end_token: str | None = END_TOKEN
    ) -> BPETokenizer:
        """Learn merges on `texts` until the vocabulary holds `vocab_size` tokens.

        The same texts give the same tokenizer (merges are chosen by count, ties broken by
        the library's fixed order). The vocabulary can end smaller than asked when the texts
        run out of pairs to merge.

        Args:
            texts: the training texts (an iterable of strings, read once).
            vocab_size: target size including the 256 bytes and the end token.
            end_token: the special end token's text, or None.
        """
        smallest = BYTE_ALPHABET_SIZE + (end_token is not None)
        if not smallest <= vocab_size <= MAX_BPE_VOCAB:
            raise ValueError(f"vocab_size={vocab_size}; must be in {smallest}..{MAX_BPE_VOCAB}")
        tokenizer = tokenizers.Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[end_token] if end_token is not None else [],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tokenizer.train_from_iterator(texts, trainer=trainer)
        return cls(tokenizer)

    def encode(self, text: str) -> np.ndarray:
        """(N,) int64 ids; the end token's text becomes `end_id`."""
        return np.array(self.tokenizer.encode(text).ids, dtype=np.int64)

    def decode(self, ids: IdsLike) -> str:
        """The text of ids; byte sequences that are not valid UTF-8 decode to U+FFFD."""
        ids = _as_ids(ids, self.vocab_size).tolist()
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def save(self, path: str | Path) -> None:
        """The library's JSON (`tokenizers.Tokenizer.save`)."""
        self.tokenizer.save(str(path))

    @classmethod
    def load(cls, path: str | Path) -> BPETokenizer:
        tokenizer = load_tokenizer(path)
        if not isinstance(tokenizer, BPETokenizer):
            raise ValueError(f"{path}: holds a char tokenizer, not a BPE tokenizer")
        return tokenizer

    def to_json(self) -> str:
        """The library's JSON text: two tokenizers are equal when this is equal."""
        return self.tokenizer.to_str()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BPETokenizer):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size}, end_token={self.end_token!r})"


def load_tokenizer(path: str | Path) -> CharTokenizer | BPETokenizer:
    """The tokenizer saved at `path`, of either kind.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not a saved tokenizer (one line naming the file).
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a saved tokenizer (not JSON: {err})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a saved tokenizer (JSON {type(raw).__name__})")
    if raw.get("kind") == "char":
        chars, end_token = raw.get("chars"), raw.get("end_token")
        if not isinstance(chars, str) or not (end_token is None or isinstance(end_token, str)):
            raise ValueError(f"{path}: damaged char tokenizer (chars must be a string)")
        try:
            return CharTokenizer(chars, end_token)
        except ValueError as err:
            raise ValueError(f"{path}: damaged char tokenizer ({err})") from None
    model = raw.get("model")
    if isinstance(model, dict) and model.get("type") == "BPE":
        try:
            return BPETokenizer(tokenizers.Tokenizer.from_file(str(path)))
        except Exception as err:  # the library raises bare Exception on malformed files
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ValueError(f"{path}: damaged BPE tokenizer ({reason})") from None
    raise ValueError(f'{path}: not a saved tokenizer (no "kind": "char" and no BPE model)')
