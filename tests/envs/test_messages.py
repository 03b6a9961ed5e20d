"""Messages: lengths with and without end token, padding after it, and the channel modes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from envs.messages import (
    CHANNELS,
    EOS,
    SILENT,
    check_channel,
    heard,
    message_lengths,
    pad_after_end,
)


def reference_length(row: list[int], end_token: bool) -> int:
    """The tokens said (not SILENT), up to and including the first EOS with an end token."""
    said = [t for t in row if t != SILENT]
    if end_token and EOS in said:
        return said.index(EOS) + 1
    return len(said)


@st.composite
def spoken_messages(draw: st.DrawFn) -> np.ndarray:
    """(N, L) messages as worlds write them: a spoken prefix, then SILENT (not yet spoken)."""
    L, N, V = draw(st.integers(1, 6)), draw(st.integers(1, 8)), draw(st.integers(1, 5))
    rows = []
    for _ in range(N):
        k = draw(st.integers(0, L))
        rows.append(draw(st.lists(st.integers(0, V - 1), min_size=k, max_size=k)))
        rows[-1] += [SILENT] * (L - k)
    return np.array(rows, dtype=np.int64)


def test_lengths_by_hand():
    messages = np.array([[3, 0, 0], [3, 4, 2], [0, 0, 0], [2, SILENT, SILENT], [SILENT] * 3])
    # the end token counts (EGG's find_lengths); no end token: L; SILENT is not said
    assert message_lengths(messages).tolist() == [2, 3, 1, 1, 0]
    assert message_lengths(messages, end_token=False).tolist() == [3, 3, 3, 1, 0]
    assert message_lengths(messages).dtype == np.int64


@given(spoken_messages())
def test_lengths_match_the_reference(messages):
    for end_token in (True, False):
        expected = [reference_length(row, end_token) for row in messages.tolist()]
        assert message_lengths(messages, end_token=end_token).tolist() == expected


@given(spoken_messages())
def test_padding_after_the_end_token(messages):
    padded = pad_after_end(messages)
    assert pad_after_end(padded).tolist() == padded.tolist()  # idempotent
    np.testing.assert_array_equal(message_lengths(padded), message_lengths(messages))
    np.testing.assert_array_equal(padded == SILENT, messages == SILENT)  # SILENT stays
    for row, out, n in zip(messages, padded, message_lengths(messages), strict=True):
        assert out[:n].tolist() == row[:n].tolist()  # the message itself is untouched
        assert set(out[n:].tolist()) <= {EOS, SILENT}  # then only EOS (or SILENT)


def test_padding_by_hand():
    messages = np.array([[3, 0, 2, SILENT], [0, 4, 4, 4], [1, 2, 3, 4]])
    expected = [[3, 0, 0, SILENT], [0, 0, 0, 0], [1, 2, 3, 4]]
    assert pad_after_end(messages).tolist() == expected
    assert pad_after_end(messages[None]).tolist() == [expected]  # any leading axes


def test_lengths_of_empty_messages():
    assert message_lengths(np.zeros((3, 0), dtype=np.int64)).tolist() == [0, 0, 0]


def test_silent_before_the_end_token_is_not_counted():
    # said: (0, 2), ended by its first token: length 1
    assert message_lengths(np.array([[SILENT, 0, 2]])).tolist() == [1]


def test_open_and_cut_channels():
    rng = np.random.default_rng(0)
    tokens = np.array([[1, 0, SILENT], [3, 2, 2]])
    assert heard("open", tokens, 4, rng) is tokens
    cut = heard("cut", tokens, 4, rng)
    assert cut.shape == tokens.shape and cut.dtype == tokens.dtype
    assert (cut == SILENT).all()


def test_scrambled_channel_keeps_silence_and_is_uniform_whatever_was_said():
    V, n = 5, 20_000
    rng = np.random.default_rng(1)
    said = np.concatenate([np.zeros(n // 2, np.int64), np.full(n // 2, 3)])  # two messages
    tokens = np.stack([said, np.full(n, SILENT)], axis=1)  # (n, 2), second not yet spoken
    got = heard("scrambled", tokens, V, rng)
    assert got.dtype == tokens.dtype and (got[:, 1] == SILENT).all()
    # each heard token uniform on [0, V) after either sent token: frequency within 4 sd of
    # 1/V (sd = sqrt((1/V)(1 - 1/V) / (n/2)) ~ 0.0057), so nothing of the sent token is left
    sd = np.sqrt((1 / V) * (1 - 1 / V) / (n // 2))
    for sent in (0, 3):
        frequency = np.bincount(got[said == sent, 0], minlength=V) / (n // 2)
        assert len(frequency) == V
        np.testing.assert_allclose(frequency, 1 / V, atol=4 * sd)
    again = heard("scrambled", tokens, V, np.random.default_rng(1))
    np.testing.assert_array_equal(got, again)  # the rng decides, nothing else


def test_unknown_channel_modes_are_one_line_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="open, cut, scrambled"):
        heard("noisy", np.zeros(3, np.int64), 4, rng)
    for mode in CHANNELS:
        check_channel("signalling", mode)
    with pytest.raises(ValueError, match=r"signalling: channel='closed'; must be one of open"):
        check_channel("signalling", "closed")
