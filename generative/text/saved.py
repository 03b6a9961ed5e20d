"""A trained language model on disk, and the text API agents use: score, generate, freeze.

`save_lm(directory, family, options, model, tokenizer, block_size)` writes three files:

```
lm.json               {"format": "emergent.lm.v1", "family", "options", "vocab_size",
                       "block_size"}: what rebuilds the model from the registry
weights.safetensors   the model's state (weights and buffers; safetensors runs no code)
tokenizer.json        the tokenizer (`generative.text.tokenizers`)
```

`load_lm(directory)` reads them back as a `TextModel`: the model (any registered language model
family: the transformer, the text baselines) with its tokenizer, offering

- `score(texts, context="")`: log p(text | context) per text in nats (a text is read from its
  first token, which is conditioned on, never scored, when there is no context); texts longer
  than the context window are scored in consecutive windows (`generative.text.streams`);
- `generate(prefix, max_new_tokens, temperature, top_k, top_p, seed)`: the sampled
  continuation of a prefix, as text;
- `freeze()` / `unfreeze()`: a fixed model for an agent, or one to fine-tune with
  `generative.train.fit(lm.model, lm.dataset(text), cfg)`; `save(directory)` keeps the result.

Every damaged or missing file is a one-line `SavedLMError` (a `ValueError`) naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import safetensors
import safetensors.torch
import torch
from torch import Tensor

from generative import registry
from generative.base import GenerativeModel
from generative.data import DataInfo, Dataset
from generative.text.streams import sequence_log_probs, token_dataset
from generative.text.tokenizers import BPETokenizer, CharTokenizer, load_tokenizer

__all__ = ["FORMAT", "SavedLMError", "TextModel", "load_lm", "save_lm"]

FORMAT = "emergent.lm.v1"
CONFIG_FILE = "lm.json"
WEIGHTS_FILE = "weights.safetensors"
TOKENIZER_FILE = "tokenizer.json"

Tokenizer = CharTokenizer | BPETokenizer


class SavedLMError(ValueError):
    """A saved language model's file is missing, damaged or does not fit the others."""


