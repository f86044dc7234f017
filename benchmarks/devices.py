"""Data-parallel training speed on 1, 2 and 4 devices, through the trainer.

  .venv/bin/python benchmarks/devices.py [--devices=1,2,4] [--epochs=2] [--dataset=mnist]

Trains configs/mnist_mlp.py (MLP 784-128-128-128-10, batch 128; PC with
T=8) for bp and pc on meshes of the first 1, 2 and 4 devices, and prints
steps per second, seconds per epoch (the last epoch: compiled, warm) and
the final test accuracy, which must agree across meshes. On a CPU-only
machine the script makes 4 fake CPU devices (XLA_FLAGS
--xla_force_host_platform_device_count=4): they share the same cores, so
this checks that splitting works and shows its overhead, not a speed-up.
On a GPU machine it uses the real devices; with one GPU it prints the
one-device epoch time of bp and pc.
"""
import json
import os
import tempfile

if 'xla_force_host_platform_device_count' not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             ' --xla_force_host_platform_device_count=4').strip()

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app, flags  # pylint: disable=g-import-not-at-top,wrong-import-position

from local_learning import config as ll_config  # pylint: disable=g-import-not-at-top,wrong-import-position
from local_learning import cpu_flags, train  # pylint: disable=g-import-not-at-top,wrong-import-position

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')

flags.DEFINE_list('devices', ['1', '2', '4'], 'Mesh sizes to time (at most the visible devices).')
flags.DEFINE_list('rules', ['bp', 'pc'], 'Rules to time.')
flags.DEFINE_integer('epochs', 2, 'Epochs per run; the last one is timed.')
flags.DEFINE_string('dataset', 'mnist', 'mnist (prepared) or digits.')
FLAGS = flags.FLAGS


def timed_run(rule, num_devices, workdir):
  """The summary and last epoch's seconds of one short run on num_devices devices."""
  config = ll_config.load_file(os.path.join(CONFIGS, 'mnist_mlp.py'), f'rule={rule},dataset={FLAGS.dataset}')
  config.num_epochs, config.num_devices, config.checkpoint_every = FLAGS.epochs, num_devices, 0
  config.checkpoint_seconds = 0.0
  if FLAGS.dataset == 'digits':
    config.batch_size = 32
  summary = train.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    last_epoch = json.loads([line for line in f if line.strip()][-1])
  return summary, last_epoch['seconds']


def main(argv):
  del argv
  sizes = [int(d) for d in FLAGS.devices if int(d) <= jax.device_count()]
  rows = []
  with tempfile.TemporaryDirectory() as root:
    for rule in FLAGS.rules:
      for size in sizes:
        summary, seconds = timed_run(rule, size, os.path.join(root, f'{rule}_{size}'))
        steps = summary.size['steps'] / summary.size['epochs']
        rows.append((rule, size, steps / seconds, seconds, summary.mean('test_accuracy')))
  print(f'\n{jax.devices()[0].device_kind} x {jax.device_count()} visible, {FLAGS.dataset}, '
        f'{FLAGS.epochs} epochs (last one timed)\n')
  print('| rule | devices | steps/s | s/epoch | test accuracy |')
  print('|---|---|---|---|---|')
  for rule, size, speed, seconds, accuracy in rows:
    print(f'| {rule} | {size} | {speed:.0f} | {seconds:.2f} | {accuracy:.4f} |')


if __name__ == '__main__':
  cpu_flags.apply()
  app.run(main)
