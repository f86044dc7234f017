"""A run's output folder: config.json, metrics.jsonl, summary.json (atomic writes)."""
import json
import os


class Workdir:
  """Writes one run's files; summary.json appears last, atomically."""

  def __init__(self, path):
    self.path = path

  @classmethod
  def create(cls, path, config):
    os.makedirs(path, exist_ok=True)
    out = cls(path)
    for stale in ('metrics.jsonl', 'summary.json'):
      if os.path.exists(out.file(stale)):
        os.remove(out.file(stale))
    write_atomic(out.file('config.json'), config.to_json_best_effort(indent=2, sort_keys=True))
    return out

  def file(self, name):
    return os.path.join(self.path, name)

  def log_epoch(self, record):
    with open(self.file('metrics.jsonl'), 'a') as f:
      f.write(json.dumps(record) + '\n')

  def write_summary(self, summary):
    write_atomic(self.file('summary.json'), json.dumps(summary, indent=2))


def write_atomic(path, text):
  """Writes text to path via a temporary file and a rename."""
  tmp = f'{path}.tmp.{os.getpid()}'
  with open(tmp, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def read_summary(path):
  """The summary dict of a finished run in folder `path`, or None."""
  try:
    with open(os.path.join(path, 'summary.json')) as f:
      return json.load(f)
  except FileNotFoundError:
    return None
