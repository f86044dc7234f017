"""A run's output folder: config.json, metrics.jsonl, summary.json, checkpoints/.

config.json is written when a run starts (the config and the run's
provenance); summary.json last and atomically: its presence means finished.
The folder is the project's only if its marker says so (ownership.py: the
marker records every output the project writes, and --overwrite deletes only
those); files there that the project did not write are never deleted or
overwritten. One process at a time writes a folder (lock.py). A folder
holding a run of another config, or of this config made with other code, is
refused unless overwriting. In a multi-host run only process 0 writes these
files (orbax coordinates the checkpoints itself).
"""
import contextlib
import functools
import json
import os

import jax

from local_learning import ownership, provenance, tasks
from local_learning.errors import UserError
from local_learning.files import read_json, write_atomic
from local_learning.lock import Lock

# Config fields added after runs were made, and the value a run made before them had.
ADDED_FIELDS = {'layer_parallel': 1, 'steps_per_call': 0, 'tensorboard': False, 'matching': 'cosine',
                'train_examples': 0, 'test_examples': 0, 'validation_examples': 0,
                'diagnostics': {'bp_alignment_every': 0}, 'early_stopping_patience': 0, 'schedule_epochs': 0,
                'dataset': {'pixels': 'standardize'},
                'model': {'param': 'flax', 'output_multiplier': 1.0, 'groups': 1},   # a section's fields: where absent
                'rule': {'energy_weights': [], 'activities': 'pre'}}
# Fields that set how a run is carried out, not what it computes: a run is the same run whatever their values
# (runs made before checkpoint_seconds had checkpoint_every 1, now 0 by default).
HOW_FIELDS = ('checkpoint_every', 'checkpoint_seconds', 'compilation_cache')
FIX = 'use another --workdir, or --overwrite to replace it'
__all__ = ['ADDED_FIELDS', 'FIX', 'Workdir', 'read_json', 'stale', 'write_atomic']


def _with_added_fields(existing, wanted):
  """existing (a config.json) with ADDED_FIELDS' values where it lacks a field that `wanted` has;
  a dict value of a section present in both fills that section's missing fields only."""
  out = dict(existing)
  for key, value in ADDED_FIELDS.items():
    if key not in wanted:
      continue
    if key not in out:
      out[key] = value
    elif isinstance(value, dict) and isinstance(out[key], dict) and isinstance(wanted[key], dict):
      out[key] = {**{k: v for k, v in value.items() if k in wanted[key]}, **out[key]}
  return out


def _without_how_fields(config):
  return {k: v for k, v in config.items() if k not in HOW_FIELDS}


def _primary_only(method):
  """The method runs on process 0 only; other processes of a multi-host run skip it."""

  @functools.wraps(method)
  def run(*args, **kwargs):
    if jax.process_index() == 0:
      method(*args, **kwargs)

  return run


