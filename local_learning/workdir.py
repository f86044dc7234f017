"""A run's output folder: config.json, metrics.jsonl, summary.json, checkpoints/.

config.json is written when a run starts (the config and the run's
provenance); summary.json last and atomically: its presence means finished.
The folder is the project's only if its config.json is: files there that
the project did not write are never deleted or overwritten. A folder holding
a run of another config, or of this config made with another version of the
rule's code, is refused unless overwriting. In a multi-host run only process
0 writes these files (orbax coordinates the checkpoints itself).
"""
import functools
import json
import os
import shutil

import jax

from local_learning import tasks
from local_learning.errors import UserError

OUTPUTS = ('metrics.jsonl', 'summary.json', 'checkpoints', 'tensorboard')
# Config fields added after runs were made, and the value a run made before them had.
ADDED_FIELDS = {'layer_parallel': 1, 'steps_per_call': 0, 'tensorboard': False, 'matching': 'cosine',
                'train_examples': 0, 'test_examples': 0, 'validation_examples': 0,
                'diagnostics': {'bp_alignment_every': 0},
                'model': {'param': 'flax', 'output_multiplier': 1.0, 'groups': 1}}   # a section's fields: where absent
# Fields that set how a run is carried out, not what it computes: a run is the same run whatever their values
# (runs made before checkpoint_seconds had checkpoint_every 1, now 0 by default).
HOW_FIELDS = ('checkpoint_every', 'checkpoint_seconds', 'compilation_cache')
FIX = 'use another --workdir, or --overwrite to replace it'


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
    self._tensorboard = None

  def file(self, name):
    return os.path.join(self.path, name)

  def check(self):
    """A UserError unless the folder can hold a run: a folder (or creatable), writable, and with
    none of the project's output names unless the project wrote them."""
    existing = self.path
    while not os.path.exists(existing):
      existing = os.path.dirname(os.path.abspath(existing))
    if not os.path.isdir(existing):
      raise UserError(f'--workdir {self.path}: {existing} is a file, not a folder')
    if not os.access(existing, os.W_OK | os.X_OK):
      raise UserError(f'--workdir {self.path}: {existing} is not writable; choose a --workdir you can write to')
    foreign = [name for name in OUTPUTS if os.path.exists(self.file(name))]
    if foreign and self._config() is None:
      raise UserError(f'{self.path} holds {", ".join(foreign)} that local-learning did not write '
                      '(no config.json of a run); use another --workdir')

  def status(self, config, provenance=None):
    """(what the folder holds for `config`, detail): 'new' (no run), 'unfinished', 'finished'
    (detail: the Summary), 'different' (a run of another config) or 'stale' (this config, made
    with a rule whose source has since changed, per `provenance`)."""
    existing = self._config()
    if existing is None:
      return 'new', None
    run_provenance = existing.pop('provenance', None)
    wanted = _without_how_fields(json.loads(_config_text(config)))
    existing = _without_how_fields(_with_added_fields(existing, wanted))
    if existing != wanted:
      return 'different', _first_difference(existing, wanted)
    if provenance and run_provenance and (change := stale(run_provenance, provenance)):
      return 'stale', change
    summary = read_json(self.file('summary.json'))
    return ('unfinished', None) if summary is None else ('finished', tasks.read_summary(summary))

  def finished(self, config, overwrite=False, provenance=None):
    """The Summary if the folder holds a finished run of `config`, else None.

    A run of another config, or of this one made with a rule whose source has
    changed (provenance), is a UserError unless overwriting (then it is to be
    replaced).
    """
    status, detail = self.status(config, provenance)
    if status == 'different' and not overwrite:
      raise UserError(f'{self.path} holds a run of a different config ({detail}); {FIX}')
    if status == 'stale' and not overwrite and provenance:
      raise UserError(f'{self.path} holds this run made with another version of rule '
                      f'{provenance["rule"]["name"]!r} ({detail}); {FIX}')
    return detail if status == 'finished' else None

  @_primary_only
  def start(self, config, provenance, overwrite=False):
    """Claims the folder for `config`: with overwrite, an earlier run's outputs go first."""
    os.makedirs(self.path, exist_ok=True)
    if overwrite and self._config() is not None:
      for name in OUTPUTS:
        path = self.file(name)
        if os.path.isdir(path):
          shutil.rmtree(path)
        elif os.path.exists(path):
          os.remove(path)
    record = json.loads(_config_text(config))
    write_atomic(self.file('config.json'), json.dumps(dict(record, provenance=provenance), indent=2, sort_keys=True))

  @_primary_only
  def log(self, line, seeds, tensorboard=False):
    """Appends a round's line to metrics.jsonl; with tensorboard, each metric of each seed as a
    scalar of WORKDIR/tensorboard (step: the round)."""
    with open(self.file('metrics.jsonl'), 'a') as f:
      f.write(json.dumps(line) + '\n')
    if tensorboard:
      if self._tensorboard is None:
        import tensorboardX  # pylint: disable=g-import-not-at-top  (an optional dependency)
        self._tensorboard = tensorboardX.SummaryWriter(self.file('tensorboard'))
      for key, values in line.items():
        if key.endswith('_per_seed'):
          for seed, value in zip(seeds, values):
            if value is not None:
              self._tensorboard.add_scalar(f'{key[:-len("_per_seed")]}/seed_{seed}', value,
                                           line[self.task.round_name])
      self._tensorboard.flush()

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
        raise UserError(f'{path} is damaged at line {i + 1}; {FIX}') from None
      if record[self.task.round_name] <= last:
        kept.append(line + '\n')
    write_atomic(path, ''.join(kept))

  @_primary_only
  def write_summary(self, summary):
    write_atomic(self.file('summary.json'), json.dumps(summary.to_json(), indent=2))
    if self._tensorboard is not None:
      self._tensorboard.close()

  def _config(self):
    return read_json(self.file('config.json'))


def stale(old, new):
  """'' if provenance `old` has the rule code of `new`, else what changed."""
  before, now = old.get('rule', {}), new['rule']
  if before.get('source_sha256') and before['source_sha256'] != now['source_sha256']:
    return f'its source {before.get("module", "?")} changed: sha256 {before["source_sha256"][:12]} then, ' \
           f'{now["source_sha256"][:12]} now'
  return ''


def write_atomic(path, text):
  """Writes text to path via a temporary file and a rename."""
  tmp = f'{path}.tmp.{os.getpid()}'
  with open(tmp, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def read_json(path):
  """The JSON in `path`, None if there is no such file; a damaged file is a UserError."""
  try:
    with open(path) as f:
      return json.load(f)
  except FileNotFoundError:
    return None
  except (json.JSONDecodeError, UnicodeDecodeError):
    raise UserError(f'{path} is damaged (not JSON); delete it, or {FIX}') from None


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
