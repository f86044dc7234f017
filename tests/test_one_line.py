"""Every remaining mistake is one line (issue 31, items 7-9): exit 2 and nothing written, or a correct run.

In-process where the mistake is found before training (run_main); real processes only for what is
about processes (Ctrl-C) and for the table command, whose flags cannot share a process with main's.
"""
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
import pytest
from conftest import ROOT, error_lines, run_main

from local_learning import bench, contract, ownership, testing
from local_learning import workdir as workdir_lib
from local_learning.bench import render, runner
from local_learning.errors import UserError
from local_learning.rules.bp import BP

DEFAULT = '--config=configs/default.py'
QUICK = [DEFAULT + ':rule=bp', '--config.num_epochs=1', '--config.model.widths=(16,)']


def _one_error(result, message):
  assert result.returncode == 2, (result.stdout, result.stderr)
  lines = error_lines(result)
  assert len(lines) == 1 and message in lines[0], result.stderr
  assert 'Traceback' not in result.stderr, result.stderr


def test_a_config_file_returning_an_empty_config(tmp_path):
  (tmp_path / 'empty.py').write_text('import ml_collections\n\n\ndef get_config(arg):\n'
                                     '  return ml_collections.ConfigDict()\n')
  _one_error(run_main(f'--config={tmp_path / "empty.py"}', f'--workdir={tmp_path / "run"}'),
             'the config lacks rule.name, dataset.name, seed, num_seeds, checkpoint_every')
  assert not (tmp_path / 'run').exists()


def test_a_rule_on_a_model_it_cannot_run(tmp_path):
  _one_error(run_main(DEFAULT + ':rule=ff,model=vgg', f'--workdir={tmp_path / "run"}'),
             "rule 'ff' on model 'vgg': train_step failed (TypeError")
  assert not (tmp_path / 'run').exists()


class _Wrong(BP):
  name = '_wrong'


class _WrongShape(_Wrong):
  def train_step(self, state, batch, rng):
    state, metrics = super().train_step(state, batch, rng)
    leaves, tree = jax.tree.flatten(state)
    first = next(i for i, leaf in enumerate(leaves) if leaf.ndim)
    leaves[first] = leaves[first][:1]                                          # one array cut short
    return jax.tree.unflatten(tree, leaves), metrics


class _NotAPytree(_Wrong):
  def init(self, rng):
    return object()


class _VectorMetric(_Wrong):
  def train_step(self, state, batch, rng):
    state, metrics = super().train_step(state, batch, rng)
    return state, dict(metrics, loss=jnp.zeros(3))


@pytest.mark.parametrize('rule_cls, message', [
    (_WrongShape, 'train_step returned state['),
    (_NotAPytree, 'init failed (TypeError'),
    (_VectorMetric, "train_step's metric 'loss' has shape (3,)"),
], ids=['wrong shapes', 'not a pytree', 'vector metric'])
def test_a_plugin_whose_outputs_break_the_contract(rule_cls, message):
  model = testing.tiny_model('mlp')
  rule = testing.make_rule(rule_cls, model)
  with pytest.raises(UserError, match='rule \'_wrong\' on model \'mlp\'') as error:
    contract.check_classification(rule, 'mlp', testing.INPUT_SHAPE, 8)
  assert message in str(error.value) and '\n' not in str(error.value)


def test_contract_check_passes_a_good_rule():
  contract.check_classification(testing.make_rule('pc', testing.tiny_model('mlp')), 'mlp', testing.INPUT_SHAPE, 8)


def test_a_workdir_that_is_a_loop_of_links_or_too_long(tmp_path):
  os.symlink(tmp_path / 'loop', tmp_path / 'loop')
  _one_error(run_main(*QUICK, f'--workdir={tmp_path / "loop" / "run"}'), 'a loop of links')
  _one_error(run_main(*QUICK, f'--workdir={tmp_path / ("x" * 300)}'), 'the path is too long')


