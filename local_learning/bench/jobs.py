"""--jobs: more processes of one table command, sharing its cells through their locks.

Each process walks the same cells in the same order and trains the next one
no process holds (train_and_evaluate locks a cell's folder first, and a cell
another process holds is left to it: runner.run_table's 'busy'), so every
cell trains once, in one process. On a CPU, where a small cell's time goes to
Python (tracing, lowering) on one core, two processes keep two cores busy.
"""
import contextlib
import subprocess
import sys
import tempfile
from typing import Generator, Sequence

from local_learning.errors import UserError

COMMAND = 'from local_learning.bench import command; command.run()'


@contextlib.contextmanager
def others(count: int, args: Sequence[str]) -> Generator[None, None, None]:
  """Runs `count` more processes of the table command with these arguments (`--jobs=1 --train_only` added)
  while the block runs, and waits for them after it. One that fails is a UserError with its last line;
  an exception out of the block stops them (SIGTERM: each checkpoints its cell and stops)."""
  command = [sys.executable, '-c', COMMAND, *args, '--jobs=1', '--train_only']
  with contextlib.ExitStack() as files:
    started = []
    try:
      for _ in range(count):
        errors = files.enter_context(tempfile.TemporaryFile('w+'))     # read once the process has ended
        started.append((subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, text=True), errors))
      yield
    except BaseException:
      for process, _ in started:
        process.terminate()
      for process, _ in started:
        process.wait()
      raise
    running = sum(process.poll() is None for process, _ in started)
    if running:
      print(f'waiting for {running} other process{"es" if running > 1 else ""} of --jobs to finish its cell',
            flush=True)
    failed = []
    for number, (process, errors) in enumerate(started, 2):
      if process.wait():
        errors.seek(0)
        last = (errors.read().strip().splitlines() or ['(no output)'])[-1]
        failed.append(f'job {number} of the table command exited with status {process.returncode}: {last}')
  if failed:
    raise UserError('; '.join(failed))
