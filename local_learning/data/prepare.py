"""Prepares a tfds image dataset from its official archives, offline, or with --download.

  python -m local_learning.data.prepare --dataset=mnist --source=../shared/data/mnist
  python -m local_learning.data.prepare --dataset=cifar10 --source=~/Downloads      # cifar-10-python.tar.gz
  python -m local_learning.data.prepare --dataset=cifar100 --download               # needs the internet

Checks each file's published SHA-256 (data/archives.py names where each hash
comes from), then writes tfds's own `mnist`, `fashion_mnist`, `cifar10` or
`cifar100` dataset (its builder class, features and version) as array_record
files into the data dir (--data_dir, else TFDS_DATA_DIR, else
~/tensorflow_datasets), which `tfds.data_source` and the trainer read.
--download fetches the files tfds's builder downloads, with tfds's download
manager, into DATA_DIR/downloads, and checks the same hashes; nothing is
downloaded otherwise. Neither needs TensorFlow.
"""
import io
import os

import numpy as np
from absl import flags

from local_learning import cli
from local_learning.data import archives, tfds_source
from local_learning.errors import UserError


def prepare(dataset, source, data_dir):
  """Writes tfds `dataset` into data_dir from the official files in folder `source`; returns its folder."""
  paths = archives.find(dataset, source)
  return write(dataset, archives.read(dataset, paths), data_dir)


def download(dataset, data_dir):
  """Downloads `dataset`'s official files with tfds's download manager, checks them, writes the dataset."""
  return write(dataset, None, data_dir)


def write(dataset, splits: archives.Splits | None, data_dir):
  """Writes tfds `dataset` into data_dir from `splits` ({'train'|'test': {'image': (N, H, W, C) uint8,
  'label': (N,), and CIFAR-100's 'coarse_label'}}), or from a download when splits is None; returns
  the dataset's folder. Tests write tiny fake datasets with it."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from tensorflow_datasets.image_classification import cifar, mnist  # pylint: disable=g-import-not-at-top

  bases = {'mnist': mnist.MNIST, 'fashion_mnist': mnist.FashionMNIST, 'cifar10': cifar.Cifar10,
           'cifar100': cifar.Cifar100}
  if dataset not in bases:
    raise UserError(f'unknown dataset {dataset!r}; prepare one of {", ".join(bases)}')

  class Official(bases[dataset], skip_registration=True):  # ty: ignore[unsupported-base]  (one of four, by name)
    """tfds's own builder, fed from checked local files (or its download manager's) instead of its reader."""
    name = dataset

    def _split_generators(self, dl_manager):  # pylint: disable=arguments-differ
      data = splits
      if data is None:
        files = archives.FILES[dataset][-1]      # the files tfds's builder downloads
        paths = dl_manager.download({f.name: f.url for f in files})
        data = archives.read(dataset, {name: os.fspath(path) for name, path in paths.items()})
      return [tfds.core.SplitGenerator(name=split, gen_kwargs=dict(split=split, arrays=data[split]))
              for split in ('train', 'test')]

    def _generate_examples(self, split, arrays):  # pylint: disable=arguments-differ
      for i in range(len(arrays['label'])):
        example: dict[str, object] = {k: int(v[i]) for k, v in arrays.items() if k != 'image'}
        example['image'] = _png(arrays['image'][i])
        if 'id' in self.info.features:
          example['id'] = f'{split}_{i:05d}'
        yield i, example

  _check_shapes(dataset, splits)
  builder = Official(data_dir=data_dir, file_format='array_record')
  builder.download_and_prepare()
  return builder.data_dir


def _check_shapes(dataset, splits):
  if splits is None:
    return
  shape, _ = tfds_source.SHAPES[dataset]
  for split, arrays in splits.items():
    if arrays['image'].shape[1:] != shape or arrays['image'].dtype != np.uint8:
      raise UserError(f'{dataset} {split} images are {arrays["image"].dtype}{arrays["image"].shape[1:]}, not '
                      f'uint8{shape}')


def _png(image):
  """An (H, W, C) uint8 image as PNG bytes (tfds encodes arrays with TensorFlow, which we do not need)."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(buffer, format='png')
  return buffer.getvalue()


def main(argv):
  if len(argv) > 1:
    raise UserError(f'unexpected arguments {" ".join(argv[1:])}')
  options = flags.FLAGS
  if options.dataset not in archives.NAMES:
    raise UserError(f'unknown dataset {options.dataset!r}; prepare one of {", ".join(archives.NAMES)}')
  if bool(options.source) == options.download:
    raise UserError('give --source=DIR (the folder holding ' + archives.files_needed(options.dataset)
                    + ') or --download, one of them')
  data_dir = os.path.expanduser(options.data_dir or tfds_source.default_data_dir())
  if options.download:
    folder = download(options.dataset, data_dir)
  else:
    folder = prepare(options.dataset, os.path.expanduser(options.source), data_dir)
  print(f'{options.dataset} prepared in {folder}')


if __name__ == '__main__':
  # The flags exist only in this command: the module is also imported as a library.
  flags.DEFINE_string('dataset', None, f'Which tfds dataset to build: {", ".join(archives.NAMES)}.')
  flags.DEFINE_string('source', None, 'Folder holding the official files (idx files, CIFAR tarball).')
  flags.DEFINE_bool('download', False, "Download the official files with tfds's download manager instead.")
  flags.DEFINE_string('data_dir', None, 'tfds data dir (default: TFDS_DATA_DIR or ~/tensorflow_datasets).')
  flags.mark_flag_as_required('dataset')
  cli.run(main)
