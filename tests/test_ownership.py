"""Nothing lost: --overwrite deletes only what the project wrote (its marker's record), never through a
symbolic link, and refuses before deleting anything when something else is in the way."""
import json
import os
import random
import shutil

import pytest
from conftest import FINISHED_ARGS, error_lines, run_main

from local_learning import ownership
from local_learning.errors import UserError

ARGS = FINISHED_ARGS
OTHER = ['--config=configs/default.py:rule=bp', '--config.num_epochs=1', '--config.model.widths=(16,)']



def _copy(finished, tmp_path, name='run'):
  workdir = tmp_path / name
  shutil.copytree(finished, workdir, symlinks=True)
  return workdir


def _snapshot(folder):
  """{relative path: bytes, or 'link -> target'} of everything under folder, links not followed."""
  out = {}
  for root, dirs, names in os.walk(folder):
    for name in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
      path = os.path.join(root, name)
      rel = os.path.relpath(path, folder)
      if rel == ownership.LOCK:         # names its latest holder: rewritten by every run
        continue
      out[rel] = f'link -> {os.readlink(path)}' if os.path.islink(path) else open(path, 'rb').read()
  return out


def test_a_run_is_marked_with_a_run_id_and_the_record_of_what_it_wrote(finished):
  marker = json.loads((finished / ownership.MARKER).read_text())
  assert marker['kind'] == ownership.KIND and len(marker['run_id']) == 32
  assert set(marker['outputs']) == {'config.json', 'metrics.jsonl', 'summary.json', 'checkpoints'}
  assert set(marker['checkpoints']) == {'2', '3'}
  assert all(len(sha) == 64 for sha in marker['checkpoints']['3'].values())


def test_user_config_and_metrics_are_never_deleted(tmp_path):
  """The issue's case: a user folder with its own config.json and metrics.jsonl lost both."""
  workdir = tmp_path / 'mine'
  workdir.mkdir()
  (workdir / 'config.json').write_text('{"learning_rate": 0.1, "rule": {"name": "mine"}}')
  (workdir / 'metrics.jsonl').write_text('{"step": 1, "loss": 0.5}\n')
  before = _snapshot(workdir)
  for extra in ([], ['--overwrite']):
    result = run_main(*ARGS, f'--workdir={workdir}', *extra)
    assert result.returncode == 2 and len(error_lines(result)) == 1, result.stderr
    assert 'config.json' in error_lines(result)[0] and 'move it out' in error_lines(result)[0]
  assert _snapshot(workdir) == before


def test_a_user_file_inside_checkpoints_stops_overwrite_before_anything_goes(finished, tmp_path):
  workdir = _copy(finished, tmp_path)
  (workdir / 'checkpoints' / 'my_notes.txt').write_text('keep me')
  before = _snapshot(workdir)
  result = run_main(*OTHER, f'--workdir={workdir}', '--overwrite')
  assert result.returncode == 2 and 'checkpoints/my_notes.txt' in error_lines(result)[0], result.stderr
  assert _snapshot(workdir) == before


def test_a_checkpoints_symlink_is_refused_in_one_line(finished, tmp_path):
  workdir = _copy(finished, tmp_path)
  users = tmp_path / 'users_folder'
  users.mkdir()
  (users / 'precious.npy').write_bytes(b'data')
  shutil.rmtree(workdir / 'checkpoints')
  os.symlink(users, workdir / 'checkpoints')
  before = _snapshot(workdir)
  for extra in ([], ['--overwrite']):
    result = run_main(*OTHER, f'--workdir={workdir}', *extra)
    assert result.returncode == 2 and 'is a symbolic link' in error_lines(result)[0], result.stderr
    assert 'Traceback' not in result.stderr
  assert _snapshot(workdir) == before and (users / 'precious.npy').read_bytes() == b'data'


def test_overwrite_replaces_the_projects_files_and_keeps_the_users(finished, tmp_path):
  workdir = _copy(finished, tmp_path)
  (workdir / 'notes.txt').write_text('mine')
  run_id = json.loads((workdir / ownership.MARKER).read_text())['run_id']
  result = run_main(*OTHER, f'--workdir={workdir}', '--overwrite')
  assert result.returncode == 0, result.stderr
  assert (workdir / 'notes.txt').read_text() == 'mine'
  assert json.loads((workdir / 'summary.json').read_text())['epochs'] == 1
  assert json.loads((workdir / ownership.MARKER).read_text())['run_id'] != run_id
  assert sorted(p.name for p in (workdir / 'checkpoints').iterdir()) == ['1']


