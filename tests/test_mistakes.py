"""Every mistake a user can make at the command line is one `error:` line, exit 2, nothing written.

(tests/test_bad_inputs.py covers mistakes in config values, in-process.)
"""
import json
import os
import shutil

import numpy as np
import pytest
from conftest import error_lines, run_cli, run_main

from local_learning import config as ll_config
from local_learning import train
from local_learning.data import prepare, tfds_source
from local_learning.errors import UserError

DEFAULT = '--config=configs/default.py'


def _one_error(result, message):
  assert result.returncode == 2, result.stderr
  lines = error_lines(result)
  assert len(lines) == 1 and message in lines[0], result.stderr
  assert 'Traceback' not in result.stderr, result.stderr


CONFIG_FILES = [
    # (file name, its text, a part of the expected message)
    ('raises.py', 'raise RuntimeError("boom")\n', 'raised RuntimeError: boom when loaded'),
    ('no_function.py', 'x = 1\n', 'has no get_config(arg) function'),
    ('syntax.py', 'def get_config(arg:\n', 'has a syntax error at line 1'),
    ('config.yaml', 'rule: pc\n', 'is not a Python file'),
    ('dict.py', 'def get_config(arg):\n  return {"rule": "pc"}\n', 'returned dict, not an ml_collections.ConfigDict'),
    ('none.py', 'def get_config(arg):\n  return None\n', 'returned NoneType'),
    ('no_argument.py', 'def get_config():\n  pass\n', 'must take one argument'),
    ('fails.py', 'def get_config(arg):\n  return 1 / 0\n', "get_config('') in"),
]


@pytest.mark.parametrize('name, text, message', CONFIG_FILES, ids=[c[0] for c in CONFIG_FILES])
def test_broken_config_file(tmp_path, name, text, message):
  (tmp_path / name).write_text(text)
  _one_error(run_main(f'--config={tmp_path / name}', f'--workdir={tmp_path / "run"}'), message)
  assert not (tmp_path / 'run').exists()


COMMANDS = [
    (['--config=configs/nope.py'], 'config file configs/nope.py not found'),
    ([DEFAULT, '--config.epochs=3'], 'did you mean config.num_epochs?'),
    ([DEFAULT, '--config.rule.lr=0.1'], "config.rule has no field 'lr'"),
    ([DEFAULT, '--config.batch_size=abc'], 'config.batch_size takes an integer'),
    ([DEFAULT, '--config.batch_size=1.5'], 'config.batch_size takes an integer'),
    ([DEFAULT, '--config.model.widths=wide'], 'takes a tuple'),
    ([DEFAULT, '--config.rule'], 'needs a value'),
    ([DEFAULT, '--config.seed=3000000000'], 'exceed 2147483647'),
    (['--config=configs/bss.py', '--config.seed=5000000000'], 'exceed 2147483647'),
    (['--config=configs/bss.py:snr=-inf'], 'snr_db must be a finite number'),
    (['--config=configs/bss.py:snr=nan'], 'snr_db must be a finite number'),
    ([DEFAULT, '--config.rule_module=.relative'], 'not an absolute module name'),
    ([DEFAULT, '--no_such_flag'], "Unknown command line flag 'no_such_flag'"),
    ([DEFAULT, '--config.validation_examples=1437'], 'leaves no training examples of the 1437 in digits'),
    ([DEFAULT, '--config.test_examples=100000'], 'test_examples 100000 exceeds the 360 of digits'),
    ([DEFAULT, '--config.train_examples=5000'], 'train_examples 5000 exceeds the 1437 of digits'),
    ([DEFAULT, '--coordinator_address=localhost:1234'], '--coordinator_address is for multi-process runs'),
    ([DEFAULT, '--distributed', '--num_processes=2'], 'needs --coordinator_address, --process_id too'),
    ([DEFAULT, '--distributed', '--coordinator_address=::::', '--num_processes=1', '--process_id=0'],
     'is not HOST:PORT'),
    ([DEFAULT, '--distributed', '--coordinator_address=node:1234', '--num_processes=2', '--process_id=2'],
     '0 <= process_id < num_processes'),
]


