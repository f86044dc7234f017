"""Benchmark tables: run, resume after a kill, shard, and reject bad specs early."""
import csv
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, error_lines

from local_learning import bench, registry
from local_learning.bench import jobs, render, runner, spec
from local_learning.errors import UserError

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
    return [(r['row'], r['column'], r['mean'], r['std'], r['n']) for r in csv.DictReader(f)]


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
  """(table, workdir, outcome) of the tiny table run once in one process."""
  tmp_path = tmp_path_factory.mktemp('tiny')
  table = bench.load_table(_spec(tmp_path))
  workdir = str(tmp_path / 'run')
  return table, workdir, runner.run_table(table, workdir, str(ROOT))


def test_a_cell_evaluated_on_a_validation_split_is_labelled_validation(tmp_path, tiny_run, capsys):
  """Its table, its line in the progress and its plots say 'validation accuracy', a test-set cell 'test accuracy'."""
  table = bench.Table('held_out', (bench.Cell('bp', 'digits / mlp', 'configs/default.py:rule=bp', (
      ('num_epochs', 1), ('model.widths', (16,)), ('validation_examples', 200))),), seeds=1)
  workdir = str(tmp_path / 'run')
  assert runner.run_table(table, workdir, str(ROOT)) == {'bp__digits_mlp': 'done'}
  assert 'bp__digits_mlp: validation accuracy (%) ' in capsys.readouterr().out
  text = render.render(table, workdir).markdown
  assert 'validation accuracy (%) at the end of training' in text and 'test accuracy' not in text
  assert 'test accuracy (%) at the end of training' in render.render(*tiny_run[:2]).markdown


def test_tiny_table_end_to_end(tiny_run):
  table, workdir, outcome = tiny_run
  assert set(outcome.values()) == {'done'}
  text = render.render(table, workdir).markdown
  assert '| bp |' in text and '| pc |' in text and ' ± ' in text and '(n=2)' in text
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


