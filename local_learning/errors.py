"""The one exception type for user mistakes: the CLI prints its message as one line."""


class UserError(Exception):
  """A mistake in the command, config, data or plugin that the user can fix.

  The message names the problem and the fix; `main` prints it and exits 2.
  """


class DatasetUnavailable(UserError):
  """A known dataset that is not prepared on this machine; says how to prepare it."""


class Stopped(Exception):
  """A run stopped by SIGTERM or SIGINT after its round; `main` prints the message as one line and
  exits with `code` (128 + the signal: 143 for SIGTERM, 130 for Ctrl-C)."""

  def __init__(self, message, code):
    super().__init__(message)
    self.code = code