def test_a_run_written_before_markers_is_adopted_only_when_it_holds_nothing_else(finished, tmp_path):
  """An old workdir (config.json, no marker) is the project's when every entry has the shape of an output."""
  old = _copy(finished, tmp_path, 'old')
  (old / ownership.MARKER).unlink()
  result = run_main(*ARGS, f'--workdir={old}')
  assert result.returncode == 0 and 'nothing to do' in result.stdout, result.stderr
  result = run_main(*OTHER, f'--workdir={old}', '--overwrite')
  assert result.returncode == 0, result.stderr
  assert json.loads((old / ownership.MARKER).read_text())['outputs']
  cluttered = _copy(finished, tmp_path, 'cluttered')
  (cluttered / ownership.MARKER).unlink()
  (cluttered / 'plot.png').write_bytes(b'png')
  before = _snapshot(cluttered)
  result = run_main(*OTHER, f'--workdir={cluttered}', '--overwrite')
  assert result.returncode == 2 and 'no local_learning.json' in error_lines(result)[0], result.stderr
  assert _snapshot(cluttered) == before


def _sprinkle(rng, workdir, outside):
  """Adds random user files, folders and links to a copy of a finished run; -> the relative paths of
  the user's files (inside workdir) that must survive, and where links may point."""
  user = []

  def put(rel, data=None):
    path = workdir / rel
    inside = os.path.join(os.path.realpath(workdir), os.path.dirname(rel))
    if os.path.lexists(path) or not path.parent.is_dir() or os.path.realpath(path.parent) != inside:
      return                            # taken, or not a real folder of the workdir
    path.write_bytes(data or rng.randbytes(rng.randrange(1, 64)))
    user.append(rel)

  steps = sorted(p.name for p in (workdir / 'checkpoints').iterdir())
  places = ['notes.txt', 'results.csv', 'checkpoints/mine.txt', f'checkpoints/{rng.choice(steps)}/extra.bin',
            f'checkpoints/{rng.choice(steps)}/state/d/added', 'tensorboard/events.out.tfevents.1.mine']
  for _ in range(rng.randrange(0, 4)):
    kind = rng.random()
    if kind < 0.5:
      put(rng.choice(places))
    elif kind < 0.65:                       # a stray step folder copied by hand
      (workdir / 'checkpoints' / '99').mkdir(exist_ok=True)
      put('checkpoints/99/state.bin')
    elif kind < 0.75:                       # the user's own folder of tensorboard files
      (workdir / 'tensorboard').mkdir(exist_ok=True)
      put('tensorboard/events.out.tfevents.2.user')
    elif kind < 0.85:                       # a project output name replaced by a link to the user's folder
      name = rng.choice(['checkpoints', 'summary.json', 'metrics.jsonl'])
      target = outside / name
      if not target.exists():
        shutil.move(workdir / name, target)
        os.symlink(target, workdir / name)
    else:                                   # a link inside checkpoints to the user's folder
      if not (workdir / 'checkpoints').is_symlink() and not os.path.lexists(workdir / 'checkpoints' / 'linked'):
        os.symlink(outside, workdir / 'checkpoints' / 'linked')
  if rng.random() < 0.3:                    # a run from before the marker existed
    (workdir / ownership.MARKER).unlink()
  if rng.random() < 0.2:                    # some of the project's outputs already gone
    for name in ('summary.json', 'metrics.jsonl'):
      if rng.random() < 0.5 and (workdir / name).is_file() and not (workdir / name).is_symlink():
        (workdir / name).unlink()
  return user


@pytest.mark.parametrize('seed', range(4))
def test_overwrite_never_deletes_a_file_it_did_not_create(finished, tmp_path, seed):
  """A property over random mixtures of project and user files (seeded, 25 mixtures per seed):
  clearing either deletes every project output and nothing else, or refuses and deletes nothing."""
  rng = random.Random(seed)
  cleared = refused = 0
  for trial in range(25):
    workdir, outside = _copy(finished, tmp_path, f'run{trial}'), tmp_path / f'outside{trial}'
    outside.mkdir()
    (outside / 'users_own.txt').write_text('outside')
    user = _sprinkle(rng, workdir, outside)
    before, before_outside = _snapshot(workdir), _snapshot(outside)
    try:
      record = ownership.owner(str(workdir))
      assert record is not None
      ownership.clear(record)
    except UserError as e:
      assert '\n' not in str(e)
      assert _snapshot(workdir) == before, 'a refusal deleted something'
      refused += 1
    else:
      after = _snapshot(workdir)
      assert {rel: before[rel] for rel in user} == {rel: after.get(rel) for rel in user}
      assert set(after) <= set(user) | {ownership.MARKER}, set(after) - set(user)
      cleared += 1
    assert _snapshot(outside) == before_outside
  assert cleared and refused
