"""A run's output folder: config.json, metrics.jsonl, summary.json, checkpoints/.

summary.json is written last and atomically: its presence means finished. A
folder holding a run of a different config is refused unless overwriting.
In a multi-host run only process 0 writes these files (orbax coordinates the
checkpoints itself).
"""
import functools
import json
import os
import shutil

import jax

from local_learning import tasks
from local_learning.errors import UserError

OUTPUTS = ('metrics.jsonl', 'summary.json', 'checkpoints')
# Config fields added after runs were made, and the value a run made before them had.
ADDED_FIELDS = {'layer_parallel': 1, 'matching': 'cosine'}


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

  def file(self, name):
    return os.path.join(self.path, name)

  def finished(self, config, overwrite=False):
    """The Summary if the folder holds a finished run of `config`, else None.

    A folder holding a run of another config is a UserError unless overwriting
    (then it counts as empty).
    """
    existing = read_json(self.file('config.json'))
    if existing is None or overwrite:
      return None
    wanted = json.loads(_config_text(config))
    existing = {**{k: v for k, v in ADDED_FIELDS.items() if k in wanted}, **existing}
    if existing != wanted:
      raise UserError(f'{self.path} holds a run of a different config ({_first_difference(existing, wanted)}); '
                      'use another --workdir, or --overwrite to replace it')
    summary = read_json(self.file('summary.json'))
    return None if summary is None else tasks.read_summary(summary)

  @_primary_only
  def start(self, config, overwrite=False):
    """Claims the folder for `config`: with overwrite, the outputs of an earlier run go first."""
    os.makedirs(self.path, exist_ok=True)
    if overwrite:
      for name in OUTPUTS:
        path = self.file(name)
        if os.path.isdir(path):
          shutil.rmtree(path)
        elif os.path.exists(path):
          os.remove(path)
    write_atomic(self.file('config.json'), _config_text(config))

  @_primary_only
  def log(self, line):
    with open(self.file('metrics.jsonl'), 'a') as f:
      f.write(json.dumps(line) + '\n')

  @_primary_only
  def keep_rounds(self, last):
    """Drops metrics.jsonl lines after round `last` (written after the checkpoint resumed from)."""
    if not os.path.exists(self.file('metrics.jsonl')):
      return
    with open(self.file('metrics.jsonl')) as f:
      lines = [line for line in f if line.strip() and json.loads(line)[self.task.round_name] <= last]
    write_atomic(self.file('metrics.jsonl'), ''.join(lines))

  @_primary_only
  def write_summary(self, summary):
    write_atomic(self.file('summary.json'), json.dumps(summary.to_json(), indent=2))


def write_atomic(path, text):
  """Writes text to path via a temporary file and a rename."""
  tmp = f'{path}.tmp.{os.getpid()}'
  with open(tmp, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def read_json(path):
  try:
    with open(path) as f:
      return json.load(f)
  except FileNotFoundError:
    return None


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
