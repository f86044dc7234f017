"""Where a study lives: Optuna's storages, chosen by a URL.

  ''                      sqlite:///STUDY_DIR/study.db (embedded, nothing to start)
  sqlite:///PATH, postgresql://..., mysql://...   any SQLAlchemy URL: Optuna's RDBStorage
  journal:PATH            Optuna's JournalStorage on a file (JournalFileBackend: a shared filesystem)

RDB storages run Optuna's heartbeat: a trial whose process stopped beating
(killed) is marked FAIL after `grace` seconds and `stale_callback` re-queues
it. The journal storage has no heartbeat (Optuna's): a trial of a killed
process stays RUNNING there (see tuning.study).
"""
import inspect
import os
import time

import optuna

from local_learning.errors import UserError

JOURNAL = 'journal:'
SQLITE_TIMEOUT = 60      # seconds a process waits for SQLite's lock (several processes, one file)


def url(storage, folder):
  """The storage URL of a study in `folder`: `storage`, or the default SQLite file there."""
  return storage or f'sqlite:///{os.path.abspath(os.path.join(folder, "study.db"))}'


OPEN_ATTEMPTS = 5           # two processes creating a new SQLite study's tables race; the loser retries


def open_storage(storage_url, heartbeat_seconds, grace_seconds, stale_callback):
  """An Optuna storage for storage_url (see the module docstring); a bad URL is a UserError."""
  if storage_url.startswith(JOURNAL):
    path = storage_url[len(JOURNAL):]
    if not path:
      raise UserError('--storage=journal:PATH needs a file path, e.g. journal:runs/study.log')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
  if '://' not in storage_url:
    raise UserError(f'--storage={storage_url!r} is not a storage URL; use sqlite:///PATH, postgresql://..., '
                    'or journal:PATH')
  if storage_url.startswith('sqlite:///'):
    os.makedirs(os.path.dirname(os.path.abspath(storage_url[len('sqlite:///'):])), exist_ok=True)
  callback = ('heartbeat_stale_trial_callback'
              if 'heartbeat_stale_trial_callback' in inspect.signature(optuna.storages.RDBStorage).parameters
              else 'failed_trial_callback')       # optuna < 4.9
  engine = {'connect_args': {'timeout': SQLITE_TIMEOUT}} if storage_url.startswith('sqlite') else None
  for attempt in range(OPEN_ATTEMPTS):
    try:
      return optuna.storages.RDBStorage(storage_url, engine_kwargs=engine, heartbeat_interval=heartbeat_seconds,
                                        grace_period=grace_seconds, **{callback: stale_callback})
    except Exception as e:  # pylint: disable=broad-except  (SQLAlchemy: a missing driver, a bad URL)
      if _racing(e) and attempt < OPEN_ATTEMPTS - 1:     # another process is creating the same schema
        time.sleep(0.2 * (attempt + 1))
        continue
      raise UserError(f'cannot open the study storage {storage_url!r}: {type(e).__name__}: {e}') from None
  raise AssertionError('unreachable')


def _racing(error):
  """Whether error is what two processes creating one new database's tables at once get."""
  text = str(error).lower()
  return any(s in text for s in ('unique constraint', 'already exists', 'database is locked', 'alembic_version'))


def has_heartbeat(storage):
  """Whether Optuna fails this storage's stale trials (its heartbeat: the RDB storages)."""
  return isinstance(storage, optuna.storages.RDBStorage)


def without_path(storage_url, root):
  """storage_url with an absolute path under `root` made relative (manifests carry no user paths)."""
  root = os.path.abspath(root) + os.sep
  return storage_url.replace(root, '')
