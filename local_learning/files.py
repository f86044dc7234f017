"""Small file helpers every writer of a workdir or table shares: atomic writes, JSON reads."""
import json
import os

from local_learning.errors import UserError


def write_atomic(path, text):
  """Writes text to path via a temporary file and a rename."""
  tmp = f'{path}.tmp.{os.getpid()}'
  with open(tmp, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def read_json(path, fix='use another --workdir, or --overwrite to replace it'):
  """The JSON in `path`, None if there is no such file; a damaged file is a UserError whose
  message ends in `fix`."""
  try:
    with open(path) as f:
      return json.load(f)
  except FileNotFoundError:
    return None
  except (json.JSONDecodeError, UnicodeDecodeError):
    raise UserError(f'{path} is damaged (not JSON); {fix}') from None
