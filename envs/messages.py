"""Messages between agents: the one definition of tokens, end token, lengths and channel modes.

Every world with a channel (Signalling, speaker-listener, reference, the cheap-talk grid worlds),
the talking agents (`agents.talking`) and the communication metrics read these, so that message
length, the end token and the vocabulary mean the same thing everywhere (off-by-one lengths and
an end token counted in one place and not another are a frequent source of bugs in EGG's issues).

Conventions:
    A message is a sequence of at most L tokens, each an integer in [0, V). With an end token,
    token `EOS` = 0 ends the message (EGG's convention): the positions after the first 0 are
    padding, always 0, and the length counts the end token (`message_lengths`). `SILENT` = -1
    marks a position where nothing was said or heard (not yet spoken, or a cut channel).

Channel modes, the ablation every claim about communication needs (Lowe et al. 2019, "On the
pitfalls of measuring emergent communication", AAMAS): "open" delivers messages as sent; "cut"
delivers nothing (every heard token is SILENT); "scrambled" replaces every token that was said
by one drawn uniformly from [0, V), independently of the speaker's state (the padding after an
end token included, so a scrambled message need not end where the sent one did): the receiver
gets tokens that carry no information.
"""

from __future__ import annotations

import numpy as np

EOS = 0
"""The end token: the first 0 of a message ends it; later positions are padded with 0."""
SILENT = -1
"""A position where nothing was said (not yet spoken) or nothing was heard (cut channel)."""
CHANNELS = ("open", "cut", "scrambled")
"""The channel modes a world with messages accepts as its `channel` setting."""


def check_channel(world: str, value: object) -> None:
    """Raise a one-line ValueError unless `value` is one of `CHANNELS`."""
    if value not in CHANNELS:
        raise ValueError(f"{world}: channel={value!r}; must be one of {', '.join(CHANNELS)}")


def message_lengths(messages: np.ndarray, end_token: bool = True) -> np.ndarray:
    """Lengths (N,) of messages (N, L): with `end_token`, the position of the first EOS plus one
    (the end token counts, as in EGG's `find_lengths`), L where there is none; without, L.
    SILENT positions are not counted (a message still being spoken)."""
    messages = np.asarray(messages)
    said = messages != SILENT
    if not end_token:
        return said.sum(axis=1).astype(np.int64)
    upto = np.cumsum(np.cumsum(messages == EOS, axis=1) > 0, axis=1) <= 1  # up to the first EOS
    return (said & upto).sum(axis=1).astype(np.int64)


def pad_after_end(messages: np.ndarray) -> np.ndarray:
    """Messages (..., L) with every token after the first EOS set to EOS; SILENT stays."""
    messages = np.asarray(messages)
    ended = np.cumsum(messages == EOS, axis=-1) > 0
    after = np.concatenate([np.zeros_like(ended[..., :1]), ended[..., :-1]], axis=-1)
    return np.where(after & (messages != SILENT), EOS, messages)


def heard(mode: str, tokens: np.ndarray, vocab_size: int, rng: np.random.Generator) -> np.ndarray:
    """What receivers get of `tokens` (any shape, SILENT where nothing was said) on a channel
    in `mode` (see the module docstring); open returns `tokens` itself."""
    if mode == "open":
        return tokens
    if mode == "cut":
        return np.full_like(tokens, SILENT)
    if mode == "scrambled":
        random = rng.integers(0, vocab_size, size=np.shape(tokens), dtype=np.int64)
        return np.where(tokens == SILENT, SILENT, random).astype(np.asarray(tokens).dtype)
    raise ValueError(f"channel={mode!r}; must be one of {', '.join(CHANNELS)}")


def one_hot(tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    """(..., V) float32 one-hot of tokens (...), all zeros where SILENT: how every world shows a
    heard token in an observation (nothing heard is no token)."""
    return (np.asarray(tokens)[..., None] == np.arange(vocab_size)).astype(np.float32)
