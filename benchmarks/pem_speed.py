"""Wall time of PEM on the separation benchmark: one seed, and many seeds as one program.

  .venv/bin/python benchmarks/pem_speed.py [--samples=100000] [--seeds=30] [--rounds=3] [--lane_group=16]

Antisparse sources, rho=0, 30 dB, the configs/bss.py settings. For 1 seed and
for --seeds seeds (local_learning.train_separation: SIMD lanes, LANE_GROUP
seeds per program, the groups at once on the host's cores), the programs are
compiled first; then each round times data generation plus the training pass
(one scan over the samples, neural dynamics inside) until the results are on
the host, rounds alternating, medians reported. Target: one seed within ~16 s
(a NumPy+Numba loop's time), all seeds within 5x one seed.
"""
import os
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
flags.DEFINE_integer('lane_group', train_separation.LANE_GROUP, 'Seeds per lanes program.')
FLAGS = flags.FLAGS


def compiled(num_seeds):
  """-> (run, compile seconds, number of programs) for num_seeds seeds."""
  config = bss.get_config(f'rule={FLAGS.rule},samples={FLAGS.samples},seeds={num_seeds}')
  rule = train_separation.bind(registry.get(FLAGS.rule), config)
  seeds = np.arange(num_seeds)
  start = time.perf_counter()
  run = train_separation.compiled_run(rule, config.dataset, seeds)
  return run, time.perf_counter() - start, len(train_separation.seed_groups(rule, seeds))


def main(argv):
  del argv
  train_separation.LANE_GROUP = FLAGS.lane_group
  runs = {k: compiled(k) for k in (1, FLAGS.seeds)}
  times, metrics = {k: [] for k in runs}, {}
  for _ in range(FLAGS.rounds):
    for k, (run, _, _) in runs.items():
      start = time.perf_counter()
      metrics[k] = run()
      times[k].append(time.perf_counter() - start)
  print(f'{FLAGS.rule}, antisparse, rho=0, 30 dB, N={FLAGS.samples}, 5 sources x 10 mixtures; '
        f'device {jax.devices()[0].device_kind} ({os.cpu_count()} cores), jax {jax.__version__}; '
        f'median of {FLAGS.rounds} rounds')
  print('| seeds | programs | compile s | data + train s | samples/s (all seeds) | mean neural steps | mSNR dB |')
  print('|---|---|---|---|---|---|---|')
  total = {}
  for k, (_, compile_s, groups) in runs.items():
    total[k] = statistics.median(times[k])
    steps = np.mean(metrics[k].get('neural_steps', np.nan))
    print(f'| {k} | {groups} | {compile_s:.2f} | {total[k]:.2f} | {FLAGS.samples * k / total[k]:,.0f} | '
          f'{steps:.1f} | {np.mean(metrics[k]["msnr_db"]):.2f} |')
  print(f'{FLAGS.seeds} seeds / 1 seed: {total[FLAGS.seeds] / total[1]:.2f}x '
        f'(target <= 5x); one seed {total[1]:.2f} s (target <= 16 s)')


if __name__ == '__main__':
  app.run(main)
