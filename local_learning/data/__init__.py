"""Classification datasets by name: `default_config(name)` and `load(config)` -> Dataset.

(The separation task's synthetic sources are data.sources, generated per seed.)
"""
import ml_collections

from local_learning.data import digits, tfds_source
from local_learning.data.dataset import Dataset, standardized

NAMES = ('digits',) + tfds_source.NAMES


def default_config(name):
  """The dataset section of a config; data_dir '' means TFDS_DATA_DIR or ~/tensorflow_datasets."""
  return ml_collections.ConfigDict(dict(name=name, data_dir=''))


def load(config):
  """The named dataset, standardised, in memory."""
  if config.name == 'digits':
    return digits.load()
  data_dir = config.data_dir or tfds_source.default_data_dir()
  x_train, y_train, x_test, y_test, num_classes = tfds_source.load_arrays(config.name, data_dir)
  return standardized(config.name, x_train / 255.0, y_train, x_test / 255.0, y_test, num_classes)


__all__ = ['Dataset', 'NAMES', 'default_config', 'load']
