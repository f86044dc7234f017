"""What in a workdir the project wrote: its marker, the record in it, and --overwrite's deletions.

When the project starts a run in a folder it writes MARKER (local_learning.json):
a run id and the record of every output it writes there, each entered before
it is written (OUTPUTS' top-level names, each checkpoint step with the SHA-256
of its files once saved, tensorboard's event files). --overwrite deletes
exactly what the record lists; it never follows a symbolic link, and when
anything it did not write is in the way it refuses in one line, before
deleting anything.

A folder written before the marker existed (config.json, no marker) is the
project's only when everything in it has the shape of the project's outputs:
config.json a run's config (rule.name, dataset.name, seed, num_seeds),
summary.json a run's summary, metrics.jsonl lines of JSON objects with
`seconds`, checkpoints/ only step folders, tensorboard/ only event files, and
no symbolic link anywhere. Such a folder is adopted (marked) when a run
starts there; any other is refused.
"""
import datetime
import hashlib
import json
import os
import re
import shutil
import uuid

from local_learning import files
from local_learning.errors import UserError
from local_learning.lock import NAME as LOCK

MARKER = 'local_learning.json'
OUTPUTS = ('config.json', 'metrics.jsonl', 'summary.json', 'checkpoints', 'tensorboard')
FOLDERS = ('checkpoints', 'tensorboard')
KIND = 'local-learning workdir'
IGNORED = ('unavailable.json', 'table.log')   # the table runner's notes in a cell's folder (a dataset missing,
                                              # the cell's output): never deleted
_STEP = re.compile(r'\d+')
_ORBAX_TMP = re.compile(r'\d+\.orbax-checkpoint-tmp.*')      # a step orbax was saving when the run was killed
# The files orbax writes in a step folder (for adopting old runs, whose files were not recorded).
_ORBAX_FILE = re.compile(r'(_CHECKPOINT_METADATA|commit_success\.txt|(loop|state)/(commit_success\.txt|metadata|'
                         r'_METADATA|_sharding|manifest\.ocdbt|array_metadatas/process_\d+|d/[0-9a-f]{32}|'
                         r'ocdbt\.process_\d+/(manifest\.ocdbt|d/[0-9a-f]{32})))')
_EVENTS = re.compile(r'events\.out\.tfevents\..+')
_TMP = re.compile(r'(config\.json|metrics\.jsonl|summary\.json|local_learning\.json)\.tmp\.\d+')   # write_atomic's
MOVE = 'move it out of the folder, or use another --workdir'


class Record:
  """A workdir's marker: {kind, run_id, created, outputs: [name], checkpoints: {step: {file: sha256} or
  None while saving}, tensorboard: [event file]}. Only the primary process saves it."""

  def __init__(self, folder, data, primary=True):
    self.folder, self.data, self.primary = folder, data, primary

  @classmethod
  def new(cls, folder, primary=True):
    return cls(folder, dict(kind=KIND, run_id=uuid.uuid4().hex, created=_now(), outputs=[], checkpoints={},
                            tensorboard=[]), primary)

  @classmethod
  def load(cls, folder):
    """The folder's Record, None where it has no marker; a damaged marker is a UserError."""
    path = os.path.join(folder, MARKER)
    if os.path.islink(path):
      raise UserError(f'{path} is a symbolic link, not a marker local-learning wrote; {MOVE}')
    data = files.read_json(path, fix='use another --workdir')
    if data is None:
      return None
    if not (isinstance(data, dict) and data.get('kind') == KIND and isinstance(data.get('outputs'), list)
            and isinstance(data.get('checkpoints'), dict) and isinstance(data.get('tensorboard'), list)):
      raise UserError(f'{path} is damaged (not a local-learning marker); use another --workdir')
    return cls(folder, data)

  @property
  def run_id(self):
    return self.data['run_id']

  @property
  def outputs(self):
    return self.data['outputs']

  def add(self, name):
    """Enters a top-level output (one of OUTPUTS) before it is first written."""
    if name not in self.data['outputs']:
      self.data['outputs'].append(name)
      self.save()

  def add_events(self, names):
    new = [n for n in names if n not in self.data['tensorboard']]
    if new:
      self.data['tensorboard'] += new
      self.save()

  def steps(self):
    """{step: {file: sha256} or None}, the checkpoint steps this run saved."""
    return {int(k): v for k, v in self.data['checkpoints'].items()}

  def set_step(self, step, digests):
    """Enters checkpoint `step` (digests None: before saving it; then its files' SHA-256) and forgets
    steps no longer on disk (orbax keeps the last few)."""
    folder = os.path.join(self.folder, 'checkpoints')
    kept = {k: v for k, v in self.data['checkpoints'].items() if os.path.isdir(os.path.join(folder, k))}
    self.data['checkpoints'] = dict(kept, **{str(step): digests})
    self.save()

  def save(self):
    if self.primary:
      os.makedirs(self.folder, exist_ok=True)
      files.write_atomic(os.path.join(self.folder, MARKER), _dumps(self.data))


