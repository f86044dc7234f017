"""Wall time of extended Infomax: ours (JAX, the seeds vmapped) against MNE's, on the same mixtures.

  .venv/bin/python benchmarks/infomax_speed.py [--seeds=30] [--samples=100000] [--rho=0]

Antisparse sources, 30 dB, configs/bss.py. Ours: the task's Run, compiled first,
then the one round of training (whitening and Infomax to its stop) of all seeds
until the results are on the host. MNE's (needs `pip install mne`, a test
extra): mne.preprocessing.infomax with the PEM reference's arguments on each
seed's whitened mixtures in turn, in this process (NumPy, float64). Both
report the mSNR of their sources; ours also its passes.
"""
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from local_learning import cpu_flags, registry, separation, tasks, train
from local_learning.bench import spec

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')
flags.DEFINE_integer('seeds', 30, 'Seeds.')
flags.DEFINE_integer('samples', 100000, 'Samples N.')
flags.DEFINE_float('rho', 0.0, 'Source correlation.')
FLAGS = flags.FLAGS


def ours(config):
  task = tasks.get('separation')
  run = task.start(config, registry.get('infomax'), train.seed_keys(range(FLAGS.seeds), task))
  states = run.init()
  compile_s = run.compile(states)
  start = time.perf_counter()
  states, metrics = run.train_round(states, 1)
  results, _ = run.evaluate(states)
  return compile_s, time.perf_counter() - start, np.mean(metrics['passes']), np.mean(results['msnr_db'])


def mne(config):
  from mne.preprocessing import infomax  # pylint: disable=g-import-not-at-top
  task = tasks.get('separation')
  run = task.start(config, registry.get('infomax'), train.seed_keys(range(FLAGS.seeds), task))
  run.init()
  sources_t, mixtures = run.data[0]                  # (K, n, N), (K, N, m)
  seconds, msnr = 0.0, []
  for s, x in zip(sources_t, mixtures):
    z = np.asarray(separation.whiten(x, config.dataset.n)[0], np.float64)
    start = time.perf_counter()
    v = infomax(z, extended=True, n_subgauss=config.dataset.n, l_rate=1e-3, max_iter=10000, random_state=1,
                verbose=False)
    seconds += time.perf_counter() - start
    y = jnp.asarray(v @ z.T, jnp.float32)
    msnr.append(float(separation.evaluate(y, s, config.matching)['msnr_db']))
  return seconds, np.mean(msnr)


def main(argv):
  del argv
  config = spec.load_config_file(os.path.join(CONFIGS, 'bss.py'),
                                 f'rule=infomax,rho={FLAGS.rho},samples={FLAGS.samples},seeds={FLAGS.seeds}')
  print(f'extended Infomax, antisparse, rho={FLAGS.rho:g}, 30 dB, N={FLAGS.samples}, {FLAGS.seeds} seeds; '
        f'device {jax.devices()[0].device_kind} ({os.cpu_count()} cores)')
  print('| implementation | compile s | train s (all seeds) | passes (mean) | mSNR dB |')
  print('|---|---|---|---|---|')
  compile_s, seconds, passes, msnr = ours(config)
  print(f'| ours (JAX, seeds vmapped) | {compile_s:.1f} | {seconds:.1f} | {passes:.1f} | {msnr:.2f} |')
  try:
    seconds, msnr = mne(config)
    print(f'| MNE infomax (NumPy, seeds in turn) | - | {seconds:.1f} | - | {msnr:.2f} |')
  except ImportError:
    print('| MNE infomax | not installed (pip install mne) | | | |')


if __name__ == '__main__':
  cpu_flags.apply()
  app.run(main)
