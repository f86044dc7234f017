"""Wall time of PEM on the separation benchmark: one seed, and many seeds as one program.

  .venv/bin/python benchmarks/pem_speed.py [--samples=100000] [--seeds=30] [--rounds=3] [--lane_group=16]

Antisparse sources, rho=0, 30 dB, the configs/bss.py settings, the pass as
one round. For 1 seed and for --seeds seeds (local_learning/tasks/separation.py:
SIMD lanes, --lane_group seeds per program, the groups at once on the host's
cores), the programs are compiled first; then each round times data
generation, the training pass (one scan over the samples, neural dynamics
inside) and the evaluation until the results are on the host, rounds
alternating, medians reported. Target: one seed within ~16 s (a NumPy+Numba
loop's time), all seeds within 5x one seed.
"""
import os
import statistics
import time

import jax
import numpy as np
from absl import app, flags

from local_learning import config as ll_config
from local_learning import cpu_flags, registry, tasks, train

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')
flags.DEFINE_integer('samples', 100000, 'Samples N of the one pass.')
flags.DEFINE_integer('seeds', 30, 'Seeds of the batched program.')
flags.DEFINE_integer('rounds', 3, 'Timed rounds per program (median reported).')
flags.DEFINE_string('rule', 'pem', 'A separation rule.')
flags.DEFINE_integer('lane_group', tasks.separation.LANE_GROUP, 'Seeds per lanes program.')
FLAGS = flags.FLAGS


def compiled(num_seeds):
  """-> (run, compile seconds) for num_seeds seeds: the task's Run, its programs compiled."""
  config = ll_config.load_file(os.path.join(CONFIGS, 'bss.py'),
                                 f'rule={FLAGS.rule},samples={FLAGS.samples},seeds={num_seeds}')
  config.num_rounds = 1
  task = tasks.get('separation')
  run = task.start(config, registry.get(FLAGS.rule), train.seed_keys(range(num_seeds), task),
                   lane_group=FLAGS.lane_group)
  return run, run.compile(run.init())


def data_train_evaluate(run):
  """Data generation, the training pass and the evaluation -> (metrics {name: (K,)}, mean neural steps)."""
  states, metrics = run.train_round(run.init(), 1)
  return run.evaluate(states)[0], np.mean(metrics.get('neural_steps', np.nan))


def main(argv):
  del argv
  runs = {k: compiled(k) for k in (1, FLAGS.seeds)}
  times, results = {k: [] for k in runs}, {}
  for _ in range(FLAGS.rounds):
    for k, (run, _) in runs.items():
      start = time.perf_counter()
      results[k] = data_train_evaluate(run)
      times[k].append(time.perf_counter() - start)
  print(f'{FLAGS.rule}, antisparse, rho=0, 30 dB, N={FLAGS.samples}, 5 sources x 10 mixtures; '
        f'device {jax.devices()[0].device_kind} ({os.cpu_count()} cores), jax {jax.__version__}; '
        f'median of {FLAGS.rounds} rounds')
  print('| seeds | programs | compile s | data + train s | samples/s (all seeds) | mean neural steps | mSNR dB |')
  print('|---|---|---|---|---|---|---|')
  total = {}
  for k, (run, compile_s) in runs.items():
    total[k] = statistics.median(times[k])
    metrics, steps = results[k]
    print(f'| {k} | {len(run.groups)} | {compile_s:.2f} | {total[k]:.2f} | {FLAGS.samples * k / total[k]:,.0f} | '
          f'{steps:.1f} | {np.mean(metrics["msnr_db"]):.2f} |')
  print(f'{FLAGS.seeds} seeds / 1 seed: {total[FLAGS.seeds] / total[1]:.2f}x '
        f'(target <= 5x); one seed {total[1]:.2f} s (target <= 16 s)')


if __name__ == '__main__':
  cpu_flags.apply()
  app.run(main)
