"""SIGTERM and SIGINT (Ctrl-C) while a run trains: stop after the round, checkpointed.

Inside `Signals()`, once `catch()` is called (the training loop starts), the
first SIGTERM or SIGINT is only recorded (`received`), so the trainer
finishes the round it is in, checkpoints and stops; the process's own
handlers come back at once, so a second signal acts as usual (Ctrl-C twice:
KeyboardInterrupt now, without a checkpoint of that round), as do signals
before `catch()` and after the block. Handlers can be set from the main
thread only; elsewhere signals act as usual.
"""
import signal
import threading

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Signals:
  """Context manager: `received` is the first signal caught (a signal.Signals), or None."""

  def __init__(self):
    self.received = None
    self._previous = {}

  def __enter__(self):
    return self

  def catch(self):
    """From now until the block ends, the first signal is recorded, not acted on."""
    if threading.current_thread() is threading.main_thread():
      self._previous = {s: signal.signal(s, self._catch) for s in SIGNALS}

  def __exit__(self, *exc):
    self._restore()
    return False

  def _catch(self, signum, frame):
    del frame
    self.received = signal.Signals(signum)
    self._restore()

  def _restore(self):
    for s, handler in self._previous.items():
      signal.signal(s, handler)
    self._previous = {}
