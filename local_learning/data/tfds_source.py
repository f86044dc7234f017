"""Image classification datasets prepared with tensorflow-datasets.

Read with `tfds.data_source` (array_record files, no TensorFlow needed). A
dataset that is not prepared is an error that says how to prepare it; nothing
is ever downloaded from here.
"""
import functools
import glob
import os
import warnings
from typing import Any, cast

import numpy as np

from local_learning.errors import DatasetUnavailable, UserError

NAMES = ('mnist', 'fashion_mnist', 'cifar10', 'cifar100')
CACHE_NAME = 'local_learning_arrays.npz'
CACHE_KEYS = ('x_train', 'y_train', 'x_test', 'y_test')


def default_data_dir():
  return os.environ.get('TFDS_DATA_DIR', os.path.expanduser('~/tensorflow_datasets'))


def how_to_prepare(name, data_dir):
  if name in ('mnist', 'fashion_mnist'):
    return (f'prepare it offline from the official idx files: python -m local_learning.data.prepare '
            f'--dataset={name} --source=DIR_WITH_IDX_FILES --data_dir={data_dir} (or `make mnist`)')
  return (f'prepare it with tensorflow-datasets on a machine with network access '
          f'(tfds build {name} --file_format=array_record --data_dir={data_dir}) and copy the folder')


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
  cache = os.path.join(sources['train'].dataset_info.data_dir, CACHE_NAME)
  if (arrays := _read_cache(cache)) is not None:
    return arrays
  try:
    num_classes = sources['train'].dataset_info.features['label'].num_classes
    arrays = (*_split(sources['train']), *_split(sources['test']))
  except Exception as e:  # pylint: disable=broad-except
    raise UserError(f'dataset {name!r} in {data_dir} is damaged ({type(e).__name__}: {str(e)[:200]}); '
                    'delete its folder and ' + how_to_prepare(name, data_dir)) from None
  _write_cache(cache, dict(zip(CACHE_KEYS, arrays), num_classes=num_classes))
  return (*arrays, num_classes)


def _read_cache(path):
  """The cached arrays, or None where there is no cache or it is damaged (it is then rebuilt)."""
  if not os.path.exists(path):
    return None
  try:
    with np.load(path) as arrays:
      return tuple(arrays[k] for k in CACHE_KEYS) + (int(arrays['num_classes']),)
  except Exception as e:  # pylint: disable=broad-except
    warnings.warn(f'{path} is damaged ({type(e).__name__}: {e}); decoding the dataset again')
    return None


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
