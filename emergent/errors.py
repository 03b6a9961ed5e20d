"""The one exception type for user mistakes.

The command line prints a `UserError` as a single line and exits with status 2; anything else
is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A mistake in the user's input: config, command line, run directory or checkpoint."""
