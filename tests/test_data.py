"""Datasets: the embedded digits split and the offline MNIST preparation."""
import gzip
import shutil

import numpy as np
import pytest
from conftest import MNIST_SOURCE, error_lines, run_main

import local_learning as ll
from local_learning import data
from local_learning.data import digits, make_digits, prepare


def test_digits_split_is_fixed_stratified_and_standardised():
  a, b = data.load(data.default_config('digits')), data.load(data.default_config('digits'))
  assert a.x_train.shape == (1437, 8, 8, 1) and a.x_test.shape == (360, 8, 8, 1)
  np.testing.assert_array_equal(a.y_test, b.y_test)
  counts = np.bincount(a.y_test, minlength=10)
  assert counts.min() >= 35 and counts.max() <= 37
  assert abs(a.x_train.mean()) < 1e-3 and abs(a.x_train.std() - 1) < 1e-2


def test_shipped_digits_are_scikit_learns_split():
  with np.load(digits.FILE) as shipped:
    assert sorted(shipped) == sorted(digits.KEYS)
    for key, expected in make_digits.arrays().items():
      assert shipped[key].dtype == expected.dtype
      np.testing.assert_array_equal(shipped[key], expected)


def test_validation_split_is_the_last_training_examples_and_never_the_test_set():
  full = data.load(data.default_config('digits'))
  split = full.holdout(300)
  np.testing.assert_array_equal(split.x_train, full.x_train[:-300])
  np.testing.assert_array_equal(split.x_test, full.x_train[-300:])
  np.testing.assert_array_equal(split.y_test, full.y_train[-300:])
  assert split.name == 'digits (validation: last 300 training examples)'


def test_mnist_prepared_offline_reads_back_exactly(mnist_data_dir):
  cfg = data.default_config('mnist')
  cfg.data_dir = mnist_data_dir
  ds = data.load(cfg)
  assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
  with gzip.open(MNIST_SOURCE / 't10k-labels-idx1-ubyte.gz') as f:
    labels = prepare.read_idx(f.read())
  assert sorted(np.bincount(ds.y_test)) == sorted(np.bincount(labels))


def test_damaged_idx_file_is_refused(tmp_path):
  if not (MNIST_SOURCE / 'SHA256SUMS').exists():
    pytest.skip('real MNIST not available at ../shared/data/mnist')
  source = tmp_path / 'idx'
  shutil.copytree(MNIST_SOURCE, source)
  with gzip.open(source / 't10k-labels-idx1-ubyte.gz') as f:
    raw = bytearray(f.read())
  raw[100] = (raw[100] + 1) % 10
  with gzip.open(source / 't10k-labels-idx1-ubyte.gz', 'wb') as f:
    f.write(bytes(raw))
  with pytest.raises(ll.UserError, match='does not match SHA256SUMS'):
    prepare.read_verified(str(source))


def test_unprepared_mnist_says_how_to_prepare(tmp_path):
  result = run_main('--config=configs/mnist_mlp.py:rule=bp', f'--config.dataset.data_dir={tmp_path}',
                    f'--workdir={tmp_path / "run"}')
  assert result.returncode == 2
  (line,) = error_lines(result)
  assert 'not prepared' in line and 'local_learning.data.prepare' in line
