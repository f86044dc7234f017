"""What every command line of the project shares: the XLA:CPU flags, quiet logs,
and one `error:` line with exit status 2 for every mistake (a UserError, a bad flag);
a run stopped by SIGTERM or Ctrl-C is one `stopped:` line and exit status 128 + the
signal (130 for Ctrl-C, 143 for SIGTERM).

Logs are warnings and errors only, besides the commands' own progress lines;
absl's `--verbosity=0` brings back JAX's and orbax's INFO lines.
"""
import sys

from absl import app, flags, logging

from local_learning import cpu_flags
from local_learning.errors import Stopped, UserError


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
  except Stopped as e:
    print(f'stopped: {e}', file=sys.stderr)
    sys.exit(e.code)
  except KeyboardInterrupt:
    print('stopped: Ctrl-C', file=sys.stderr)
    sys.exit(130)


def fail(message):
  print(f'error: {message}', file=sys.stderr)
  sys.exit(2)


def _parse_flags(argv):
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(f'{e}; see --help')
