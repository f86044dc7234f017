"""Steps per second of every classification rule beside bp's, on one MLP, measured in one run.

  .venv/bin/python benchmarks/rule_speed.py [--steps=100] [--rounds=5] [--rules=bp,fa,...]

Every rule trains the protocol MLP 784-128-128-128-10 at batch 128 with its
configs/mnist_mlp.py settings, but for the network: ep and ff, which have
their own there, get this MLP too (keeping their activation, hard_sigmoid and
relu; the others' is gelu), so that the rules differ only in how they learn.
Each rule runs `steps` train steps as one jitted scan (compiled before
timing); every round times all rules one after the other, and the median of
the rounds is reported, with its ratio to bp's time per step.
"""
import os
import statistics
import time

import jax
from absl import app, flags

from local_learning import cpu_flags, models, registry
from local_learning.bench import spec

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')

flags.DEFINE_integer('steps', 100, 'Train steps per timed scan.')
flags.DEFINE_integer('rounds', 5, 'Timed rounds (median reported).')
flags.DEFINE_list('rules', [], 'Rules to time (default: every classification rule); bp is always timed.')
FLAGS = flags.FLAGS


def compiled_scan(rule_name, steps):
  """(compiled fn(state, xs, ys, keys) -> state, its arguments)."""
  config = spec.load_config_file(os.path.join(CONFIGS, 'mnist_mlp.py'), f'rule={rule_name}')
  config.model.widths, config.batch_size = (128, 128, 128), 128
  model = models.functional(config.model, (28, 28, 1), 10)
  rule = registry.get(rule_name)(model, config.rule, num_steps=steps)
  state = rule.init(jax.random.key(0))
  xs = jax.random.normal(jax.random.key(1), (steps, config.batch_size, 28, 28, 1))
  ys = jax.random.randint(jax.random.key(2), (steps, config.batch_size), 0, 10)
  keys = jax.random.split(jax.random.key(3), steps)

  def run(state, xs, ys, keys):
    def step(state, inputs):
      x, y, key = inputs
      return rule.train_step(state, (x, y), key)[0], None
    return jax.lax.scan(step, state, (xs, ys, keys))[0]

  args = (state, xs, ys, keys)
  return jax.jit(run).lower(*args).compile(), args


def main(argv):
  del argv
  names = FLAGS.rules or [n for n in registry.names() if 'classification' in registry.get(n).tasks]
  names = ['bp'] + [n for n in names if n != 'bp']
  runs = {name: compiled_scan(name, FLAGS.steps) for name in names}
  seconds = {name: [] for name in names}
  for _ in range(FLAGS.rounds):
    for name, (fn, args) in runs.items():
      start = time.perf_counter()
      jax.block_until_ready(fn(*args))
      seconds[name].append(time.perf_counter() - start)
  median = {name: statistics.median(s) for name, s in seconds.items()}
  print(f'MLP 784-128-128-128-10, batch 128, {FLAGS.steps} steps x {FLAGS.rounds} rounds, '
        f'device {jax.devices()[0].device_kind}, jax {jax.__version__}')
  print('| rule | steps/s | time per step / bp\'s |')
  print('|---|---|---|')
  for name in names:
    print(f'| {name} | {FLAGS.steps / median[name]:.0f} | {median[name] / median["bp"]:.2f}x |')


if __name__ == '__main__':
  cpu_flags.apply()
  app.run(main)
