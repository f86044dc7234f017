"""Tuning trials per hour: K trials as K lanes of one program (trial_lanes) against one trial at a time.

  .venv/bin/python benchmarks/tune_speed.py [--rules=bp,pc] [--lanes=1,4,8,16] [--epochs=1]
      [--train_examples=0] [--validation_examples=10000] [--rounds=2] [--dataset=mnist] [--layouts=vmap]

Trials are the MNIST MLP protocol (configs/mnist_mlp.py; `make mnist` first, or --dataset=digits)
for --epochs epochs, trained on all but the last --validation_examples training examples (the
first --train_examples of them where given) and evaluated on those, as tuning trials are; their
optimizer learning rate and weight decay are drawn log-uniformly (1e-4..1e-2, 1e-5..1e-2) with a
fixed seed. K = 1 is the plain trainer, train.train_and_evaluate, one trial after another; K > 1
trains K trials with trial_lanes.train_lanes. Each is timed from the call to its return (data,
compilation, training, evaluation, workdir files); checkpoints are off for both (config.
checkpoint_every = 0). trials/h = trials / seconds, the median of --rounds rounds (each round
times every K once; an untimed trial first loads the libraries). The layout column says how
each round's lanes ran: vmapped, or one after another (--layouts=vmap,loop times both on a
probe and keeps the faster). The machine's load average is printed before and after: other
processes on its cores slow every row alike, not the ratios.
"""
import os
import statistics
import tempfile
import time

import jax
import numpy as np
from absl import flags

from local_learning import cli, train, trial_lanes
from local_learning import config as ll_config

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')
flags.DEFINE_list('rules', ['bp', 'pc'], 'Rules to time.')
flags.DEFINE_list('lanes', ['1', '4', '8', '16'], 'Trials per program (1: train.train_and_evaluate per trial).')
flags.DEFINE_integer('epochs', 1, 'Epochs per trial.')
flags.DEFINE_integer('train_examples', 0, 'Train on the first N training examples (0: all but the validation ones).')
flags.DEFINE_integer('validation_examples', 10000, 'Examples held out of training to evaluate trials on.')
flags.DEFINE_integer('rounds', 2, 'Timed rounds (median reported).')
flags.DEFINE_string('dataset', 'mnist', 'mnist (prepared by `make mnist`) or digits.')
flags.DEFINE_list('layouts', ['vmap'], 'Lane layouts to try (trial_lanes.LAYOUTS; several: the faster on a probe).')
FLAGS = flags.FLAGS


def _configs(rule, count, rng):
  """count trial configs of the MNIST MLP protocol with drawn weight learning rates and decays."""
  configs = []
  for _ in range(count):
    config = ll_config.load_file(os.path.join(CONFIGS, 'mnist_mlp.py'), f'rule={rule},dataset={FLAGS.dataset}')
    config.num_epochs, config.checkpoint_every = FLAGS.epochs, 0
    config.train_examples, config.validation_examples = FLAGS.train_examples, FLAGS.validation_examples
    config.rule.optimizer.learning_rate = float(10 ** rng.uniform(-4, -2))
    config.rule.optimizer.weight_decay = float(10 ** rng.uniform(-5, -2))
    configs.append(config)
  return configs


def _seconds(configs, folder):
  """(wall seconds to train configs, the lanes' layout): train_and_evaluate for one config, else lanes."""
  workdirs = [os.path.join(folder, f'trial{i}') for i in range(len(configs))]
  start = time.perf_counter()
  if len(configs) == 1:
    train.train_and_evaluate(configs[0], workdirs[0])
    layout = 'trainer'
  else:
    layout = trial_lanes.train_lanes(configs, workdirs, layouts=FLAGS.layouts)[0].lane_group['layout']
  return time.perf_counter() - start, layout


def main(argv):
  del argv
  lanes = [int(k) for k in FLAGS.lanes]
  load = os.getloadavg()
  print(f'device {jax.devices()[0].device_kind} ({os.cpu_count()} cores), jax {jax.__version__}; '
        f'load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min) at the start', flush=True)
  rows = []
  with tempfile.TemporaryDirectory() as folder:
    rng = np.random.default_rng(0)
    warm = _configs(FLAGS.rules[0], 1, rng)[0]
    warm.num_epochs, warm.train_examples = 1, warm.batch_size
    _seconds([warm], os.path.join(folder, 'warm'))
    for rule in FLAGS.rules:
      times, layouts = {k: [] for k in lanes}, {k: [] for k in lanes}
      for r in range(FLAGS.rounds):
        for k in lanes:
          seconds, layout = _seconds(_configs(rule, k, rng), os.path.join(folder, f'{rule}{r}_{k}'))
          times[k].append(seconds)
          layouts[k].append(layout)
      base = 3600 / statistics.median(times[1]) if 1 in times else None
      for k in lanes:
        seconds = statistics.median(times[k])
        rate = 3600 * k / seconds
        rows.append(f'| {rule} | {k} | {"/".join(layouts[k])} | {seconds:.1f} | {seconds / k:.1f} | {rate:.0f} | '
                    f'{f"{rate / base:.2f}x" if base else "-"} |')
  load = os.getloadavg()
  examples = FLAGS.train_examples or 'all'
  print(f'{FLAGS.dataset}, {FLAGS.epochs} epoch(s) a trial, train_examples {examples}, validation_examples '
        f'{FLAGS.validation_examples}; median of {FLAGS.rounds} rounds')
  print('| rule | K (trials a program) | layout per round | seconds per call | seconds per trial | trials/h | vs K=1 |')
  print('|---|---|---|---|---|---|---|')
  print('\n'.join(rows))
  print(f'load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min) at the end')


if __name__ == '__main__':
  cli.run(main)
