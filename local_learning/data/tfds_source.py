"""Image classification datasets prepared with tensorflow-datasets.

Read with `tfds.data_source` (array_record files, no TensorFlow needed). A
dataset that is not prepared is an error that says how to prepare it
(data/prepare.py); nothing is ever downloaded from here. The decoded arrays are cached beside the files
with the SHA-256 of the files they came from and of themselves: a cache of
other files, or changed since, is decoded again.
"""
import functools
import glob
import hashlib
import os
import warnings
from typing import Any, cast

import numpy as np

from local_learning.data import archives
from local_learning.errors import DatasetUnavailable, UserError

NAMES = ('mnist', 'fashion_mnist', 'cifar10', 'cifar100')
# (image shape (H, W, C), classes) of each, as tfds's builders declare them (the estimate of a table's
# cost reads them without the data).
SHAPES = {'mnist': ((28, 28, 1), 10), 'fashion_mnist': ((28, 28, 1), 10), 'cifar10': ((32, 32, 3), 10),
          'cifar100': ((32, 32, 3), 100)}
SIZES = {'mnist': (60000, 10000), 'fashion_mnist': (60000, 10000), 'cifar10': (50000, 10000),
         'cifar100': (50000, 10000)}     # (training, test) examples
CACHE_NAME = 'local_learning_arrays.npz'
CACHE_KEYS = ('x_train', 'y_train', 'x_test', 'y_test')


def default_data_dir():
  return os.environ.get('TFDS_DATA_DIR', os.path.expanduser('~/tensorflow_datasets'))


def how_to_prepare(name, data_dir):
  return (f'prepare it offline from its official files: python -m local_learning.data.prepare --dataset={name} '
          f'--source=DIR --data_dir={data_dir} (DIR holding {archives.files_needed(name)}), or with the '
          'internet: --download instead of --source')


def is_prepared(name, data_dir=None):
  """Whether tfds `name` is prepared in data_dir (default: default_data_dir())."""
  return bool(glob.glob(os.path.join(data_dir or default_data_dir(), name, '*', 'dataset_info.json')))


@functools.lru_cache(maxsize=4)
def load_arrays(name, data_dir):
  """(x_train, y_train, x_test, y_test, num_classes) as uint8 / int arrays."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  if not is_prepared(name, data_dir):
    raise DatasetUnavailable(f'dataset {name!r} is not prepared in {data_dir}; ' + how_to_prepare(name, data_dir))
  try:
    # No split given: a dict of the splits.
    sources = cast(dict[str, Any], tfds.data_source(name, data_dir=data_dir, download=False))
  except Exception as e:  # pylint: disable=broad-except
    raise UserError(f'dataset {name!r} in {data_dir} cannot be read ({type(e).__name__}: {e}); '
                    + how_to_prepare(name, data_dir)) from None
  folder = sources['train'].dataset_info.data_dir
  cache, source = os.path.join(folder, CACHE_NAME), _source_digest(folder)
  if (arrays := _read_cache(cache, source)) is not None:
    return arrays
  try:
    num_classes = sources['train'].dataset_info.features['label'].num_classes
    arrays = (*_split(sources['train']), *_split(sources['test']))
  except Exception as e:  # pylint: disable=broad-except
    raise UserError(f'dataset {name!r} in {data_dir} is damaged ({type(e).__name__}: {str(e)[:200]}); '
                    'delete its folder and ' + how_to_prepare(name, data_dir)) from None
  _write_cache(cache, dict(zip(CACHE_KEYS, arrays), num_classes=num_classes, source_sha256=source,
                           arrays_sha256=_arrays_digest(arrays)))
  return (*arrays, num_classes)


def _read_cache(path, source):
  """The cached arrays, or None where there is no cache, or it is damaged, or not the decoding of
  the files whose digest is `source` (it is then rebuilt)."""
  if not os.path.exists(path):
    return None
  try:
    with np.load(path) as cached:
      arrays = tuple(cached[k] for k in CACHE_KEYS)
      keys = (str(cached['source_sha256']) if 'source_sha256' in cached else None,
              str(cached['arrays_sha256']) if 'arrays_sha256' in cached else None)
      num_classes = int(cached['num_classes'])
  except Exception as e:  # pylint: disable=broad-except
    warnings.warn(f'{path} is damaged ({type(e).__name__}: {e}); decoding the dataset again')
    return None
  if keys[0] != source:
    warnings.warn(f'{path} was not decoded from the dataset files beside it (their SHA-256 differs); '
                  'decoding the dataset again')
    return None
  if keys[1] != _arrays_digest(arrays):
    warnings.warn(f'{path} is damaged (its arrays do not match their SHA-256); decoding the dataset again')
    return None
  return (*arrays, num_classes)


def _source_digest(folder):
  """SHA-256 of the names and bytes of the dataset's files in folder (the cache left out)."""
  sha = hashlib.sha256()
  for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if name.startswith(CACHE_NAME) or not os.path.isfile(path):
      continue
    sha.update(name.encode() + b'\0')
    with open(path, 'rb') as f:
      sha.update(hashlib.file_digest(f, 'sha256').digest())
  return sha.hexdigest()


def _arrays_digest(arrays):
  sha = hashlib.sha256()
  for array in arrays:
    sha.update(f'{array.dtype}{array.shape}'.encode() + np.ascontiguousarray(array).tobytes())
  return sha.hexdigest()


def _write_cache(path, arrays):
  """Decoded arrays beside the tfds files: decoding every PNG again costs ~15 s for MNIST."""
  tmp = f'{path}.{os.getpid()}.tmp.npz'
  try:
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
  except OSError:   # a read-only data dir: no cache, still correct
    if os.path.exists(tmp):
      os.remove(tmp)


def _split(source):
  records = source.__getitems__(range(len(source)))
  images = np.stack([r['image'] for r in records])
  labels = np.array([r['label'] for r in records])
  return images, labels