def test_two_jobs_train_each_cell_once_and_make_the_same_table_as_one_process(tiny_run, tmp_path):
  """--jobs=2: a second process shares the cells through their locks; each cell trains in one of them (its
  metrics.jsonl has one line per epoch), the first prints every cell's result, the table is the same."""
  table, whole, _ = tiny_run
  workdir = tmp_path / 'two'
  result = subprocess.run([sys.executable, 'benchmarks/run.py', f'--table={_spec(tmp_path)}', f'--workdir={workdir}',
                           '--jobs=2'], cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  for cell in ('bp__digits_mlp', 'pc__digits_mlp'):
    assert len((workdir / cell / 'metrics.jsonl').read_text().splitlines()) == 2
    assert sum(f'{cell}: test accuracy (%)' in line for line in result.stdout.splitlines()) == 1, result.stdout
  render.render(table, whole)
  assert _table_rows(whole) == _table_rows(str(workdir))


def test_a_failing_job_is_reported_in_one_line(tmp_path):
  with pytest.raises(UserError, match=r'job 2 of the table command exited with status \d+: .*seeds per cell'):
    with jobs.others(1, ['--table=quick', f'--workdir={tmp_path}', '--seeds=0']):
      pass


def test_interrupted_table_resumes_without_recomputing(tmp_path, capsys):
  path, workdir = _spec(tmp_path, epochs=30), tmp_path / 'run'
  command = [sys.executable, 'benchmarks/run.py', f'--table={path}', f'--workdir={workdir}']
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
  outcome = runner.run_table(bench.load_table(path), str(workdir), str(ROOT))    # the command, run again
  assert outcome == {'bp__digits_mlp': 'skipped', 'pc__digits_mlp': 'done'}
  out = capsys.readouterr().out
  assert 'bp__digits_mlp: finished before, skipped' in out and 'pc__digits_mlp: test accuracy (%) ' in out
  assert 'epoch' not in out and len(out.splitlines()) == 3            # a line per cell, the epochs in its log
  assert 'epoch 30/30' in (workdir / 'pc__digits_mlp' / 'table.log').read_text()
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


def test_cell_statistics_and_paired_comparison_against_scipy():
  from scipy import stats as scipy_stats  # pylint: disable=g-import-not-at-top

  from local_learning.bench.stats import Paired, Spread  # pylint: disable=g-import-not-at-top
  ours, theirs = [97.1, 97.6, np.nan, 97.3], [97.9, 98.2, 98.0, 98.1]
  s = Spread.of(ours)
  finite = np.array([97.1, 97.6, 97.3])
  assert s.n == 3 and s.mean == pytest.approx(finite.mean()) and s.std == pytest.approx(finite.std(ddof=1))
  assert s.ci == pytest.approx(scipy_stats.t.ppf(0.975, 2) * finite.std(ddof=1) / np.sqrt(3))
  p = Paired.of([0, 1, 2, 3], ours, [3, 2, 1, 0], theirs[::-1])        # paired by seed id, not order
  differences = finite - np.array([97.9, 98.2, 98.1])
  assert p.n == 3 and p.difference == pytest.approx(differences.mean())
  assert p.p == pytest.approx(scipy_stats.ttest_rel(finite, [97.9, 98.2, 98.1]).pvalue)
  assert p.d == pytest.approx(differences.mean() / differences.std(ddof=1))


def test_rendered_table_has_statistics_costs_manifest_and_report(tiny_run):
  table, workdir, _ = tiny_run
  text = render.render(table, workdir).markdown
  assert '## Paired with bp' in text and '## Costs' in text and 'MFLOP' in text and 'MiB' in text
  with open(os.path.join(workdir, 'table.csv')) as f:
    rows = {r['row']: r for r in csv.DictReader(f)}
  for row in rows.values():
    assert int(row['flops_per_step']) > 0 and int(row['memory_bytes']) > 0 and float(row['ci95']) > 0
  assert float(rows['pc']['flops_xbp']) > 1 and rows['pc']['paired_p']
  manifest = json.loads(open(os.path.join(workdir, 'manifest.json')).read())
  assert {'jax', 'jaxlib', 'flax', 'optax', 'orbax-checkpoint'} <= set(manifest['libraries'])
  assert manifest['devices'] and set(manifest['rules']) == {'bp', 'pc'}
  assert len(manifest['rules']['pc'][0]['source_sha256']) == 64
  assert manifest['project']['version'] and 'commit' in manifest['project']
  page = open(os.path.join(workdir, 'table.html')).read()
  assert page.count('data:image/png;base64,') == 2 and '<table>' in page and 'Paired with bp' in page   # cost, curves


REFERENCE_SPEC = '''
from local_learning import bench

def get_table(rules=None):
  return bench.Table('ref', tuple(
      bench.Cell(rule, 'digits', f'configs/default.py:rule={{rule}}', (('num_epochs', 2), ('model.widths', (16,))),
                 reference=bench.Reference({value}, 'a test')) for rule in rules or ('bp',)), seeds=2)
'''


def test_check_fails_outside_the_reference_band_and_passes_inside(tmp_path):
  workdir, path = tmp_path / 'run', tmp_path / 'ref.py'
  path.write_text(REFERENCE_SPEC.format(value=0.0))
  table = bench.load_table(str(path))
  runner.run_table(table, str(workdir), str(ROOT))
  render.render(table, str(workdir))                                  # as the command does after training
  with open(workdir / 'table.csv') as f:
    ours = float(next(csv.DictReader(f))['mean'])
  path.write_text(REFERENCE_SPEC.format(value=ours + 20))
  result = subprocess.run([sys.executable, 'benchmarks/run.py', f'--table={path}', f'--workdir={workdir}',
                           '--render_only', '--check'], cwd=ROOT, capture_output=True, text=True)
  assert result.returncode == 1 and 'OUTSIDE' in result.stderr, result.stderr
  path.write_text(REFERENCE_SPEC.format(value=ours + 0.1))
  report = render.render(bench.load_table(str(path)), str(workdir))    # --render_only --check, in this process
  assert report.references and report.failed_references() == []


USER_RULE = '''
import local_learning as ll
from local_learning.rules.bp import BP

@ll.register
class Mine(BP):
  name = 'my_bp'
  description = 'a rule from outside the repository'
'''


def test_a_users_rule_joins_the_quick_and_classic_tables(on_pythonpath):
  tmp_path = on_pythonpath
  (tmp_path / 'my_lab_rules.py').write_text(USER_RULE)
  registry.import_module('my_lab_rules')    # --table=quick --rules=my_bp --rule_module=my_lab_rules --seeds=1
  quick, workdir = spec.load_table('quick', ['my_bp']), str(tmp_path / 'quick')
  assert set(runner.run_table(quick, workdir, spec.root(), 1).values()) == {'done'}
  assert '| my_bp |' in render.render(quick, workdir).markdown
  assert (tmp_path / 'quick' / 'my_bp__digits_mlp' / 'summary.json').exists()
  env = dict(os.environ, PYTHONPATH=str(tmp_path))
  classic = subprocess.run([sys.executable, 'benchmarks/run.py', '--table=classic', '--rule_module=my_lab_rules',
                            f'--workdir={tmp_path / "classic"}', '--render_only'],
                           cwd=ROOT, env=env, capture_output=True, text=True)
  assert classic.returncode == 0 and '| my_bp |' in classic.stdout, classic.stderr


def test_tensorboard_event_files_hold_each_metric_and_seed(tmp_path):
  import struct  # pylint: disable=g-import-not-at-top

  from tensorboardX.proto import event_pb2  # pylint: disable=g-import-not-at-top

  from local_learning import config as ll_config  # pylint: disable=g-import-not-at-top
  from local_learning import train
  config = ll_config.load_file(os.path.join(ROOT, 'configs/default.py'), 'rule=pc')
  config.num_epochs, config.num_seeds, config.tensorboard = 2, 2, True
  train.train_and_evaluate(config, str(tmp_path / 'run'))
  tags = set()
  for path in (tmp_path / 'run' / 'tensorboard').iterdir():
    data = path.read_bytes()
    while data:
      (length,) = struct.unpack('<Q', data[:8])
      event = event_pb2.Event.FromString(data[12:12 + length])
      tags |= {(v.tag, event.step) for v in event.summary.value}
      data = data[16 + length:]
  for metric in ('test_accuracy', 'loss', 'energy'):
    assert {(f'{metric}/seed_{s}', e) for s in (0, 1) for e in (1, 2)} <= tags
