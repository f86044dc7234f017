"""Datasets: the embedded digits split, and the prepare command (offline from the official archives, checked)."""
import dataclasses
import gzip
import io
import pickle
import shutil
import tarfile

import numpy as np
import pytest
from conftest import MNIST_SOURCE, error_lines, run_cli, run_main

import local_learning as ll
from local_learning import data
from local_learning.data import archives, digits, make_digits, prepare, tfds_source


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
    labels = archives.read_idx(f.read())
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
  with pytest.raises(ll.UserError, match='t10k-labels-idx1-ubyte.gz: SHA-256 .* is not the published one'):
    archives.read('mnist', archives.find('mnist', str(source)))


def test_real_mnist_files_match_their_published_hashes():
  """The embedded hashes are those of ../shared/data/mnist/SHA256SUMS (decompressed), which these files match."""
  if not (MNIST_SOURCE / 'SHA256SUMS').exists():
    pytest.skip('real MNIST not available at ../shared/data/mnist')
  sums = dict(line.split()[::-1] for line in (MNIST_SOURCE / 'SHA256SUMS').read_text().splitlines())
  (files,) = archives.FILES['mnist']
  assert {f.name[:-3]: f.raw_sha256 for f in files} == sums


def _publish(monkeypatch, dataset, path):
  """Makes the file at `path` the published one of its name for `dataset` (a fake archive in a test)."""
  digest = archives.sha256(path.read_bytes())
  alternatives = tuple(tuple(dataclasses.replace(f, sha256=digest, raw_sha256=None) if f.name == path.name else f
                             for f in files) for files in archives.FILES[dataset])
  monkeypatch.setitem(archives.FILES, dataset, alternatives)


def _cifar_archive(folder, dataset, kind, n=6, seed=0):
  """A fake official CIFAR tarball of n images a batch -> (path, {split: {'image', 'label', ...}})."""
  rng = np.random.default_rng(seed)
  classes = 10 if dataset == 'cifar10' else 100
  batches = ({'train': [f'data_batch_{i}' for i in range(1, 6)], 'test': ['test_batch']} if dataset == 'cifar10'
             else {'train': ['train'], 'test': ['test']})
  prefix = {('cifar10', 'python'): 'cifar-10-batches-py', ('cifar10', 'binary'): 'cifar-10-batches-bin',
            ('cifar100', 'python'): 'cifar-100-python', ('cifar100', 'binary'): 'cifar-100-binary'}[dataset, kind]
  path = folder / f'{dataset.replace("cifar", "cifar-")}-{kind}.tar.gz'
  want = {}
  with tarfile.open(path, 'w:gz') as tar:
    for split, names in batches.items():
      parts = []
      for name in names:
        rows = rng.integers(0, 256, (n, 3072), dtype=np.uint8)       # channel-major 3 x 32 x 32
        fine, coarse = rng.integers(0, classes, n), rng.integers(0, 20, n)
        if kind == 'python':
          batch = {b'data': rows, (b'labels' if classes == 10 else b'fine_labels'): list(fine)}
          if classes == 100:
            batch[b'coarse_labels'] = list(coarse)
          data = pickle.dumps(batch)
        else:
          labels = [fine[:, None]] if classes == 10 else [coarse[:, None], fine[:, None]]
          data = np.concatenate([*labels, rows], axis=1).astype(np.uint8).tobytes()
          name += '.bin'
        info = tarfile.TarInfo(f'{prefix}/{name}')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        parts.append(dict(image=rows.reshape(n, 3, 32, 32).transpose(0, 2, 3, 1), label=fine, coarse_label=coarse))
      keys = ('image', 'label') + (('coarse_label',) if classes == 100 else ())
      want[split] = {k: np.concatenate([p[k] for p in parts]) for k in keys}
  return path, want


@pytest.mark.parametrize('dataset,kind', [('cifar10', 'python'), ('cifar100', 'python'), ('cifar10', 'binary'),
                                          ('cifar100', 'binary')])
def test_cifar_archives_are_read_after_their_hash(tmp_path, monkeypatch, dataset, kind):
  path, want = _cifar_archive(tmp_path, dataset, kind)
  with pytest.raises(ll.UserError, match=f'{path.name}: SHA-256 .* is not the published one .*download it again'):
    archives.read(dataset, archives.find(dataset, str(tmp_path)))
  _publish(monkeypatch, dataset, path)
  got = archives.read(dataset, archives.find(dataset, str(tmp_path)))
  for split in ('train', 'test'):
    assert sorted(got[split]) == sorted(want[split])
    for key, array in want[split].items():
      np.testing.assert_array_equal(got[split][key], array)


def test_prepare_names_missing_files_and_unknown_datasets(tmp_path):
  with pytest.raises(ll.UserError, match='cifar-100-python.tar.gz \\(or cifar-100-binary.tar.gz\\) not found in'):
    archives.find('cifar100', str(tmp_path))
  with pytest.raises(ll.UserError, match='train-images-idx3-ubyte.gz \\+ .* not found in'):
    archives.find('fashion_mnist', str(tmp_path))
  with pytest.raises(ll.UserError, match="unknown dataset 'svhn'; prepare one of mnist, fashion_mnist, cifar10"):
    archives.find('svhn', str(tmp_path))


def test_prepare_command_says_one_line(tmp_path):
  """A fake archive in place of the official one: one line naming the file and the published hash, exit 2."""
  _cifar_archive(tmp_path, 'cifar10', 'python', n=1)
  result = run_cli('--dataset=cifar10', f'--source={tmp_path}', f'--data_dir={tmp_path / "tfds"}',
                   module='local_learning.data.prepare')
  assert result.returncode == 2, result.stderr
  (line,) = error_lines(result)
  assert '6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce' in line and 'keras' in line
  assert not (tmp_path / 'tfds').exists()


def test_download_goes_through_tfds_download_manager(tmp_path, monkeypatch):
  """--download: the files tfds's builder downloads, fetched by its DownloadManager (faked here: no network),
  checked, and written as the tfds dataset."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  path, want = _cifar_archive(tmp_path, 'cifar10', 'binary', n=2)
  _publish(monkeypatch, 'cifar10', path)
  urls = []

  def fake_download(self, url_or_urls):
    urls.append(url_or_urls)
    return {name: path for name in url_or_urls}

  monkeypatch.setattr(tfds.download.DownloadManager, 'download', fake_download)
  prepare.download('cifar10', str(tmp_path / 'tfds'))
  assert urls == [{'cifar-10-binary.tar.gz': 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'}]
  x_train, y_train = tfds_source.load_arrays('cifar10', str(tmp_path / 'tfds'))[:2]
  assert sorted(y_train) == sorted(want['train']['label']) and x_train.shape == (10, 32, 32, 3)


def test_unprepared_mnist_says_how_to_prepare(tmp_path):
  result = run_main('--config=configs/mnist_mlp.py:rule=bp', f'--config.dataset.data_dir={tmp_path}',
                    f'--workdir={tmp_path / "run"}')
  assert result.returncode == 2
  (line,) = error_lines(result)
  assert 'not prepared' in line and 'local_learning.data.prepare' in line