def owner(folder):
  """The Record of `folder` (adopting a run written before markers; not yet saved), None where it
  holds no run; a UserError where an output name there was not written by local-learning."""
  if not os.path.isdir(folder):
    return None
  record = Record.load(folder)
  if record is None and os.path.lexists(os.path.join(folder, 'config.json')):
    record = _adopt(folder)
  if record is None:
    present = [n for n in OUTPUTS if os.path.lexists(os.path.join(folder, n))]
    if present:
      raise UserError(f'{folder} holds {", ".join(present)} that local-learning did not write '
                      '(no config.json of a run); use another --workdir')
    return None
  links = [n for n in OUTPUTS if os.path.islink(os.path.join(folder, n))]
  if links:
    raise UserError(f'{os.path.join(folder, links[0])} is a symbolic link; local-learning writes its outputs '
                    'only as real files and folders inside --workdir: remove the link, or use another --workdir')
  in_the_way = foreign(record)
  if in_the_way:
    more = f' and {len(in_the_way) - 3} more' if len(in_the_way) > 3 else ''
    raise UserError(f'{folder} holds {", ".join(in_the_way[:3])}{more} that local-learning did not write '
                    f'(not in its {MARKER}); {MOVE}')
  return record


def foreign(record):
  """The paths (relative to the folder) in the way of --overwrite: what the record does not list
  under the project's output names, and every symbolic link there."""
  folder, out = record.folder, []
  for name in OUTPUTS:
    path = os.path.join(folder, name)
    if not os.path.lexists(path):
      continue
    if name not in record.outputs:
      out.append(name)
    elif os.path.islink(path):
      out.append(f'{name} (a symbolic link)')
    elif (name in FOLDERS) != os.path.isdir(path):
      out.append(name)
    elif name == 'checkpoints':
      out += _foreign_checkpoints(path, record.steps())
    elif name == 'tensorboard':
      out += [f'tensorboard/{e}' for e in sorted(os.listdir(path))
              if e not in record.data['tensorboard'] or not _is_file(os.path.join(path, e))]
    elif not _is_file(path):
      out.append(name)
  return out


def clear(record):
  """Deletes every output `record` lists (not the marker nor the lock); -> a fresh Record for the
  next run. A UserError, before anything is deleted, when anything else is in the way."""
  folder = record.folder
  in_the_way = foreign(record)
  if in_the_way:
    more = f' and {len(in_the_way) - 3} more' if len(in_the_way) > 3 else ''
    raise UserError(f'--overwrite deletes only what local-learning wrote in {folder}, and '
                    f'{", ".join(in_the_way[:3])}{more} is not; {MOVE} (nothing was deleted)')
  for name in record.outputs:
    path = os.path.join(folder, name)
    if not os.path.lexists(path):
      continue
    if name == 'checkpoints':
      for entry in os.listdir(path):
        shutil.rmtree(os.path.join(path, entry))
      os.rmdir(path)
    elif name == 'tensorboard':
      for entry in os.listdir(path):
        os.remove(os.path.join(path, entry))
      os.rmdir(path)
    else:
      os.remove(path)
  for entry in os.listdir(folder):
    if _TMP.fullmatch(entry) and _is_file(os.path.join(folder, entry)):
      os.remove(os.path.join(folder, entry))
  fresh = Record.new(folder, record.primary)
  fresh.save()
  return fresh


def digests(folder):
  """{relative path: SHA-256} of every file under folder (symbolic links not followed)."""
  out = {}
  for root, dirs, names in os.walk(folder):
    dirs.sort()
    for name in sorted(names):
      path = os.path.join(root, name)
      with open(path, 'rb') as f:
        out[os.path.relpath(path, folder)] = hashlib.file_digest(f, 'sha256').hexdigest()
  return out


