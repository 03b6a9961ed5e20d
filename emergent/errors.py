"""The exceptions the command line turns into exit codes.

A `UserError` is printed as a single line with exit status 2; `Interrupted` (Ctrl-C, with a
checkpoint kept) exits 130 with the resume command; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in the user's input: config, command line, run directory or checkpoint."""


class Interrupted(Exception):
    """The user stopped the run (SIGINT); what was computed is kept to resume from."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(str(run_dir))
        self.run_dir = run_dir
