"""The one exception type for user mistakes: the CLI prints its message as one line."""


class UserError(Exception):
  """A mistake in the command, config, data or plugin that the user can fix.

  The message names the problem and the fix; `main` prints it and exits 2.
  """


class DatasetUnavailable(UserError):
  """A known dataset that is not prepared on this machine; says how to prepare it."""
