"""The official archives of the tfds image datasets, read offline after checking their published SHA-256.

A dataset's files, in one source folder, with the SHA-256 each must have:

  mnist          the four idx files, gzip-compressed (or not): the SHA-256 of the decompressed bytes as
                 ../shared/data/mnist/SHA256SUMS pins them (the values widely pinned for the official files),
                 or of the .gz file as tfds downloads it (tensorflow_datasets/url_checksums/mnist.txt)
  fashion_mnist  the four idx files, gzip-compressed: tfds's (url_checksums/fashion_mnist.txt)
  cifar10        cifar-10-python.tar.gz: Keras's (keras/datasets/cifar10.py, file_hash; the Toronto page
                 publishes its MD5, c58f30108f718f92721af3b95e74349a), or cifar-10-binary.tar.gz: tfds's
                 (url_checksums/cifar10.txt)
  cifar100       cifar-100-python.tar.gz: Keras's (keras/datasets/cifar100.py; MD5 eb9058c3a382ffc7106e4002c42a8d85
                 on the Toronto page), or cifar-100-binary.tar.gz: tfds's (url_checksums/cifar100.txt)

An archive is unpacked (and a CIFAR python batch unpickled) only after its hash matched.
"""
import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import tarfile
import zlib

import numpy as np

from local_learning.errors import UserError

IDX_NAMES = {'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
             'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')}


@dataclasses.dataclass(frozen=True)
class Published:
  """A file of an official archive: its name, where tfds downloads it, the SHA-256 of the file and,
  for a gzip-compressed one, of its decompressed bytes (None: not published)."""
  name: str
  url: str
  sha256: str | None
  raw_sha256: str | None = None
  source: str = ''


_TFDS = 'tensorflow_datasets/url_checksums/{}.txt'
_MNIST_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'
_FASHION_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'
_TORONTO = 'https://www.cs.toronto.edu/~kriz/'
_MNIST_SOURCE = 'tfds ' + _TFDS.format('mnist') + ' (.gz); ../shared/data/mnist/SHA256SUMS (decompressed)'

# Each dataset's files: a tuple of alternatives, each a tuple of the files it needs.
FILES = {
    'mnist': ((
        Published('train-images-idx3-ubyte.gz', _MNIST_URL + 'train-images-idx3-ubyte.gz',
                  '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
                  'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db', _MNIST_SOURCE),
        Published('train-labels-idx1-ubyte.gz', _MNIST_URL + 'train-labels-idx1-ubyte.gz',
                  '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
                  '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5', _MNIST_SOURCE),
        Published('t10k-images-idx3-ubyte.gz', _MNIST_URL + 't10k-images-idx3-ubyte.gz',
                  '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
                  '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7', _MNIST_SOURCE),
        Published('t10k-labels-idx1-ubyte.gz', _MNIST_URL + 't10k-labels-idx1-ubyte.gz',
                  'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
                  'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2', _MNIST_SOURCE),
    ),),
    'fashion_mnist': ((
        Published('train-images-idx3-ubyte.gz', _FASHION_URL + 'train-images-idx3-ubyte.gz',
                  '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
                  source='tfds ' + _TFDS.format('fashion_mnist')),
        Published('train-labels-idx1-ubyte.gz', _FASHION_URL + 'train-labels-idx1-ubyte.gz',
                  'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
                  source='tfds ' + _TFDS.format('fashion_mnist')),
        Published('t10k-images-idx3-ubyte.gz', _FASHION_URL + 't10k-images-idx3-ubyte.gz',
                  '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
                  source='tfds ' + _TFDS.format('fashion_mnist')),
        Published('t10k-labels-idx1-ubyte.gz', _FASHION_URL + 't10k-labels-idx1-ubyte.gz',
                  '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
                  source='tfds ' + _TFDS.format('fashion_mnist')),
    ),),
    'cifar10': (
        (Published('cifar-10-python.tar.gz', _TORONTO + 'cifar-10-python.tar.gz',
                   '6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce',
                   source='keras/datasets/cifar10.py'),),
        (Published('cifar-10-binary.tar.gz', _TORONTO + 'cifar-10-binary.tar.gz',
                   'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
                   source='tfds ' + _TFDS.format('cifar10')),),
    ),
    'cifar100': (
        (Published('cifar-100-python.tar.gz', _TORONTO + 'cifar-100-python.tar.gz',
                   '85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7',
                   source='keras/datasets/cifar100.py'),),
        (Published('cifar-100-binary.tar.gz', _TORONTO + 'cifar-100-binary.tar.gz',
                   '58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec',
                   source='tfds ' + _TFDS.format('cifar100')),),
    ),
}
NAMES = tuple(FILES)
Splits = dict[str, dict[str, np.ndarray]]      # {'train'|'test': {'image': (N, H, W, C) uint8, 'label': (N,), ...}}


def files_needed(dataset):
  """'a, b, c and d' or 'a (or b)': the files `dataset` needs, for messages."""
  alternatives = [' + '.join(f.name for f in files) for files in FILES[dataset]]
  return ' (or '.join(alternatives) + ')' * (len(alternatives) - 1)


