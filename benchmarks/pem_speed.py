"""Wall time of PEM on the separation benchmark: one seed, and many seeds as one program.

  .venv/bin/python benchmarks/pem_speed.py [--samples=100000] [--seeds=30] [--rounds=3]

Antisparse sources, rho=0, 30 dB, the configs/bss.py settings. For 1 seed and
for --seeds seeds vmapped in one program (local_learning.train_separation),
both programs are compiled first; then each round times the data generation
and the training pass (one scan over the samples, neural dynamics inside) with
block_until_ready, rounds alternating, medians reported. Target: one seed
within ~16 s (a NumPy+Numba loop's time), all seeds within 5x one seed.
"""
import statistics
import sys
import time

import jax
import numpy as np
from absl import app, flags

sys.path.insert(0, '.')
from configs import bss  # pylint: disable=g-import-not-at-top,wrong-import-position
from local_learning import registry, train_separation  # pylint: disable=wrong-import-position

flags.DEFINE_integer('samples', 100000, 'Samples N of the one pass.')
flags.DEFINE_integer('seeds', 30, 'Seeds of the batched program.')
flags.DEFINE_integer('rounds', 3, 'Timed rounds per program (median reported).')
flags.DEFINE_string('rule', 'pem', 'A separation rule.')
FLAGS = flags.FLAGS


def compiled(num_seeds):
  """-> (seeds, generate, train, compile seconds) for num_seeds seeds."""
  config = bss.get_config(f'rule={FLAGS.rule},samples={FLAGS.samples},seeds={num_seeds}')
  rule = train_separation.bind(registry.get(FLAGS.rule), config)
  seeds = np.arange(num_seeds)
  start = time.perf_counter()
  generate, train = train_separation.programs(rule, config.dataset, seeds)
  return seeds, generate, train, time.perf_counter() - start


def timed_round(seeds, generate, train):
  """-> (data seconds, train seconds, metrics)."""
  start = time.perf_counter()
  data = jax.block_until_ready(generate(seeds))
  middle = time.perf_counter()
  metrics = jax.block_until_ready(train(seeds, data))
  return middle - start, time.perf_counter() - middle, metrics


def main(argv):
  del argv
  programs = {k: compiled(k) for k in (1, FLAGS.seeds)}
  times, metrics = {k: [] for k in programs}, {}
  for _ in range(FLAGS.rounds):
    for k, (seeds, generate, train, _) in programs.items():
      data_s, train_s, metrics[k] = timed_round(seeds, generate, train)
      times[k].append((data_s, train_s))
  print(f'{FLAGS.rule}, antisparse, rho=0, 30 dB, N={FLAGS.samples}, 5 sources x 10 mixtures; '
        f'device {jax.devices()[0].device_kind}, jax {jax.__version__}; median of {FLAGS.rounds} rounds')
  print('| seeds | compile s | data s | train s | total s | samples/s (all seeds) | mean neural steps | mSNR dB |')
  print('|---|---|---|---|---|---|---|---|')
  total = {}
  for k, (_, _, _, compile_s) in programs.items():
    data_s = statistics.median(t[0] for t in times[k])
    train_s = statistics.median(t[1] for t in times[k])
    total[k] = data_s + train_s
    steps = np.mean(metrics[k].get('neural_steps', np.nan))
    print(f'| {k} | {compile_s:.2f} | {data_s:.2f} | {train_s:.2f} | {total[k]:.2f} | '
          f'{FLAGS.samples * k / total[k]:,.0f} | {steps:.1f} | {np.mean(metrics[k]["msnr_db"]):.2f} |')
  print(f'{FLAGS.seeds} seeds / 1 seed (data + train): {total[FLAGS.seeds] / total[1]:.2f}x '
        f'(target <= 5x); one seed {total[1]:.2f} s (target <= 16 s)')


if __name__ == '__main__':
  app.run(main)
