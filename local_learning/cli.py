"""What every command line of the project shares: the XLA:CPU flags, quiet logs,
and one `error:` line with exit status 2 for every mistake (a UserError, a bad flag);
a run stopped by SIGTERM or Ctrl-C is one `stopped:` line and exit status 128 + the
signal (130 for Ctrl-C, 143 for SIGTERM).

Ctrl-C is one line and exit status 130; a full disk one line naming the file and the
free space. Logs are warnings and errors only, besides the commands' own progress lines;
absl's `--verbosity=0` brings back JAX's and orbax's INFO lines.
"""
import errno
import os
import shutil
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
    print('interrupted; re-run the same command to resume from the last checkpoint', file=sys.stderr)
    sys.exit(130)
  except OSError as e:
    if e.errno not in (errno.ENOSPC, errno.EDQUOT):
      raise
    fail(f'no space left to write {e.filename or "a file"} ({_free(e.filename)}); free some space, then re-run '
         'the same command to resume from the last checkpoint')


def _free(path):
  """'N MiB free' on the file system of path (or of the nearest existing folder above it)."""
  folder = os.path.abspath(path or '.')
  while not os.path.exists(folder):
    folder = os.path.dirname(folder)
  return f'{shutil.disk_usage(folder).free / 2**20:.0f} MiB free there'


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
  """Prints the one `error:` line and exits 2. In a real process (not a test's captured stderr), what
  library threads print while the interpreter shuts down (orbax's event loop after a damaged
  checkpoint) goes to /dev/null, so the line stays the only one."""
  print(f'error: {message}', file=sys.stderr)
  sys.stderr.flush()
  if sys.stderr is sys.__stderr__:
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())
  sys.exit(2)


def _parse_flags(argv):
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(f'{e}; see --help')
