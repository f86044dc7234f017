"""Benchmark tables: run, resume after a kill, shard, and reject bad specs early."""
import csv
import os
import subprocess
import sys
import time

import pytest

from local_learning import bench
from local_learning.bench import render, runner
from local_learning.errors import UserError
from conftest import ROOT, error_lines

TINY_SPEC = '''
from local_learning import bench

def get_table():
  overrides = (('num_epochs', {epochs}), ('model.widths', (16,)))
  return bench.Table('tiny', tuple(
      bench.Cell(rule, 'digits / mlp', f'configs/default.py:rule={{rule}}', overrides)
      for rule in {rules}), seeds=2)
'''


def _spec(tmp_path, rules=('bp', 'pc'), epochs=2):
  path = tmp_path / 'tiny.py'
  path.write_text(TINY_SPEC.format(rules=tuple(rules), epochs=epochs))
  return str(path)


def _table_rows(workdir):
  with open(os.path.join(workdir, 'table.csv')) as f:
    return [(r['row'], r['column'], r['mean'], r['std'], r['seeds']) for r in csv.DictReader(f)]


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
  """(table, workdir, outcome) of the tiny table run once in one process."""
  tmp_path = tmp_path_factory.mktemp('tiny')
  table = bench.load_table(_spec(tmp_path))
  workdir = str(tmp_path / 'run')
  return table, workdir, runner.run_table(table, workdir, str(ROOT))


def test_tiny_table_end_to_end(tiny_run):
  table, workdir, outcome = tiny_run
  assert set(outcome.values()) == {'done'}
  text = render.render(table, workdir)
  assert '| bp |' in text and '| pc |' in text and ' ± ' in text and 'over 2 seeds' in text
  assert [row[4] for row in _table_rows(workdir)] == ['2', '2']
  assert os.path.exists(os.path.join(workdir, 'curves_digits___mlp.png'))


def test_two_shards_make_the_same_table_as_one_run(tiny_run, tmp_path):
  table, whole, _ = tiny_run
  sharded = str(tmp_path / 'sharded')
  assert list(runner.run_table(table, sharded, str(ROOT), shard=(0, 2))) == ['bp__digits_mlp']
  assert list(runner.run_table(table, sharded, str(ROOT), shard=(1, 2))) == ['pc__digits_mlp']
  render.render(table, whole)
  render.render(table, sharded)
  assert _table_rows(whole) == _table_rows(sharded)


def test_interrupted_table_resumes_without_recomputing(tmp_path):
  spec, workdir = _spec(tmp_path, epochs=30), tmp_path / 'run'
  command = [sys.executable, 'benchmarks/run.py', f'--table={spec}', f'--workdir={workdir}']
  first = workdir / 'bp__digits_mlp' / 'summary.json'
  process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 240
  while not first.exists() and time.time() < deadline and process.poll() is None:
    time.sleep(0.05)
  process.kill()
  process.wait()
  assert first.exists()
  assert not (workdir / 'pc__digits_mlp' / 'summary.json').exists(), 'killed too late to test resuming'
  stamp = first.stat().st_mtime_ns
  result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  assert 'bp__digits_mlp: finished before, skipped' in result.stdout
  assert first.stat().st_mtime_ns == stamp
  assert (workdir / 'pc__digits_mlp' / 'summary.json').exists()


def test_unknown_rule_fails_before_any_training(tmp_path):
  table = bench.load_table(_spec(tmp_path, rules=('bp', 'nope')))
  with pytest.raises(UserError, match="unknown rule 'nope'"):
    runner.run_table(table, str(tmp_path / 'run'), str(ROOT))
  assert not (tmp_path / 'run').exists()


def test_cli_reports_a_bad_table_in_one_line(tmp_path):
  result = subprocess.run([sys.executable, 'benchmarks/run.py', '--table=nosuchtable',
                           f'--workdir={tmp_path}'], cwd=ROOT, capture_output=True, text=True)
  assert result.returncode == 2
  assert "no table spec 'nosuchtable'" in error_lines(result)[0]


def test_finished_cell_with_another_config_is_refused(tmp_path):
  workdir = str(tmp_path / 'run')
  runner.run_table(bench.load_table(_spec(tmp_path, rules=('bp',), epochs=1)), workdir, str(ROOT))
  with pytest.raises(UserError, match='different config'):
    runner.run_table(bench.load_table(_spec(tmp_path, rules=('bp',), epochs=2)), workdir, str(ROOT))
