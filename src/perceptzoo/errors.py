"""The one error type users see.

Anything that is the user's to fix (an unknown model, a missing run folder, a shape a model
cannot take, a non-numeric option) raises `UserError` with a message that says what was wrong
and what to do. The CLI prints it on one line and exits with status 2; library callers can
catch it (it is also a `ValueError`).
"""


class UserError(ValueError):
    """Bad input from the user: the message says what to do instead."""
