"""What a table run shows: one line per cell, and each cell's own output in its folder (CELL/table.log).

Everything a cell prints while it runs (the trainer's epoch lines, in-round
progress, a tuned cell's trials) goes to CELL/table.log, appended, and to the
terminal too only with verbose. When a cell ends, one line says how: its
result, its time, the table's elapsed time and an ETA (the mean time of the
cells trained so far, times the cells left to train). On a terminal (a TTY)
the running cell also has a live line, redrawn in place every second: its
elapsed time, the table's and its ETA, and the cell's latest output line; elsewhere (a pipe, a file, CI) only
the finished lines print, so `make run | tee` stays one line per cell.
"""
import contextlib
import datetime
import io
import os
import shutil
import sys
import threading
import time
from typing import Generator, TextIO

LOG = 'table.log'   # a cell's output, in its folder (ownership.IGNORED: never deleted by --overwrite)
REDRAW_SECONDS = 1.0


class Progress:
  """A table's progress on `stream` (default sys.stdout): `to_train` cells will train."""

  def __init__(self, to_train: int, verbose: bool = False, stream: TextIO | None = None):
    self.stream = stream or sys.stdout
    self.live = bool(getattr(self.stream, 'isatty', lambda: False)())
    self.verbose, self.left = verbose, to_train
    self.start = time.monotonic()
    self.times = []                       # seconds of each cell trained so far
    self._lock = threading.Lock()
    self._status = ''                     # the live line, '' when none is shown

  def say(self, line: str):
    """Prints a line of its own (a skipped cell, the table's first line)."""
    with self._lock:
      self._write_line(line)

  @contextlib.contextmanager
  def cell(self, label: str, folder: str) -> Generator['Running', None, None]:
    """Runs the block with stdout going to folder/table.log (and the terminal if verbose); the block calls
    running.done(text) with the cell's result. An exception out of the block prints where the cell's
    output is and propagates."""
    running = Running(self, label, folder)
    stop = threading.Event()
    ticker = threading.Thread(target=self._tick, args=(running, stop), daemon=True) if self.live else None
    if ticker:
      ticker.start()
    finished = False
    try:
      with contextlib.redirect_stdout(running):
        yield running
      finished = True
    finally:
      stop.set()
      if ticker:
        ticker.join()
      running.close()
      self._end(running, (running.text or 'done') if finished else f'stopped; its output: {running.log_path}')

  def _end(self, running: 'Running', text: str):
    seconds = time.monotonic() - running.start
    if running.timed:
      self.times.append(seconds)
    self.left = max(0, self.left - 1)
    elapsed = time.monotonic() - self.start
    eta = f', ETA {duration(self.left * self._mean())}' if self.left and self.times else ''
    with self._lock:
      if self.live and self._status:
        self.stream.write('\r\x1b[K')
      self._status = ''
      self._write_line(f'{running.label}: {text}; {duration(seconds)} (table {duration(elapsed)}{eta})')

  def _mean(self) -> float:
    return sum(self.times) / len(self.times)

  def _tick(self, running: 'Running', stop: threading.Event):
    """Redraws the live line until stop is set."""
    while not stop.wait(0 if not self._status else REDRAW_SECONDS):
      self.redraw(running)

  def redraw(self, running: 'Running'):
    """The running cell's live line, on a terminal: its label, elapsed time and latest output line."""
    if not self.live:
      return
    width = shutil.get_terminal_size((100, 20)).columns - 1
    seconds = time.monotonic() - running.start
    text = f'{running.label}: running {duration(seconds)} (table {duration(time.monotonic() - self.start)}'
    if self.times:                        # this cell and those after it, at the mean time of those trained
      text += f', ETA {duration(max(0.0, self.left * self._mean() - seconds))}'
    text += ')'
    if running.latest:
      text += f' | {running.latest.strip()}'
    with self._lock:
      self._status = text[:width]
      self.stream.write('\r\x1b[K' + self._status)
      self.stream.flush()

  def echo(self, line: str):
    """A cell's output line on the terminal (verbose), above the live line."""
    with self._lock:
      self._write_line(line)

  def _write_line(self, line: str):
    """Writes a whole line where the live line is, then the live line again below it. Call under the lock."""
    if self.live and self._status:
      self.stream.write('\r\x1b[K')
    self.stream.write(line + '\n')
    if self.live and self._status:
      self.stream.write(self._status)
    self.stream.flush()


class Running(io.TextIOBase):
  """The running cell: a text stream (its stdout) writing folder/table.log, and its result text."""

  encoding = 'utf-8'

  def __init__(self, progress: Progress, label: str, folder: str):
    super().__init__()
    self.progress, self.label, self.folder = progress, label, folder
    self.log_path = os.path.join(folder, LOG)
    self.start = time.monotonic()
    self.text = ''
    self.timed = True
    self.latest = ''
    self._partial = ''
    self._log = None

  def done(self, text: str, timed: bool = True):
    """The cell's result, for its finished line ('97.87 ± 0.13', 'unavailable: ...'); timed=False keeps
    its time out of the ETA (a cell left to another process)."""
    self.text, self.timed = text, timed

  def write(self, text: str) -> int:  # type: ignore[override]
    self._partial += text
    *lines, self._partial = self._partial.split('\n')
    for line in lines:
      self._line(line)
    return len(text)

  def flush(self):
    if self._partial:
      self._line(self._partial)
      self._partial = ''
    if self._log:
      self._log.flush()

  def isatty(self) -> bool:
    return False

  def close(self):
    self.flush()
    if self._log:
      self._log.close()
      self._log = None
    super().close()

  def _line(self, line: str):
    if self._log is None:                 # opened at the first line: a cell that prints nothing writes no log
      os.makedirs(self.folder, exist_ok=True)
      self._log = open(self.log_path, 'a')
      self._log.write(f'--- {datetime.datetime.now().isoformat(timespec="seconds")} {self.label}\n')
    self._log.write(line + '\n')
    self.latest = line or self.latest
    if self.progress.verbose:
      self.progress.echo(line)
    self.progress.redraw(self)


def duration(seconds: float) -> str:
  """'42s', '3m05s', '1h02m'."""
  minutes, seconds = divmod(round(seconds), 60)
  hours, minutes = divmod(minutes, 60)
  return f'{hours}h{minutes:02d}m' if hours else f'{minutes}m{seconds:02d}s' if minutes else f'{seconds}s'