class Workdir:
  """One run's files; metrics.jsonl counts the `task`'s rounds."""

  def __init__(self, path, task):
    self.path, self.task = path, task
    self.record = None        # ownership.Record: what the project wrote here (check() reads it, start() makes it)
    self._tensorboard = None
    self._lock = None

  def file(self, name):
    return os.path.join(self.path, name)

  def check(self):
    """A UserError unless the folder can hold a run: a folder (or creatable), writable, and with
    none of the project's output names unless the project wrote them."""
    _check_path(self.path)
    existing = self.path
    while not os.path.exists(existing):
      existing = os.path.dirname(os.path.abspath(existing))
    if not os.path.isdir(existing):
      raise UserError(f'--workdir {self.path}: {existing} is a file, not a folder')
    if not os.access(existing, os.W_OK | os.X_OK):
      raise UserError(f'--workdir {self.path}: {existing} is not writable; choose a --workdir you can write to')
    self._own(ownership.owner(self.path))

  @contextlib.contextmanager
  def locked(self):
    """Holds the folder's lock (lock.py) while the block runs: from here where the folder holds a
    run, else from start() on, which makes the folder. Process 0 only."""
    if self.record is not None and jax.process_index() == 0:
      self._lock = Lock(self.path)
      self._own(ownership.owner(self.path))     # as it is now, under the lock
    try:
      yield self
    finally:
      if self._lock is not None:
        self._lock.release()
        self._lock = None

  def status(self, config, provenance=None):
    """(what the folder holds for `config`, detail): 'new' (no run), 'unfinished', 'finished'
    (detail: the Summary), 'different' (a run of another config), 'stale' (this config, made
    with code that has since changed, per `provenance`) or 'damaged' (detail: what is)."""
    try:
      existing = self._config()
    except UserError as e:
      return 'damaged', str(e)
    if existing is None:
      others = [n for n in (self.record.outputs if self.record else ()) if os.path.lexists(self.file(n))]
      return ('damaged', f'{self.file("config.json")} is missing beside {", ".join(others)}') if others \
          else ('new', None)
    if not (isinstance(existing, dict) and isinstance(existing.get('rule'), dict)):
      return 'damaged', f'{self.file("config.json")} is damaged (not a config)'
    run_provenance = existing.pop('provenance', None)
    wanted = _without_how_fields(json.loads(_config_text(config)))
    existing = _without_how_fields(_with_added_fields(existing, wanted))
    if existing != wanted:
      return 'different', _first_difference(existing, wanted)
    if provenance and isinstance(run_provenance, dict) and (change := stale(run_provenance, provenance)):
      return 'stale', change
    try:
      summary = read_json(self.file('summary.json'))
      return ('unfinished', None) if summary is None else ('finished', tasks.read_summary(summary))
    except UserError as e:
      return 'damaged', str(e)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
      return 'damaged', f'{self.file("summary.json")} is damaged ({type(e).__name__}: {e})'

  def finished(self, config, overwrite=False, provenance=None):
    """The Summary if the folder holds a finished run of `config`, else None.

    A run of another config, or of this one made with code that has changed
    (provenance), or a damaged run, is a UserError unless overwriting (then it
    is to be replaced).
    """
    status, detail = self.status(config, provenance)
    if status == 'different' and not overwrite:
      raise UserError(f'{self.path} holds a run of a different config ({detail}); {FIX}')
    if status == 'stale' and not overwrite and provenance:
      raise UserError(f'{self.path} holds this run made with another version of rule '
                      f'{provenance["rule"]["name"]!r} or the code it ran ({detail}); {FIX}')
    if status == 'damaged' and not overwrite:
      raise UserError(f'{detail.split("; ")[0]}; --overwrite replaces the run, or use another --workdir')
    return detail if status == 'finished' else None

  @_primary_only
  def start(self, config, provenance, overwrite=False):
    """Claims the folder for `config`, marking it the project's: with overwrite, the outputs an
    earlier run wrote go first (only those: ownership.clear)."""
    os.makedirs(self.path, exist_ok=True)
    if self._lock is None:
      self._lock = Lock(self.path)
      self._own(ownership.owner(self.path))
      self.finished(config, overwrite, provenance)   # another process may have written here meanwhile
    if self.record is None:
      self._own(ownership.Record.new(self.path))
    elif overwrite and self.record.outputs:
      self._own(ownership.clear(self.record))
    self._written().save()
    self._written().add('config.json')
    record = json.loads(_config_text(config))
    write_atomic(self.file('config.json'), json.dumps(dict(record, provenance=provenance), indent=2, sort_keys=True))

  @_primary_only
  def log(self, line, seeds, tensorboard=False):
    """Appends a round's line to metrics.jsonl; with tensorboard, each metric of each seed as a
    scalar of WORKDIR/tensorboard (step: the round)."""
    self._written().add('metrics.jsonl')
    with open(self.file('metrics.jsonl'), 'a') as f:
      f.write(json.dumps(line) + '\n')
    if tensorboard:
      if self._tensorboard is None:
        import tensorboardX  # pylint: disable=g-import-not-at-top  (an optional dependency)
        self._written().add('tensorboard')
        self._tensorboard = tensorboardX.SummaryWriter(self.file('tensorboard'))
      for key, values in line.items():
        if key.endswith('_per_seed'):
          for seed, value in zip(seeds, values):
            if value is not None:
              self._tensorboard.add_scalar(f'{key[:-len("_per_seed")]}/seed_{seed}', value,
                                           line[self.task.round_name])
      self._tensorboard.flush()
      self._written().add_events(os.listdir(self.file('tensorboard')))

  @_primary_only
  def keep_rounds(self, last):
    """Keeps the metrics.jsonl lines of rounds up to `last` (the checkpoint resumed from); a torn
    last line (the disk filled while it was written) goes too."""
    path = self.file('metrics.jsonl')
    if not os.path.exists(path):
      return
    with open(path) as f:
      lines = [line for line in f.read().split('\n') if line.strip()]
    kept = []
    for i, line in enumerate(lines):
      try:
        record = json.loads(line)
      except json.JSONDecodeError:
        if i == len(lines) - 1:
          break
        raise UserError(f'{path} is damaged at line {i + 1}; --overwrite replaces the run, or use another '
                        '--workdir') from None
      if not isinstance(record, dict) or not isinstance(record.get(self.task.round_name), int):
        raise UserError(f'{path} is damaged at line {i + 1} (no {self.task.round_name} number); --overwrite '
                        'replaces the run, or use another --workdir')
      if record[self.task.round_name] <= last:
        kept.append(line + '\n')
    write_atomic(path, ''.join(kept))

  @_primary_only
  def write_summary(self, summary):
    self._written().add('summary.json')
    write_atomic(self.file('summary.json'), json.dumps(summary.to_json(), indent=2))
    if self._tensorboard is not None:
      self._tensorboard.close()

  def _written(self):
    """The record of this run's outputs: start() made it."""
    assert self.record is not None, 'Workdir.start comes before writing'
    return self.record

  def _own(self, record):
    self.record = record
    if record is not None:
      record.primary = jax.process_index() == 0

  def _config(self):
    return read_json(self.file('config.json'))


