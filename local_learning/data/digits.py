"""scikit-learn's bundled 8x8 handwritten digits: the embedded default dataset.

1797 images, a fixed stratified split of 1437 train / 360 test; no download.
"""
from local_learning.data.dataset import standardized


def load():
  from sklearn import datasets, model_selection  # pylint: disable=g-import-not-at-top  (0.8 s to import)
  digits = datasets.load_digits()
  images = digits.images.reshape(-1, 8, 8, 1) / 16.0
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
      images, digits.target, test_size=360, stratify=digits.target, random_state=0)
  return standardized('digits', x_train, y_train, x_test, y_test, num_classes=10)