@pytest.mark.parametrize('args, message', COMMANDS, ids=[c[1] for c in COMMANDS])
def test_command_line_mistake(tmp_path, args, message):
  _one_error(run_main(*args, f'--workdir={tmp_path / "run"}'), message)
  assert not (tmp_path / 'run').exists()


@pytest.mark.parametrize('text, message', [
    ('raise RuntimeError("no GPU here")\n', 'raised RuntimeError: no GPU here when imported'),
    ('def broken(:\n', 'has a syntax error'),
])
def test_broken_rule_module(on_pythonpath, text, message):
  tmp_path = on_pythonpath
  (tmp_path / 'broken_lab.py').write_text(text)
  _one_error(run_main(DEFAULT, '--config.rule_module=broken_lab', f'--workdir={tmp_path / "run"}'), message)


def test_workdir_that_is_a_file(tmp_path):
  (tmp_path / 'file').write_text('x')
  _one_error(run_main(DEFAULT, f'--workdir={tmp_path / "file"}'), 'is a file, not a folder')
  _one_error(run_main(DEFAULT, f'--workdir={tmp_path / "file" / "run"}'), 'is a file, not a folder')


def test_workdir_that_is_not_writable_is_refused_before_compiling(tmp_path, monkeypatch):
  monkeypatch.setattr(os, 'access', lambda path, mode: False)    # a read-only folder (tests may run as root)
  config = ll_config.load_file('configs/default.py')
  monkeypatch.setattr(train.tasks.classification.ClassificationTask, 'start',
                      lambda *args: pytest.fail('compiled before checking the workdir'))
  with pytest.raises(UserError, match='is not writable'):
    train.train_and_evaluate(config, str(tmp_path / 'run'))


def test_list_rules_with_a_rule_module_needs_no_config(on_pythonpath):
  (on_pythonpath / 'my_lab_rule.py').write_text(
      'import local_learning as ll\n\n@ll.register\nclass Mine(ll.Rule):\n  name = "mine"\n'
      '  description = "a rule of my lab"\n')
  result = run_main('--list_rules', '--config.rule_module=my_lab_rule')
  assert result.returncode == 0, result.stderr
  assert 'mine' in result.stdout and 'a rule of my lab' in result.stdout


@pytest.mark.parametrize('name', ['summary.json', 'config.json'])
def test_damaged_json_in_a_workdir(tmp_path, name):
  workdir = tmp_path / 'run'
  assert run_main(DEFAULT, '--config.num_epochs=1', f'--workdir={workdir}').returncode == 0
  (workdir / name).write_text('{"rule": ')
  _one_error(run_main(DEFAULT, '--config.num_epochs=1', f'--workdir={workdir}'), f'{name} is damaged')


def _tiny_mnist(data_dir, train=64, test=32, seed=0):
  """Writes a tfds 'mnist' of a few random images into data_dir (a stand-in for MNIST's)."""
  rng = np.random.default_rng(seed)
  splits = {split: dict(image=rng.integers(0, 256, (count, 28, 28, 1), dtype=np.uint8),
                        label=rng.integers(0, 10, count)) for split, count in (('train', train), ('test', test))}
  prepare.write('mnist', splits, str(data_dir))
  return data_dir


@pytest.fixture(scope='module')
def tiny_mnist(tmp_path_factory):
  """A tfds data dir with a tiny 'mnist' prepared from random idx files."""
  return _tiny_mnist(tmp_path_factory.mktemp('tiny_mnist') / 'tfds')


