"""Builds a tfds dataset offline from the official MNIST-format idx files.

  python -m local_learning.data.prepare --dataset=mnist \
      --source=../shared/data/mnist --data_dir=~/tensorflow_datasets

Checks each file's SHA-256 (of the decompressed bytes) against SHA256SUMS in
the source folder, then writes tfds's own `mnist` (or `fashion_mnist`) dataset
as array_record files that `tfds.data_source` reads. Nothing is downloaded.
"""
import gzip
import hashlib
import io
import os
import zlib

import numpy as np
from absl import flags

from local_learning import cli
from local_learning.data import tfds_source
from local_learning.errors import UserError

FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}


def read_idx(data):
  """An idx file's bytes (decompressed) as a uint8 array of its declared shape."""
  ndim = data[3]
  shape = np.frombuffer(data[4:4 + 4 * ndim], dtype='>u4')
  return np.frombuffer(data[4 + 4 * ndim:], dtype=np.uint8).reshape(shape)


def read_verified(source):
  """{split: (images (N, 28, 28, 1), labels (N,))}, after checking SHA256SUMS."""
  sums_path = os.path.join(source, 'SHA256SUMS')
  if not os.path.exists(sums_path):
    raise UserError(f'{sums_path} not found; the source folder needs the four idx files and SHA256SUMS')
  with open(sums_path) as f:
    expected = {line.split()[1].lstrip('*'): line.split()[0] for line in f if line.strip()}
  arrays = {}
  for split, names in FILES.items():
    decoded = []
    for name in names:
      path = os.path.join(source, name)
      if not os.path.exists(path):
        raise UserError(f'{path} not found; the source folder needs the four official idx files')
      want = expected.get(name) or expected.get(name[:-3])
      if want is None:
        raise UserError(f'{name} (or {name[:-3]}) is not listed in {sums_path}; the source folder needs the '
                        'SHA256SUMS that came with the idx files')
      try:
        with gzip.open(path, 'rb') as f:
          data = f.read()
      except (OSError, EOFError, zlib.error) as e:
        raise UserError(f'{path} is damaged: it does not decompress ({e}); copy it again') from None
      digest = hashlib.sha256(data).hexdigest()
      if digest != want:
        raise UserError(f'{path}: SHA-256 {digest} does not match SHA256SUMS ({want}); the file is damaged')
      decoded.append(read_idx(data))
    images, labels = decoded
    arrays[split] = (images[..., None], labels)
  return arrays


def prepare(dataset, source, data_dir):
  """Writes tfds `dataset` (mnist or fashion_mnist) into data_dir; returns its folder."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from tensorflow_datasets.image_classification import mnist as tfds_mnist  # pylint: disable=g-import-not-at-top

  bases = {'mnist': tfds_mnist.MNIST, 'fashion_mnist': tfds_mnist.FashionMNIST}
  if dataset not in bases:
    raise UserError(f'cannot prepare {dataset!r} from idx files; choose mnist or fashion_mnist')
  arrays = read_verified(source)

  def png(image):
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0]).save(buffer, format='png')
    return buffer.getvalue()

  class FromIdx(bases[dataset], skip_registration=True):  # ty: ignore[unsupported-base]  (one of two, by name)
    """tfds's own builder, fed from local files instead of a download."""
    name = dataset

    def _split_generators(self, dl_manager):
      del dl_manager
      return [tfds.core.SplitGenerator(name=split, gen_kwargs=dict(split=split)) for split in FILES]

    def _generate_examples(self, split):  # pylint: disable=arguments-differ
      images, labels = arrays[split]
      for i, (image, label) in enumerate(zip(images, labels)):
        yield i, {'image': png(image), 'label': int(label)}

  builder = FromIdx(data_dir=data_dir, file_format='array_record')
  builder.download_and_prepare()
  return builder.data_dir


def main(argv):
  del argv
  options = flags.FLAGS
  if not options.source:
    raise UserError('--source=DIR is required: the folder with the four idx files and SHA256SUMS')
  data_dir = os.path.expanduser(options.data_dir or tfds_source.default_data_dir())
  print(f'{options.dataset} prepared in {prepare(options.dataset, options.source, data_dir)}')


if __name__ == '__main__':
  # The flags exist only in this command: the module is also imported as a library.
  flags.DEFINE_enum('dataset', 'mnist', ['mnist', 'fashion_mnist'], 'Which tfds dataset to build.')
  flags.DEFINE_string('source', None, 'Folder with the four idx files and SHA256SUMS.')
  flags.DEFINE_string('data_dir', None, 'tfds data dir (default: TFDS_DATA_DIR or ~/tensorflow_datasets).')
  cli.run(main)
