"""Classification datasets by name: `default_config(name)` and `load(config)` -> Dataset.

(The separation task's synthetic sources are data.sources, generated per seed.)
"""
import ml_collections

from local_learning.data import digits, tfds_source
from local_learning.data.dataset import Dataset, standardized, symmetric_pixels

NAMES = ('digits',) + tfds_source.NAMES
PIXELS = ('standardize', 'symmetric')


def default_config(name):
  """The dataset section of a config; data_dir '' means TFDS_DATA_DIR or ~/tensorflow_datasets; pixels:
  'standardize' (by the training set's per-channel mean and std) or 'symmetric' ([0, 1] mapped to [-1, 1],
  (x - 0.5) / 0.5, as ePC's reference)."""
  return ml_collections.ConfigDict(dict(name=name, data_dir='', pixels='standardize'))


def problems(config):
  """Mistakes in a config.dataset section beyond its name, one line each."""
  pixels = config.get('pixels', 'standardize')
  return [] if pixels in PIXELS else [f'unknown config.dataset.pixels {pixels!r}; choose one of {", ".join(PIXELS)}']


def load(config):
  """The named dataset, in memory, its pixels standardised or in [-1, 1] (config.pixels)."""
  symmetric = config.get('pixels', 'standardize') == 'symmetric'
  if config.name == 'digits':
    return digits.load(symmetric)
  data_dir = config.data_dir or tfds_source.default_data_dir()
  x_train, y_train, x_test, y_test, num_classes = tfds_source.load_arrays(config.name, data_dir)
  scale = symmetric_pixels if symmetric else standardized
  return scale(config.name, x_train / 255.0, y_train, x_test / 255.0, y_test, num_classes)


__all__ = ['Dataset', 'NAMES', 'PIXELS', 'default_config', 'load', 'problems']