def _replace_atomic(path: Path, write: Any) -> None:
    """`write(tmp)` then rename `tmp` over `path`: a kill leaves the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_lm(
    directory: str | Path,
    family: str,
    options: Any,
    model: GenerativeModel,
    tokenizer: Tokenizer,
    block_size: int,
) -> Path:
    """Write `model` (of registered family `family`, built with config `options`), its
    tokenizer and its context window `block_size` (the windows it was trained and is scored
    on) into `directory`; return the directory.

    Raises:
        ValueError: the tokenizer's vocabulary is not the model's.
    """
    directory = Path(directory)
    if tokenizer.vocab_size != model.info.num_categories:
        raise ValueError(
            f"tokenizer of {tokenizer.vocab_size} tokens for a model of {model.info.num_categories}"
        )
    directory.mkdir(parents=True, exist_ok=True)
    # clone: tensors that share memory (tied weights) are stored once each, loaded into both
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    _replace_atomic(directory / TOKENIZER_FILE, lambda tmp: tokenizer.save(tmp))
    _replace_atomic(
        directory / WEIGHTS_FILE,
        lambda tmp: safetensors.torch.save_file(state, str(tmp), metadata={"format": FORMAT}),
    )
    record = {
        "format": FORMAT,
        "family": family,
        "options": dataclasses.asdict(options) if dataclasses.is_dataclass(options) else options,
        "vocab_size": tokenizer.vocab_size,
        "block_size": block_size,
    }
    _replace_atomic(
        directory / CONFIG_FILE, lambda tmp: tmp.write_text(json.dumps(record, indent=1) + "\n")
    )
    return directory


def _read_record(path: Path) -> dict:
    if not path.is_file():
        raise SavedLMError(f"{path}: missing; not a saved language model (see save_lm)")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SavedLMError(
            f"{path}: damaged ({type(err).__name__}); save the model again"
        ) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        found = record.get("format") if isinstance(record, dict) else type(record).__name__
        raise SavedLMError(f"{path}: format {found!r}, expected {FORMAT!r}")
    family = record.get("family")
    if family not in registry.FAMILIES or "tokens" not in registry.FAMILIES[family].data_kinds:
        known = [n for n, f in registry.FAMILIES.items() if "tokens" in f.data_kinds]
        raise SavedLMError(f"{path}: family {family!r} is no language model; known: {known}")
    for key in ("vocab_size", "block_size"):
        value = record.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SavedLMError(f"{path}: {key}={value!r}; must be a positive integer")
    if not isinstance(record.get("options"), dict):
        raise SavedLMError(f"{path}: options must be a mapping of the family's config")
    return record


def load_lm(directory: str | Path, device: str | torch.device = "cpu") -> TextModel:
    """The language model saved in `directory` by `save_lm`, in eval mode on `device`.

    Raises:
        SavedLMError: a file is missing, damaged, or does not fit the others (one line naming
            the file).
    """
    directory = Path(directory)
    record = _read_record(directory / CONFIG_FILE)
    tokenizer_path = directory / TOKENIZER_FILE
    if not tokenizer_path.is_file():
        raise SavedLMError(f"{tokenizer_path}: missing; save the model again")
    try:
        tokenizer = load_tokenizer(tokenizer_path)
    except (OSError, ValueError) as err:
        raise SavedLMError(str(err).splitlines()[0]) from None
    if tokenizer.vocab_size != record["vocab_size"]:
        raise SavedLMError(
            f"{tokenizer_path}: {tokenizer.vocab_size} tokens, but the model has "
            f"{record['vocab_size']} ({CONFIG_FILE})"
        )
    family = registry.FAMILIES[record["family"]]
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in record["options"].items()}
    info = DataInfo("text", (record["block_size"] + 1,), "tokens", record["vocab_size"])
    try:
        model = registry.make(record["family"], info, family.config(**options))
    except (TypeError, ValueError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SavedLMError(f"{directory / CONFIG_FILE}: options rejected ({message})") from None
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise SavedLMError(f"{weights}: missing; save the model again")
    try:
        state = safetensors.torch.load_file(str(weights))
    except (OSError, safetensors.SafetensorError) as err:
        message = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise SavedLMError(f"{weights}: damaged ({message}); save the model again") from None
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        message = " ".join(str(err).split())[:160]
        raise SavedLMError(
            f"{weights}: does not fit the model of {CONFIG_FILE} ({message})"
        ) from None
    model.to(device).eval()
    return TextModel(model, tokenizer, record["block_size"], record["family"], options)


class TextModel:
    """A language model with its tokenizer: text in, text and log-probabilities out.

    Attributes:
        model: the `GenerativeModel` of the token API (`token_log_probs`, `generate`, ...).
        tokenizer: its `CharTokenizer` or `BPETokenizer`.
        block_size: the context window it was trained on, in tokens.
        family: its registry name ("transformer", ...).
        options: its config, as a mapping of the family's config fields.
    """

    def __init__(
        self,
        model: GenerativeModel,
        tokenizer: Tokenizer,
        block_size: int,
        family: str,
        options: dict[str, Any],
    ) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.block_size, self.family, self.options = block_size, family, options

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def encode(self, text: str) -> np.ndarray:
        """(N,) int64 token ids; ValueError names a character the tokenizer cannot encode."""
        return self.tokenizer.encode(text)

    def decode(self, ids: Sequence[int] | np.ndarray | Tensor) -> str:
        return self.tokenizer.decode(np.asarray(ids, dtype=np.int64).reshape(-1))

    def score(
        self, texts: Sequence[str] | Sequence[Sequence[int]], context: str | Sequence[int] = ""
    ) -> Tensor:
        """(S,) float64 log p(text | context) in nats for each text (a string or token ids).

        Without a context the first token of each text is read, not scored: log p(x_2..x_N |
        x_1). With one, every token of the text is scored after the context's tokens (the two
        are encoded apart, so BPE merges never cross the boundary).
        """
        given = self._ids(context)
        sequences = [np.concatenate([given, self._ids(t)]) for t in texts]
        return sequence_log_probs(self.model, sequences, self.block_size, max(len(given), 1))

    def _ids(self, text: str | Sequence[int]) -> np.ndarray:
        if isinstance(text, str):
            return self.encode(text)
        return np.asarray(text, dtype=np.int64).reshape(-1)

    def generate(
        self,
        prefix: str,
        max_new_tokens: int = 200,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int = 0,
    ) -> str:
        """The sampled continuation of `prefix` (the new text only): up to `max_new_tokens`
        tokens drawn one at a time (`temperature` 0 is greedy), ending before the tokenizer's
        end token if the model emits it; the same seed gives the same text.

        Raises:
            ValueError: an empty prefix (the first token is always conditioned on), or a
                setting out of range.
        """
        ids = self.encode(prefix)
        if len(ids) == 0:
            raise ValueError("prefix is empty; give at least one token of text (e.g. '\\n')")
        gen = torch.Generator().manual_seed(seed)
        start = torch.as_tensor(ids, dtype=torch.long)[None]  # (1, T0)
        training = self.model.training
        self.model.eval()
        try:
            out = self.model.generate(
                start,
                max_new_tokens,
                temperature=temperature,
                top_k=top_k,
                top_p=top_p,
                stop_token=self.tokenizer.end_id,
                gen=gen,
            )
        finally:
            self.model.train(training)
        new = out[0, len(ids) :].cpu()
        end = self.tokenizer.end_id
        if end is not None and (new == end).any():
            new = new[: int((new == end).nonzero()[0, 0])]
        return self.decode(new)

    def freeze(self) -> TextModel:
        """No gradients to any weight, eval mode: a fixed model for an agent."""
        self.model.requires_grad_(False)
        self.model.eval()
        return self

    def unfreeze(self) -> TextModel:
        """Gradients to every weight again, for fine-tuning (`fit` sets train mode)."""
        self.model.requires_grad_(True)
        return self

    def dataset(self, train_text: str, val_text: str | None = None) -> Dataset:
        """Text to fine-tune on, as `fit` takes it: random windows of block_size + 1 tokens."""
        train = self.encode(train_text)
        val = self.encode(val_text) if val_text is not None else train
        return token_dataset(train, val, self.tokenizer.vocab_size, self.block_size)

    def save(self, directory: str | Path) -> Path:
        """Write the model (fine-tuned or not) as `save_lm` does."""
        config = registry.FAMILIES[self.family].config(**self.options)
        return save_lm(directory, self.family, config, self.model, self.tokenizer, self.block_size)
