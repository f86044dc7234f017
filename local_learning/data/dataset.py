"""The in-memory classification dataset every loader returns."""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Dataset:
  """Images (N, H, W, C) float32, standardised; labels (N,) int32."""
  name: str
  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray
  num_classes: int

  @property
  def input_shape(self):
    return self.x_train.shape[1:]

  def first(self, train=0, test=0):
    """This dataset cut to its first `train` training and `test` test examples (0: all), e.g. a
    fixed batch for full-batch training; the standardisation stays the full set's."""
    train, test = train or len(self.x_train), test or len(self.x_test)
    return dataclasses.replace(self, x_train=self.x_train[:train], y_train=self.y_train[:train],
                               x_test=self.x_test[:test], y_test=self.y_test[:test])

  def holdout(self, n):
    """The last n training examples as the evaluation set, the others to train on: a validation
    split for choosing settings without the test set (the standardisation stays the full
    training set's)."""
    return dataclasses.replace(self, name=f'{self.name} (validation: last {n} training examples)',
                               x_train=self.x_train[:-n], y_train=self.y_train[:-n],
                               x_test=self.x_train[-n:], y_test=self.y_train[-n:])


def standardized(name, x_train, y_train, x_test, y_test, num_classes):
  """A Dataset with pixels scaled by the training set's per-channel mean and std."""
  axes = tuple(range(x_train.ndim - 1))
  mean = x_train.mean(axis=axes, dtype=np.float64)
  std = x_train.std(axis=axes, dtype=np.float64) + 1e-8
  scale = lambda x: ((x - mean) / std).astype(np.float32)
  return Dataset(name, scale(x_train), y_train.astype(np.int32), scale(x_test),
                 y_test.astype(np.int32), num_classes)


def symmetric_pixels(name, x_train, y_train, x_test, y_test, num_classes):
  """A Dataset with pixels in [0, 1] mapped to [-1, 1]: (x - 0.5) / 0.5 (ePC's reference's Normalize(0.5, 0.5))."""
  scale = lambda x: (2.0 * x - 1.0).astype(np.float32)
  return Dataset(name, scale(x_train), y_train.astype(np.int32), scale(x_test),
                 y_test.astype(np.int32), num_classes)