def test_a_table_spec_whose_get_table_raises(tmp_path):
  (tmp_path / 'raising.py').write_text('def get_table():\n  return {}["missing"]\n')
  with pytest.raises(UserError, match=r"get_table\(\) in .* raised KeyError: 'missing'"):
    bench.load_table(str(tmp_path / 'raising.py'))


def test_ctrl_c_is_one_line_and_exit_130(tmp_path):
  workdir = tmp_path / 'run'
  command = [sys.executable, '-m', 'local_learning.main', DEFAULT + ':rule=bp', '--config.num_epochs=100000',
             '--config.checkpoint_every=0', '--config.model.widths=(16,)', f'--workdir={workdir}']
  process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  deadline = time.time() + 240
  while time.time() < deadline and process.poll() is None and not (workdir / 'metrics.jsonl').exists():
    time.sleep(0.05)
  process.send_signal(signal.SIGINT)
  _, stderr = process.communicate(timeout=120)
  assert process.returncode == 130, stderr
  line = stderr.strip()      # training finishes its epoch, checkpoints and says so in one line
  assert '\n' not in line and line.startswith('stopped: SIGINT after epoch') and 'resume' in line, stderr


def test_a_full_disk_is_one_line_naming_the_file_and_the_free_space(tmp_path, monkeypatch):
  def full(self, line, seeds, tensorboard=False):
    raise OSError(errno.ENOSPC, 'No space left on device', self.file('metrics.jsonl'))

  monkeypatch.setattr(workdir_lib.Workdir, 'log', full)
  result = run_main(*QUICK, f'--workdir={tmp_path / "run"}')
  _one_error(result, 'no space left to write')
  line = error_lines(result)[0]
  assert 'metrics.jsonl' in line and 'MiB free there' in line and 'resume' in line, line


def test_a_full_disk_while_checkpointing_is_one_line_naming_the_checkpoint(tmp_path, monkeypatch):
  def full(self, step, *args, **kwargs):     # as orbax reports it: its own error, raised from the OSError
    try:
      raise OSError(errno.ENOSPC, 'No space left on device', os.path.join(str(self.directory), str(step)))
    except OSError as e:
      raise RuntimeError('async save failed') from e

  monkeypatch.setattr(ocp.CheckpointManager, 'save', full)
  result = run_main(*QUICK, f'--workdir={tmp_path / "run"}')
  _one_error(result, 'no space left to write')
  line = error_lines(result)[0]
  assert 'checkpoints' in line and 'MiB free there' in line and 'resume' in line, line


@pytest.mark.parametrize('name, damage', [('summary.json', '{"rule": '), ('summary.json', '[1, 2]'),
                                          ('config.json', '{}'), ('config.json', None)],
                         ids=['torn summary', 'a list for a summary', 'a config without fields', 'deleted config'])
def test_a_damaged_run_file_names_overwrite_and_overwrite_works(finished_run, tmp_path, name, damage):
  """--overwrite replaces a damaged run (it failed the same way), and deleting the damaged file is no dead end."""
  workdir = tmp_path / 'run'
  shutil.copytree(finished_run, workdir)
  if damage is None:
    (workdir / name).unlink()
  else:
    (workdir / name).write_text(damage)
  if not (damage is None and name == 'summary.json'):      # (a deleted summary: the run resumes, finished)
    result = run_main(*QUICK, f'--workdir={workdir}')
    _one_error(result, '--overwrite replaces the run')
  result = run_main(*QUICK, f'--workdir={workdir}', '--overwrite')
  assert result.returncode == 0, result.stderr
  assert json.loads((workdir / 'summary.json').read_text())['epochs'] == 1


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory):
  workdir = tmp_path_factory.mktemp('finished') / 'run'
  assert run_main(*QUICK, f'--workdir={workdir}').returncode == 0
  return workdir


