"""One process per workdir: an exclusive OS lock on WORKDIR/local_learning.lock.

The lock is `fcntl.flock` on the open file, so it dies with the process (a
SIGKILL leaves nothing stale to clean up); the file itself stays and names its
last holder (pid, host, start time), which a refused second process prints.
"""
import datetime
import fcntl
import os
import socket

from local_learning.errors import UserError

NAME = 'local_learning.lock'


class Busy(UserError):
  """Another process holds the workdir; holder: what the lock file says of it (pid, host, start)."""

  def __init__(self, message: str, holder: str = ''):
    super().__init__(message)
    self.holder = holder


class Lock:
  """The held lock of one folder; release() (or the process's end) lets it go."""

  def __init__(self, folder):
    self.path = os.path.join(folder, NAME)
    self._file = open(self.path, 'a+')    # pylint: disable=consider-using-with  (held until release)
    try:
      fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      self._file.seek(0)
      holder = self._file.read().strip() or 'a process that has not yet written its name'
      self._file.close()
      raise Busy(f'{folder} is in use by another local-learning run ({holder}); wait for it to end, '
                 'or use another --workdir', holder) from None
    self._file.seek(0)
    self._file.truncate()
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
    self._file.write(f'pid {os.getpid()} on {socket.gethostname()} since {started}')
    self._file.flush()

  def release(self):
    if not self._file.closed:
      fcntl.flock(self._file, fcntl.LOCK_UN)
      self._file.close()
