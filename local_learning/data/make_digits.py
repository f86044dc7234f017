"""Writes digits.npz, the embedded digits split, from scikit-learn's load_digits (run once; a
development tool that needs scikit-learn, a test extra):

  python -m local_learning.data.make_digits
"""
import numpy as np
from sklearn import datasets, model_selection

from local_learning.data import digits


def arrays():
  """{x_train (1437, 8, 8), y_train (1437,), x_test (360, 8, 8), y_test (360,)} as uint8 (pixels
  0..16): scikit-learn's digits in a fixed stratified split of 360 test images."""
  loaded = datasets.load_digits()
  split = model_selection.train_test_split(
      loaded.images, loaded.target, test_size=360, stratify=loaded.target, random_state=0)
  return {k: a.astype(np.uint8) for k, a in zip(('x_train', 'x_test', 'y_train', 'y_test'), split)}


if __name__ == '__main__':
  written = arrays()
  np.savez_compressed(digits.FILE, **written)
  print(f'wrote {digits.FILE}: ' + ', '.join(f'{k} {written[k].shape}' for k in digits.KEYS))