def _foreign_checkpoints(path, steps):
  out = []
  for entry in sorted(os.listdir(path)):
    full, rel = os.path.join(path, entry), f'checkpoints/{entry}'
    if os.path.islink(full) or not os.path.isdir(full):
      out.append(rel)
    elif _ORBAX_TMP.fullmatch(entry):
      out += _links(full, rel)
    elif not _STEP.fullmatch(entry) or int(entry) not in steps:
      out.append(rel)
    elif steps[int(entry)] is None:          # saved, or being saved, when the run was killed: orbax's files
      out += _links(full, rel)
    else:
      known = steps[int(entry)]
      out += _links(full, rel)
      out += [f'{rel}/{f}' for f in _walk(full) if f not in known]
  return out


def _walk(folder):
  """Relative paths of the files and links under folder, links not followed."""
  out = []
  for root, dirs, names in os.walk(folder):
    out += [os.path.relpath(os.path.join(root, n), folder) for n in names]
    out += [os.path.relpath(os.path.join(root, d), folder) for d in dirs if os.path.islink(os.path.join(root, d))]
  return out


def _links(folder, rel):
  return [f'{rel}/{f} (a symbolic link)' for f in _walk(folder) if os.path.islink(os.path.join(folder, f))]


def _adopt(folder):
  """The Record of a run written before markers, if everything in folder has the shape of the
  project's outputs for its config.json; else a UserError naming what does not."""
  config = _json(os.path.join(folder, 'config.json'))
  if not (isinstance(config, dict) and isinstance(config.get('rule'), dict) and 'name' in config['rule']
          and isinstance(config.get('dataset'), dict) and 'name' in config['dataset']
          and 'seed' in config and 'num_seeds' in config):
    problems = ['config.json']
  else:
    problems = [entry for entry in sorted(os.listdir(folder))
                if not (entry in IGNORED or entry in (LOCK, 'config.json') or _TMP.fullmatch(entry))
                and (entry not in OUTPUTS or os.path.islink(os.path.join(folder, entry))
                     or not _shaped(os.path.join(folder, entry), entry, config))]
  if problems:
    raise UserError(f'{folder} has config.json but no {MARKER}, and {", ".join(problems[:3])} there '
                    'is not what local-learning writes, so it cannot tell which files are its own; '
                    f'{MOVE}')
  names = [n for n in OUTPUTS if os.path.exists(os.path.join(folder, n))]
  record = Record.new(folder)
  record.data.update(outputs=names, adopted=True)
  checkpoints, tensorboard = os.path.join(folder, 'checkpoints'), os.path.join(folder, 'tensorboard')
  if os.path.isdir(checkpoints):
    record.data['checkpoints'] = {e: None for e in os.listdir(checkpoints) if _STEP.fullmatch(e)}
  if os.path.isdir(tensorboard):
    record.data['tensorboard'] = sorted(os.listdir(tensorboard))
  return record


def _shaped(path, name, config):
  """Whether path has the shape of the project's output `name` of a run of `config`."""
  if name == 'tensorboard':
    return bool(config.get('tensorboard')) and os.path.isdir(path) and all(
        _EVENTS.fullmatch(e) and _is_file(os.path.join(path, e)) for e in os.listdir(path))
  if name == 'checkpoints':
    rounds = config.get('num_epochs', config.get('num_rounds'))
    return os.path.isdir(path) and all(
        (_ORBAX_TMP.fullmatch(e) or (_STEP.fullmatch(e) and (not isinstance(rounds, int) or int(e) <= rounds)))
        and os.path.isdir(os.path.join(path, e)) and not os.path.islink(os.path.join(path, e))
        and all(_ORBAX_FILE.fullmatch(f) for f in _walk(os.path.join(path, e)))
        and not _links(os.path.join(path, e), '') for e in os.listdir(path))
  if not _is_file(path):
    return False
  if name == 'metrics.jsonl':
    with open(path, errors='replace') as f:
      records = [_loads(line) for line in f.read().split('\n') if line.strip()]
    if records and records[-1] is None:      # torn while written
      records.pop()
    return all(isinstance(r, dict) and 'seconds' in r for r in records)
  data = _json(path)
  return isinstance(data, dict) and 'rule' in data and 'seeds' in data


def _json(path):
  """The JSON in path; None where it is damaged."""
  try:
    return files.read_json(path)
  except (UserError, OSError):
    return None


def _loads(line):
  """JSON of a line; None where it does not parse (a torn last line)."""
  try:
    return json.loads(line)
  except json.JSONDecodeError:
    return None


def _is_file(path):
  return os.path.isfile(path) and not os.path.islink(path)


def _dumps(data):
  return json.dumps(data, indent=1, sort_keys=True)


def _now():
  return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