def test_a_module_that_registers_no_rule_is_told_so(tmp_path, monkeypatch):
  (tmp_path / 'lab_without_rules.py').write_text('X = 1\n')
  monkeypatch.syspath_prepend(str(tmp_path))
  _one_error(run_main(DEFAULT + ':rule=bp', '--config.rule.name=mine', '--config.rule_module=lab_without_rules',
                      f'--workdir={tmp_path / "run"}'),
             "config.rule_module 'lab_without_rules' was imported and registers no rule of that name")


def test_rules_flag_that_is_empty_or_repeats_a_rule():
  with pytest.raises(UserError, match='names no rule'):
    bench.load_table('quick', rules=[])
  with pytest.raises(UserError, match='names bp more than once'):
    bench.load_table('quick', rules=['bp', 'pc', 'bp'])


def test_a_separation_rule_in_a_classification_table_is_named(tmp_path):
  table = bench.load_table('classic', rules=['pem'])
  with pytest.raises(UserError, match="rule 'pem' supports separation, not classification .* pem is a separation rule"):
    runner.run_table(table, str(tmp_path / 'run'), str(ROOT))
  assert not (tmp_path / 'run').exists()


TABLE = '''
from local_learning import bench

def get_table():
  return bench.Table('one', (bench.Cell('bp', 'digits', 'configs/default.py:rule=bp',
                                        (('num_epochs', 1), ('model.widths', (16,)))),), seeds=1)
'''


def test_rendering_survives_a_torn_line_and_names_a_wrong_summary_and_a_stale_cell_in_the_csv(tmp_path):
  (tmp_path / 'one.py').write_text(TABLE)
  table, workdir = bench.load_table(str(tmp_path / 'one.py')), tmp_path / 'table'
  runner.run_table(table, str(workdir), str(ROOT))
  cell = workdir / 'bp__digits'
  with open(cell / 'metrics.jsonl', 'a') as f:
    f.write('{"epoch": 2, "seco')                             # torn
  assert '| bp |' in render.render(table, str(workdir)).markdown
  summary = json.loads((cell / 'summary.json').read_text())
  summary['provenance']['code']['files']['local_learning/train.py'] = '0' * 64   # as if train.py changed since
  (cell / 'summary.json').write_text(json.dumps(summary))
  assert '(stale)' in render.render(table, str(workdir)).markdown
  assert ',stale,' in (workdir / 'table.csv').read_text()
  (cell / 'summary.json').write_text('[]')
  with pytest.raises(UserError, match='summary.json is damaged .* re-run the cell with --overwrite'):
    render.render(table, str(workdir))
  assert ownership.MARKER in os.listdir(cell)


TWO_CELLS = '''
from local_learning import bench

def get_table(args=''):
  return bench.Table('two', tuple(bench.Cell(rule, 'digits', 'configs/default.py:rule=bp',
                                             (('num_epochs', 1), ('train_examples', examples)))
                                  for rule, examples in (('bp', 100), ('bp_cut', int(args or 100)))), seeds=1)
'''


def test_table_args_that_break_a_later_cell_are_found_before_any_training(tmp_path):
  """--table_args errors appeared after the first cell had started training."""
  (tmp_path / 'two.py').write_text(TWO_CELLS)
  table = bench.load_table(str(tmp_path / 'two.py'), args='100000')
  with pytest.raises(UserError, match='cell bp_cut__digits: train_examples 100000 exceeds the 1437 of digits'):
    runner.run_table(table, str(tmp_path / 'run'), str(ROOT))
  assert not (tmp_path / 'run').exists()


def _table_command(*args):
  return subprocess.run([sys.executable, 'benchmarks/run.py', *args], cwd=ROOT, capture_output=True, text=True,
                        timeout=300)


def test_table_command_mistakes(tmp_path):
  """--render_only with --seeds=-4 was accepted; --check on a table without references said 'all 0 inside'."""
  _one_error(_table_command('--table=quick', f'--workdir={tmp_path}', '--render_only', '--seeds=-4'),
             '--seeds=-4: seeds per cell must be >= 1')
  _one_error(_table_command('--table=quick', f'--workdir={tmp_path}', '--render_only', '--check'),
             "table 'quick' has no cell with a published reference value")
