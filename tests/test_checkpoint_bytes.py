"""Every checkpoint byte is checked: a flipped byte in any file of a step, or in its loop record, is
named in one line; a step folder the run did not save is refused."""
import json
import shutil

import pytest
from conftest import FINISHED_ARGS, error_lines, run_main

from local_learning import ownership
from local_learning.checkpoint import Checkpoints
from local_learning.errors import UserError

ARGS = FINISHED_ARGS



def _unfinished(finished, tmp_path):
  """A copy of the run as if killed after its last checkpoint."""
  workdir = tmp_path / 'run'
  shutil.copytree(finished, workdir)
  (workdir / 'summary.json').unlink()
  return workdir


def test_a_flipped_byte_in_any_file_of_a_step_is_named(finished, tmp_path):
  workdir = _unfinished(finished, tmp_path)
  step = workdir / 'checkpoints' / '3'
  checkpoints = Checkpoints(str(workdir), ownership.owner(str(workdir)))
  names = sorted(p.relative_to(step) for p in step.rglob('*') if p.is_file() and p.stat().st_size)
  assert len(names) >= 8
  for name in names:
    raw = (step / name).read_bytes()
    (step / name).write_bytes(raw[:len(raw) // 2] + bytes([raw[len(raw) // 2] ^ 1]) + raw[len(raw) // 2 + 1:])
    with pytest.raises(UserError, match=f'checkpoints/3 is damaged: {name} differs from the bytes saved'):
      checkpoints.restore(3, None)
    (step / name).write_bytes(raw)


def _edit_loop_record(workdir, edit):
  path = workdir / 'checkpoints' / '3' / 'loop' / 'metadata'
  loop = json.loads(path.read_text())
  edit(loop)
  path.write_text(json.dumps(loop))


@pytest.mark.parametrize('field', ['rounds', 'best'])
def test_a_changed_loop_record_is_named_even_without_the_marker(finished, tmp_path, field):
  """A flipped `rounds` resumed at the wrong epoch, a flipped `best` went into summary.json: the
  record's own SHA-256 names it (here with the marker's file digests gone: a run from before them)."""
  workdir = _unfinished(finished, tmp_path)
  (workdir / ownership.MARKER).unlink()

  def edit(loop):
    if field == 'rounds':
      loop['rounds'] = 2
    else:
      loop['best']['test_accuracy'] = [0.99]

  _edit_loop_record(workdir, edit)
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 2, result.stdout
  (line,) = error_lines(result)
  assert 'checkpoints/3 is damaged (its loop record' in line and '--overwrite' in line, line
  assert not (workdir / 'summary.json').exists()


def test_a_stray_step_folder_is_refused_loudly(finished, tmp_path):
  """A copy left as checkpoints/99 silently stopped new checkpoints from being saved."""
  workdir = _unfinished(finished, tmp_path)
  shutil.copytree(workdir / 'checkpoints' / '3', workdir / 'checkpoints' / '99')
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 2, result.stdout
  (line,) = error_lines(result)
  assert 'checkpoints/99' in line and 'did not write' in line and 'move it out' in line, line
