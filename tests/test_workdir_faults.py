"""Faults in a workdir or a table: nothing is lost, nothing foreign is touched, stale results are not reused."""
import json
import shutil

import orbax.checkpoint as ocp
import pytest
from conftest import FINISHED_ARGS, ROOT, error_lines, forget_modules, run_main

from local_learning import bench
from local_learning.bench import render, runner
from local_learning.errors import UserError

ARGS = FINISHED_ARGS



def test_torn_last_metrics_line_is_dropped_on_resume(finished, tmp_path):
  workdir = tmp_path / 'run'
  shutil.copytree(finished, workdir)
  (workdir / 'summary.json').unlink()               # killed after the last checkpoint,
  with open(workdir / 'metrics.jsonl', 'a') as f:   # while a line was half written
    f.write('{"epoch": 4, "seconds": 0.0')
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 0, result.stderr
  lines = (workdir / 'metrics.jsonl').read_text().splitlines()
  assert [json.loads(line)['epoch'] for line in lines] == [1, 2, 3]


def test_checkpoint_with_flipped_array_bytes_is_reported_damaged(finished, tmp_path):
  workdir = tmp_path / 'run'
  shutil.copytree(finished, workdir)
  (workdir / 'summary.json').unlink()
  state = max((workdir / 'checkpoints').glob('*/state'), key=lambda p: int(p.parent.name))
  data = max((p for p in state.rglob('*') if p.is_file()), key=lambda p: p.stat().st_size)
  raw = bytearray(data.read_bytes())
  for i in range(len(raw) // 2, len(raw) // 2 + 16):
    raw[i] ^= 0x55
  data.write_bytes(bytes(raw))
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 2, result.stdout
  (line,) = error_lines(result)
  assert 'is damaged' in line or 'cannot be restored' in line
  assert not (workdir / 'summary.json').exists()


def test_a_damaged_manifest_of_a_run_from_before_the_marker_is_named_before_orbax_opens_it(finished, tmp_path,
                                                                                          monkeypatch):
  """Met inside orbax's restore, the damage closed its event loop with reads in flight, whose callbacks then
  printed a traceback beside the error line (issue 31); read through first, it is one line."""
  workdir = tmp_path / 'run'
  shutil.copytree(finished, workdir)
  for name in ('summary.json', 'local_learning.json', 'local_learning.lock'):    # a run from before the marker
    (workdir / name).unlink(missing_ok=True)
  manifest = max((workdir / 'checkpoints').glob('*/state/manifest.ocdbt'), key=lambda p: int(p.parents[1].name))
  raw = bytearray(manifest.read_bytes())
  raw[len(raw) // 2] ^= 0x55
  manifest.write_bytes(bytes(raw))
  monkeypatch.setattr(ocp.CheckpointManager, 'restore', lambda *_, **__: pytest.fail('orbax opened the damage'))
  result = run_main(*ARGS, f'--workdir={workdir}')
  assert result.returncode == 2, result.stderr
  (line,) = error_lines(result)
  assert 'is damaged: its arrays cannot be read' in line and 'manifest.ocdbt' in line, line


def test_a_folder_of_foreign_files_is_never_written_or_emptied(tmp_path):
  workdir = tmp_path / 'mine'
  workdir.mkdir()
  (workdir / 'summary.json').write_text('my own notes')
  (workdir / 'metrics.jsonl').write_text('my own log')
  for extra in ([], ['--overwrite']):
    result = run_main(*ARGS, f'--workdir={workdir}', *extra)
    assert result.returncode == 2 and 'local-learning did not write' in error_lines(result)[0]
  assert (workdir / 'summary.json').read_text() == 'my own notes'
  assert (workdir / 'metrics.jsonl').read_text() == 'my own log'


def test_overwrite_on_a_folder_without_a_run_deletes_nothing(tmp_path):
  workdir = tmp_path / 'notes'
  workdir.mkdir()
  (workdir / 'readme.txt').write_text('keep me')
  result = run_main(*ARGS, f'--workdir={workdir}', '--overwrite')
  assert result.returncode == 0, result.stderr
  assert (workdir / 'readme.txt').read_text() == 'keep me'


RULE = '''
import local_learning as ll
from local_learning.rules.bp import BP

@ll.register
class Edited(BP):
  name = 'edited_bp'
  description = 'bp under another name, version {version}'
'''


def test_a_run_of_an_edited_rule_is_stale(on_pythonpath):
  tmp_path = on_pythonpath
  (tmp_path / 'edited_rule.py').write_text(RULE.format(version=1))
  args = ['--config=configs/default.py:rule=edited_bp', '--config.rule_module=edited_rule',
          '--config.num_epochs=1', f'--workdir={tmp_path / "run"}']
  assert run_main(*args).returncode == 0
  summary = json.loads((tmp_path / 'run' / 'summary.json').read_text())
  assert summary['provenance']['rule']['class'] == 'edited_rule.Edited'
  (tmp_path / 'edited_rule.py').write_text(RULE.format(version=2))
  forget_modules('edited_rule')                     # each command is a new process: it imports the edited file
  result = run_main(*args)
  assert result.returncode == 2 and 'another version of rule' in error_lines(result)[0], result.stderr
  result = run_main(*args, '--overwrite')
  assert result.returncode == 0 and 'epoch 1/1' in result.stdout, result.stderr
  assert json.loads((tmp_path / 'run' / 'summary.json').read_text())['provenance'] != summary['provenance']


TABLE = '''
from local_learning import bench

def get_table():
  return bench.Table('faults', (
      bench.Cell('bp', 'digits', 'configs/default.py:rule=bp', (('num_epochs', 1),)),
      bench.Cell('pc', 'digits', 'configs/default.py:rule=pc', (('num_epochs', 1), ('batch_size', {batch})))),
      seeds=1)
'''


def _table(tmp_path, batch=32):
  path = tmp_path / f'faults_{batch}.py'
  path.write_text(TABLE.format(batch=batch))
  return bench.load_table(str(path))


def test_table_with_a_bad_cell_trains_nothing(tmp_path):
  with pytest.raises(UserError, match='batch_size must be an integer >= 1'):
    runner.run_table(_table(tmp_path, batch=0), str(tmp_path / 'run'), str(ROOT))
  assert not (tmp_path / 'run').exists()


def test_table_seeds_must_be_positive(tmp_path):
  with pytest.raises(UserError, match='seeds must be an integer >= 1'):
    runner.run_table(_table(tmp_path), str(tmp_path / 'run'), str(ROOT), seeds=0)


def test_table_overwrite_keeps_finished_cells_of_the_same_config(tmp_path):
  table, workdir = _table(tmp_path), str(tmp_path / 'run')
  assert set(runner.run_table(table, workdir, str(ROOT), cells_filter='bp').values()) == {'done'}
  stamp = (tmp_path / 'run' / 'bp__digits' / 'summary.json').stat().st_mtime_ns
  assert set(runner.run_table(table, workdir, str(ROOT), cells_filter='bp', overwrite=True).values()) == {'skipped'}
  assert (tmp_path / 'run' / 'bp__digits' / 'summary.json').stat().st_mtime_ns == stamp


def test_table_spec_that_raises_is_one_line(tmp_path):
  (tmp_path / 'bad_table.py').write_text('import no_such_module_anywhere\n')
  with pytest.raises(UserError, match='raised ModuleNotFoundError'):
    bench.load_table(str(tmp_path / 'bad_table.py'))


def test_render_only_of_a_damaged_summary_is_one_line(tmp_path):
  table, workdir = _table(tmp_path), tmp_path / 'run'
  runner.run_table(table, str(workdir), str(ROOT), cells_filter='bp')
  (workdir / 'bp__digits' / 'summary.json').write_text('{')
  with pytest.raises(UserError, match='summary.json is damaged'):
    render.render(table, str(workdir))
