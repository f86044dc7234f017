"""Datasets by name: `default_config(name)` and `load(config)` -> Dataset."""
import ml_collections

from local_learning.data import digits, sources, tfds_source
from local_learning.data.dataset import Dataset, standardized
from local_learning.errors import UserError

NAMES = ('digits',) + tfds_source.NAMES + ('sources',)
TASK_OF = {name: 'classification' for name in NAMES}
TASK_OF['sources'] = 'separation'     # generated per seed by the separation trainer (data.sources)


def default_config(name):
  """The dataset section of a config; data_dir '' means TFDS_DATA_DIR or ~/tensorflow_datasets."""
  _check_name(name)
  if name == 'sources':
    return sources.default_config()
  return ml_collections.ConfigDict(dict(name=name, data_dir=''))


def task_of(name):
  """The task a dataset poses: 'classification' or 'separation'."""
  _check_name(name)
  return TASK_OF[name]


def load(config):
  """The named dataset, standardised, in memory."""
  _check_name(config.name)
  if config.name == 'digits':
    return digits.load()
  data_dir = config.data_dir or tfds_source.default_data_dir()
  x_train, y_train, x_test, y_test, num_classes = tfds_source.load_arrays(config.name, data_dir)
  return standardized(config.name, x_train / 255.0, y_train, x_test / 255.0, y_test, num_classes)


def _check_name(name):
  if name not in NAMES:
    raise UserError(f'unknown dataset {name!r}; known datasets: {", ".join(NAMES)}')


__all__ = ['Dataset', 'NAMES', 'default_config', 'load', 'task_of']