def _check_path(path):
  """A UserError for a --workdir path the OS cannot make: a link to nowhere (or a loop), a name
  too long."""
  parts = os.path.abspath(path).split(os.sep)
  for i in range(2, len(parts) + 1):
    prefix = os.sep.join(parts[:i]) or os.sep
    if os.path.islink(prefix) and not os.path.exists(prefix):
      raise UserError(f'--workdir {path}: {prefix} is a symbolic link to nothing (or a loop of links); '
                      'fix or remove the link, or choose another --workdir')
  existing = os.path.abspath(path)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  name_max = os.pathconf(existing, 'PC_NAME_MAX') if os.path.isdir(existing) else 255
  long = [p for p in parts if len(p.encode()) > name_max]
  if long or len(os.path.abspath(path).encode()) + 64 > os.pathconf(existing, 'PC_PATH_MAX'):
    raise UserError(f'--workdir {path}: the path is too long for this file system '
                    f'({f"a name of {len(long[0])} characters, at most {name_max}" if long else "path"}); '
                    'choose a shorter --workdir')


def stale(old, new):
  """'' if provenance `old` ran the code of `new`, else what changed (provenance.changed)."""
  return provenance.changed(old, new)


def _config_text(config):
  return config.to_json_best_effort(indent=2, sort_keys=True)


def _first_difference(old, new, prefix=''):
  for key in sorted(set(old) | set(new)):
    a, b = old.get(key), new.get(key)
    if isinstance(a, dict) and isinstance(b, dict):
      found = _first_difference(a, b, f'{prefix}{key}.')
      if found:
        return found
    elif a != b:
      return f'{prefix}{key}: {a!r} there, {b!r} now'
  return ''