def find(dataset, source):
  """{name: path} of the first alternative whose files are all in folder `source` (an idx file also
  without .gz); a UserError naming what is missing otherwise."""
  if dataset not in FILES:
    raise UserError(f'unknown dataset {dataset!r}; prepare one of {", ".join(NAMES)}')
  if not os.path.isdir(source):
    raise UserError(f'--source={source} is not a folder; give the folder holding {files_needed(dataset)}')
  for files in FILES[dataset]:
    paths = {}
    for f in files:
      candidates = [f.name] + ([f.name[:-3]] if f.name.endswith('.gz') and f.raw_sha256 else [])
      found = [os.path.join(source, c) for c in candidates if os.path.isfile(os.path.join(source, c))]
      if not found:
        break
      paths[f.name] = found[0]
    else:
      return paths
  raise UserError(f'{dataset}: {files_needed(dataset)} not found in {source}; download the official archive '
                  f'(or use --download) and give its folder as --source')


def read(dataset, paths):
  """The splits of `dataset` from {published name: path} (find's), each file's SHA-256 checked first."""
  published = {f.name: f for files in FILES[dataset] for f in files}
  contents = {name: _verified(published[name], path) for name, path in paths.items()}
  if dataset in ('mnist', 'fashion_mnist'):
    return {split: _idx_split(*(_gunzip(paths[name + '.gz'], contents[name + '.gz']) for name in names))
            for split, names in IDX_NAMES.items()}
  (name, data), = contents.items()
  try:
    return (_cifar_python if 'python' in name else _cifar_binary)(dataset, data)
  except (tarfile.TarError, KeyError, ValueError, pickle.UnpicklingError, EOFError) as e:
    raise UserError(f'{paths[name]} matches its published SHA-256 but cannot be read ({type(e).__name__}: {e})'
                    ) from None


def sha256(data):
  return hashlib.sha256(data).hexdigest()


def _verified(published, path):
  """The bytes of `path` after checking the published SHA-256: its own, or (MNIST) its decompressed bytes'."""
  with open(path, 'rb') as f:
    data = f.read()
  digest = sha256(data)
  if digest == published.sha256:
    return data
  if published.raw_sha256:
    raw = _gunzip(path, data)
    if sha256(raw) == published.raw_sha256:
      return raw
  raise UserError(f'{path}: SHA-256 {digest} is not the published one of {published.name} '
                  f'({published.sha256 or published.raw_sha256}, from {published.source}); the file is damaged or '
                  'not the official one: download it again')


def _gunzip(path, data):
  """data decompressed where it is gzip-compressed (an idx file may come either way)."""
  if data[:2] != b'\x1f\x8b':
    return data
  try:
    return gzip.decompress(data)
  except (OSError, EOFError, zlib.error) as e:
    raise UserError(f'{path} is damaged: it does not decompress ({e}); download it again') from None


def read_idx(data):
  """An idx file's bytes (decompressed) as a uint8 array of its declared shape."""
  ndim = data[3]
  shape = np.frombuffer(data[4:4 + 4 * ndim], dtype='>u4')
  return np.frombuffer(data[4 + 4 * ndim:], dtype=np.uint8).reshape(shape)


def _idx_split(images, labels):
  return dict(image=read_idx(images)[..., None], label=read_idx(labels).astype(np.int64))


def _members(data):
  with tarfile.open(fileobj=io.BytesIO(data), mode='r:gz') as tar:
    files = {m: tar.extractfile(m) for m in tar.getmembers() if m.isfile()}
    return {os.path.basename(m.name): f.read() for m, f in files.items() if f is not None}


def _cifar_python(dataset, data):
  """The python-format batches: pickled dicts of b'data' (N, 3072) channel-major rows and labels."""
  members = _members(data)
  names = ({'train': [f'data_batch_{i}' for i in range(1, 6)], 'test': ['test_batch']} if dataset == 'cifar10'
           else {'train': ['train'], 'test': ['test']})
  keys = {'label': b'labels'} if dataset == 'cifar10' else {'label': b'fine_labels', 'coarse_label': b'coarse_labels'}
  splits = {}
  for split, batches in names.items():
    loaded = [pickle.loads(members[b], encoding='bytes') for b in batches]    # verified archive: trusted bytes
    images = np.concatenate([d[b'data'] for d in loaded]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    splits[split] = dict(image=np.ascontiguousarray(images, np.uint8),
                         **{k: np.concatenate([d[key] for d in loaded]).astype(np.int64) for k, key in keys.items()})
  return splits


def _cifar_binary(dataset, data):
  """The binary format: records of label byte(s) (CIFAR-100: coarse, fine) and 3072 channel-major pixels."""
  members = _members(data)
  names = ({'train': [f'data_batch_{i}.bin' for i in range(1, 6)], 'test': ['test_batch.bin']}
           if dataset == 'cifar10' else {'train': ['train.bin'], 'test': ['test.bin']})
  labels = ('label',) if dataset == 'cifar10' else ('coarse_label', 'label')
  splits = {}
  for split, files in names.items():
    rows = np.frombuffer(b''.join(members[f] for f in files), np.uint8).reshape(-1, len(labels) + 3072)
    images = rows[:, len(labels):].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    splits[split] = dict(image=np.ascontiguousarray(images),
                         **{k: rows[:, i].astype(np.int64) for i, k in enumerate(labels)})
  return splits