def _damage(data_dir, tmp_path, how):
  copy = tmp_path / 'tfds'
  shutil.copytree(data_dir, copy)
  record = sorted(copy.glob('mnist/*/mnist-train.array_record*'))[0]
  raw = bytearray(record.read_bytes())
  if how == 'truncated':
    raw = raw[:len(raw) // 2]
  else:
    for i in range(len(raw) // 3, len(raw) // 3 + 64):
      raw[i] ^= 0xFF
  record.write_bytes(bytes(raw))
  return copy


@pytest.mark.parametrize('how', ['truncated', 'flipped'])
def test_damaged_prepared_dataset(tiny_mnist, tmp_path, how):
  data_dir = _damage(tiny_mnist, tmp_path, how)
  with pytest.raises(UserError, match="dataset 'mnist' in .* is damaged"):
    tfds_source.load_arrays('mnist', str(data_dir))


def test_damaged_array_cache_is_rebuilt(tiny_mnist, tmp_path):
  data_dir = tmp_path / 'tfds'
  shutil.copytree(tiny_mnist, data_dir)
  want = tfds_source.load_arrays('mnist', str(data_dir))        # writes the cache
  (cache,) = data_dir.glob(f'mnist/*/{tfds_source.CACHE_NAME}')
  cache.write_bytes(cache.read_bytes()[:100])
  tfds_source.load_arrays.cache_clear()
  with pytest.warns(UserWarning, match='is damaged'):
    got = tfds_source.load_arrays('mnist', str(data_dir))
  for a, b in zip(got, want):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('edit', ['shift labels', 'cut to 10 examples'])
def test_a_well_formed_but_stale_cache_is_not_used(tiny_mnist, tmp_path, edit):
  """The issue's cases: a cache with its labels shifted was used without a word (test accuracy 0.007);
  a cut one was reported as 'batch_size exceeds the 100 training examples'."""
  data_dir = tmp_path / 'tfds'
  shutil.copytree(tiny_mnist, data_dir)
  want = tfds_source.load_arrays('mnist', str(data_dir))        # writes the cache
  (cache,) = data_dir.glob(f'mnist/*/{tfds_source.CACHE_NAME}')
  with np.load(cache) as cached:
    arrays = dict(cached)
  if edit == 'shift labels':
    arrays['y_train'] = np.roll(arrays['y_train'], 1)
  else:
    arrays.update(x_train=arrays['x_train'][:10], y_train=arrays['y_train'][:10])
  np.savez(cache, **arrays)
  tfds_source.load_arrays.cache_clear()
  with pytest.warns(UserWarning, match='do not match their SHA-256'):
    got = tfds_source.load_arrays('mnist', str(data_dir))
  for a, b in zip(got, want):
    np.testing.assert_array_equal(a, b)


def test_a_cache_decoded_from_other_files_is_not_used(tiny_mnist, tmp_path):
  other = tmp_path / 'other'
  _tiny_mnist(other, seed=1)
  want = tfds_source.load_arrays('mnist', str(other))
  tfds_source.load_arrays('mnist', str(tiny_mnist))
  (theirs,) = tiny_mnist.glob(f'mnist/*/{tfds_source.CACHE_NAME}')
  (ours,) = other.glob(f'mnist/*/{tfds_source.CACHE_NAME}')
  shutil.copy(theirs, ours)                                  # a cache left from the files prepared before
  tfds_source.load_arrays.cache_clear()
  with pytest.warns(UserWarning, match='not decoded from the dataset files beside it'):
    got = tfds_source.load_arrays('mnist', str(other))
  for a, b in zip(got, want):
    np.testing.assert_array_equal(a, b)


def test_two_epoch_run_prints_progress_and_nothing_else(tmp_path):
  """In a process of its own: all that a user's terminal shows."""
  result = run_cli(DEFAULT, '--config.num_epochs=2', f'--workdir={tmp_path / "run"}')
  assert result.returncode == 0, result.stderr
  assert result.stderr.strip() == '', result.stderr
  assert len(result.stdout.strip().splitlines()) == 2, result.stdout
  assert json.loads((tmp_path / 'run' / 'summary.json').read_text())['status'] == 'ok'
