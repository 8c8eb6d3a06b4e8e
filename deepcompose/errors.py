"""The one exception type users see: bad input, unsupported request, past a limit.

The CLI turns it into one line ``error: ...`` on stderr and exit status 2;
the server turns it into a 400 with a JSON error.
"""


class DeepcomposeError(ValueError):
    """Bad or unsupported input. The message is one line, meant for the user."""
