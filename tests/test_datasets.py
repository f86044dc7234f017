"""Every dataset the project lists, without its data: tiny fake datasets in tfds's format (conftest's
fake_tfds) read back, and every cell of the classic table trained a few steps on them."""
import dataclasses
import json
import os

import numpy as np
import pytest
from conftest import FAKE_SIZES

from local_learning import data, train
from local_learning.bench import estimate, runner, spec
from local_learning.data import tfds_source


def test_every_listed_dataset_has_a_fake():
  assert sorted(FAKE_SIZES) == sorted(tfds_source.NAMES) == sorted(set(data.NAMES) - {'digits'})


@pytest.mark.parametrize('name', tfds_source.NAMES)
def test_fake_dataset_reads_back_standardised(fake_tfds, name):
  data_dir, written = fake_tfds
  config = data.default_config(name)
  config.data_dir = data_dir
  ds = data.load(config)
  shape, classes = tfds_source.SHAPES[name]
  train, test = FAKE_SIZES[name]
  assert ds.x_train.shape == (train, *shape) and ds.x_test.shape == (test, *shape) and ds.num_classes == classes
  assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int32
  np.testing.assert_allclose(ds.x_train.mean(axis=(0, 1, 2)), 0, atol=1e-4)      # per channel
  np.testing.assert_allclose(ds.x_train.std(axis=(0, 1, 2)), 1, atol=1e-3)
  for split, y in (('train', ds.y_train), ('test', ds.y_test)):
    np.testing.assert_array_equal(np.bincount(y, minlength=classes), np.bincount(written[name][split]['label']))
  # Every image comes back with its own label (tfds stores them in its own shuffled order).
  x, y = tfds_source.load_arrays(name, data_dir)[:2]
  train = written[name]['train']
  label_of = {image.tobytes(): label for image, label in zip(train['image'], train['label'])}
  assert [label_of[image.tobytes()] for image in x] == list(y)


TINY = {'MLP': (('model.widths', (8,)),), 'VGG': (('model.channels', (4,)),)}     # one conv block, pooled, dense
DATASET = {'MNIST': 'mnist', 'Fashion-MNIST': 'fashion_mnist', 'CIFAR-10': 'cifar10', 'CIFAR-100': 'cifar100'}


def test_bp_and_pc_train_on_every_dataset_through_the_table(fake_tfds, tmp_path, monkeypatch):
  """Classic cells of bp and pc, each dataset once, with their own config (loss, optimizer, activation), cut to
  one epoch of 2 steps with tiny widths and one seed, through the table runner and the trainer on the fake data."""
  chosen = ('bp__MNIST_MLP', 'pc__Fashion-MNIST_MLP', 'bp__CIFAR-10_VGG-5', 'pc__CIFAR-100_VGG-5')
  _train_tiny(spec.load_table('classic', ['bp', 'pc']), chosen, fake_tfds, tmp_path, monkeypatch)


@pytest.mark.skipif(not os.environ.get('LOCAL_LEARNING_ALL_CELLS'),
                    reason='every classic cell trained costs ~4 min of CPU: LOCAL_LEARNING_ALL_CELLS=1 runs it')
def test_every_classic_cell_trains(fake_tfds, tmp_path, monkeypatch):
  table = spec.load_table('classic')
  _train_tiny(table, [c.id for c in table.cells], fake_tfds, tmp_path, monkeypatch)


def _train_tiny(table, chosen, fake_tfds, tmp_path, monkeypatch):
  """Trains the cells `chosen` of `table` on the fake datasets, each cut to one epoch of 2 steps, tiny widths and
  one seed; checks every summary (the dataset, the steps, every test image evaluated)."""
  monkeypatch.setenv('TFDS_DATA_DIR', fake_tfds[0])
  common = (('num_epochs', 1), ('batch_size', 16), ('train_examples', 32))
  cells = tuple(dataclasses.replace(c, overrides=c.overrides + common + TINY[c.column.split()[-1][:3]])
                for c in table.cells if c.id in chosen)
  assert len(cells) == len(chosen)
  outcome = runner.run_table(dataclasses.replace(table, cells=cells), str(tmp_path), spec.root(), seeds=1)
  assert set(outcome.values()) == {'done'}, {k: v for k, v in outcome.items() if v != 'done'}
  for cell in cells:
    summary = json.loads((tmp_path / cell.id / 'summary.json').read_text())
    name = DATASET[cell.column.split(' / ')[0]]
    assert summary['dataset'] == name and summary['steps'] == 2 and summary['status'] == 'ok', (cell.id, summary)
    correct = summary['test_accuracy'] * FAKE_SIZES[name][1]     # evaluated on every test image
    assert abs(correct - round(correct)) < 1e-6, (cell.id, summary['test_accuracy'])


def test_every_classic_cell_traces_at_full_size_and_has_an_estimate():
  """Every cell's real config (VGG-5 of 128-512 channels, batch 128) checked, and its train step and evaluation
  traced on abstract MNIST / CIFAR-10 shapes (no data, no compilation): what the table command prints first.
  CIFAR-100's cells (the same programs but for 100 classes, its activations and T) are checked, not traced, to
  save 13 traces (~4 s of CPU); bp's and pc's train in the test above."""
  table = spec.load_table('classic')
  configs = [(c, c.build_config(3, spec.root())) for c in table.cells]
  for _, config in configs:
    train.check(config)
  traced = [(c, config) for c, config in configs if 'CIFAR-100' not in c.column]
  lines = estimate.lines(traced)
  assert len(lines) == len(traced) + 2 and all(' PFLOP: ' in line for line in lines[1:-1]), lines
  estimates = dict(line.strip().split(': ', 1) for line in lines[1:-1])
  assert all(estimates[f'{c.row}__MNIST_MLP'] == estimates[f'{c.row}__Fashion-MNIST_MLP'] for c, _ in traced)
  bp_vgg = next(config for c, config in configs if c.id == 'bp__CIFAR-10_VGG-5')
  step, steps, _ = estimate.run_flops(bp_vgg)
  # By hand: a 3x3 convolution's FLOPs are 2 * B * H * W * C_in * 9 * C_out at its (pooled) input size.
  convs = [2 * 128 * hw * hw * c_in * 9 * c_out for hw, c_in, c_out in
           ((32, 3, 128), (16, 128, 256), (8, 256, 512), (4, 512, 512))]
  forward = sum(convs) + 2 * 128 * 2048 * 10
  # BP: the forward pass, every weight gradient, every input gradient but the first layer's.
  assert steps == 390 and step == 3 * forward - convs[0]
