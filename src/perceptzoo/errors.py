"""The one error type users see.

Anything that is the user's to fix (an unknown model, a missing run folder, a shape a model
cannot take, a non-numeric option) raises `UserError` with a message that says what was wrong
and what to do. The CLI prints it on one line and exits with status 2; library callers can
catch it (it is also a `ValueError`).
"""


class UserError(ValueError):
    """Bad input from the user: the message says what to do instead."""


class RunFinished(UserError):
    """`--resume` of a run that already reached its last step: nothing to do."""


class Interrupted(Exception):  # noqa: N818  (it is not an error: the user asked for it)
    """Training stopped by SIGINT or SIGTERM after writing a checkpoint; the message says how
    to resume."""


class Diverged(UserError):
    """A non-finite loss or gradient: the message names the step, the loss terms and the last
    checkpoint, which is left intact."""
