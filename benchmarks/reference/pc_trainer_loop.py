"""What the trainer's loop costs around pc's step: CPU time per step of variants of its program.

  taskset -c 1 .venv/bin/python benchmarks/reference/pc_trainer_loop.py [--steps=50] [--rounds=6]

pc with configs/mnist_mlp.py's settings (mse output), one seed, --steps steps per call:
  trainer      the trainer's loop program (tasks/classification.py `_steps_fn`): a fori_loop
               with dynamic bounds, each step's batch gathered from the dataset, per-step
               metrics written into arrays
  fixed        the same loop with a fixed step count
  no_metrics   the trainer's loop without the metrics
  presliced    a lax.scan over batches sliced beforehand (no gather, no bounds, metrics as outputs)
and the epoch's order (`_plan`: a permutation of the training set, once per epoch).
Rounds alternate the variants; medians of the process's CPU time per step (pin the process to
one core, e.g. `taskset -c 1`, to read one core's work on a machine shared with other jobs).
"""
import os
import statistics
import time

import jax
import jax.numpy as jnp
from absl import flags

from local_learning import cli, registry, tasks, train
from local_learning import config as ll_config
from local_learning.tasks import classification

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'configs')
flags.DEFINE_integer('steps', 50, 'Steps per call.')
flags.DEFINE_integer('rounds', 6, 'Timed rounds (after one warm-up round).')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  n = FLAGS.steps
  config = ll_config.load_file(os.path.join(CONFIGS, 'mnist_mlp.py'), 'rule=pc')
  config.rule.loss, config.num_seeds = 'mse', 1
  task = tasks.get('classification')
  run = task.start(config, registry.get('pc'), train.seed_keys([0], task))
  rule, mesh = run.rule, run.mesh
  state = jax.tree.map(lambda a: a[0], run.init())
  plans, keys = run._plan(run.keys, 1)      # pylint: disable=protected-access
  plan, key = plans[0], keys[0]
  x, y = run.x, run.y
  step = lambda s, i: classification._step(rule, mesh, s, x, y, plan, key, i)  # pylint: disable=protected-access

  def fixed(state):
    def body(i, carry):
      state, values = carry
      state, metrics = step(state, i)
      return state, jax.tree.map(lambda v, m: v.at[i].set(m.astype(jnp.float32)), values, metrics)
    shapes = jax.eval_shape(lambda: step(state, 0)[1])
    return jax.lax.fori_loop(0, n, body, (state, jax.tree.map(lambda _: jnp.zeros((n,), jnp.float32), shapes)))

  def no_metrics(state, start, count):
    return jax.lax.fori_loop(start, start + count, lambda i, s: step(s, i)[0], state)

  xs, ys = x[plan[:n]], y[plan[:n]]

  def presliced(state, xs, ys):
    return jax.lax.scan(lambda s, b: rule.train_step(s, b, None), state, (xs, ys))

  loop = classification._steps_fn(rule, mesh)      # pylint: disable=protected-access
  with jax.set_mesh(mesh):
    compiled = {
        'trainer': (jax.jit(loop).lower(state, x, y, plan, key, 0, n).compile(), (state, x, y, plan, key, 0, n)),
        'fixed': (jax.jit(fixed).lower(state).compile(), (state,)),
        'no_metrics': (jax.jit(no_metrics).lower(state, 0, n).compile(), (state, 0, n)),
        'presliced': (jax.jit(presliced).lower(state, xs, ys).compile(), (state, xs, ys)),
    }
  cpu = {name: [] for name in compiled}
  order = []
  for r in range(FLAGS.rounds + 1):
    for name, (fn, args) in compiled.items():
      start = time.process_time()
      jax.block_until_ready(fn(*args))
      if r:
        cpu[name].append((time.process_time() - start) / n)
    start = time.process_time()
    jax.block_until_ready(run._plan(run.keys, r + 2))      # pylint: disable=protected-access
    order.append(time.process_time() - start)
  print(f'pc, MNIST MLP (configs/mnist_mlp.py, mse), one seed, {n} steps per call, median of {FLAGS.rounds} rounds; '
        f'jax {jax.__version__}, {len(os.sched_getaffinity(0))} CPUs available')
  for name, seconds in cpu.items():
    print(f'{name}: {1e3 * statistics.median(seconds):.2f} CPU ms/step')
  print(f"the epoch's order: {1e3 * statistics.median(order[1:]):.1f} CPU ms per epoch of {run.steps} steps")


if __name__ == '__main__':
  cli.run(main)
