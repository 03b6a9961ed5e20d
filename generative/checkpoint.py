"""Atomic, safe checkpoint files.

Written to a temporary file in the same folder, flushed to disk, then renamed over the target,
so a kill at any moment leaves either the old or the new file. Read with
`torch.load(weights_only=True)`: only tensors and plain containers, never pickled code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch


class CheckpointError(Exception):
    """A checkpoint file is missing, truncated, corrupt or of another format."""


def save_atomic(obj: dict[str, Any], path: str | Path) -> None:
    """Write `obj` with `torch.save` to `path` atomically (temp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_safe(path: str | Path, expected_format: str) -> dict[str, Any]:
    """Load a checkpoint written by `save_atomic`; raise `CheckpointError` with the reason."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for truncated or foreign files
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise CheckpointError(
            f"checkpoint {str(path)!r} is corrupt or unreadable ({reason})"
        ) from None
    if not isinstance(obj, dict) or obj.get("format") != expected_format:
        found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(
            f"checkpoint {str(path)!r} has format {found!r}, expected {expected_format!r}"
        )
    return obj
