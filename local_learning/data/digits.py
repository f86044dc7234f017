"""scikit-learn's bundled 8x8 handwritten digits: the embedded default dataset.

1797 images, a fixed stratified split of 1437 train / 360 test; no download,
and no scikit-learn at run time: the split ships as digits.npz beside this
file (pixels 0..16 as uint8, labels), written once from scikit-learn's copy by

  python -m local_learning.data.make_digits      (needs scikit-learn, a test extra)

tests/test_data.py checks that the shipped arrays equal scikit-learn's.
"""
import os

import numpy as np

from local_learning.data.dataset import standardized, symmetric_pixels

FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'digits.npz')
KEYS = ('x_train', 'y_train', 'x_test', 'y_test')


def load(symmetric=False):
  """The split, pixels scaled to [0, 1] and standardised (symmetric: mapped to [-1, 1] instead): a Dataset
  of images (N, 8, 8, 1)."""
  with np.load(FILE) as arrays:
    x_train, y_train, x_test, y_test = (arrays[k] for k in KEYS)
  scale = lambda x: x.reshape(-1, 8, 8, 1) / 16.0
  return (symmetric_pixels if symmetric else standardized)('digits', scale(x_train), y_train, scale(x_test), y_test,
                                                           num_classes=10)
