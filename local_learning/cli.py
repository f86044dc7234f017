"""What every command line of the project shares: the XLA:CPU flags, quiet logs,
and one `error:` line with exit status 2 for every mistake (a UserError, a bad flag).

Logs are warnings and errors only, besides the commands' own progress lines;
absl's `--verbosity=0` brings back JAX's and orbax's INFO lines.
"""
import sys

from absl import app, flags, logging

from local_learning import cpu_flags
from local_learning.errors import UserError


def run(main, argv=None):
  """app.run(main) with the project's flags, logging and error handling."""
  cpu_flags.apply()

  def quiet_main(args):
    if not flags.FLAGS['verbosity'].present:
      logging.set_verbosity(logging.WARNING)
    return main(args)

  try:
    app.run(quiet_main, argv=argv, flags_parser=_parse_flags)
  except UserError as e:
    fail(e)


def split_overrides(argv, prefix='--config.'):
  """(argv without the --config.FIELD=VALUE arguments, {FIELD: VALUE text}); one without a value fails."""
  rest, overrides = [], {}
  for arg in argv:
    if arg.startswith(prefix):
      field, sep, text = arg[len(prefix):].partition('=')
      if not sep:
        fail(f'{arg}: a config override needs a value, as in {prefix}num_epochs=3')
      overrides[field] = text
    else:
      rest.append(arg)
  return rest, overrides


def fail(message):
  print(f'error: {message}', file=sys.stderr)
  sys.exit(2)


def _parse_flags(argv):
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(f'{e}; see --help')
