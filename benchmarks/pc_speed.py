"""Steps per second of BP and PC on the MNIST MLP, measured in one run.

  .venv/bin/python benchmarks/pc_speed.py [--steps=200] [--rounds=5]

MLP 784-128-128-128-10 (GELU), batch 128, PC with T=8 inference steps, the
configs/mnist_mlp.py settings. Each rule runs `steps` train steps as one
jitted scan (compiled before timing); rounds alternate BP and PC and the
median is reported. Also prints each step's matmul FLOPs, counted below (XLA's
own count would take the inference scan's body once, not T times).
"""
import os
import statistics
import time

import jax
from absl import app, flags

from local_learning import cpu_flags, models, registry
from local_learning import config as ll_config

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')

flags.DEFINE_integer('steps', 200, 'Train steps per timed scan.')
flags.DEFINE_integer('rounds', 5, 'Timed rounds per rule (median reported).')
flags.DEFINE_integer('inference_steps', 8, 'T for PC.')
FLAGS = flags.FLAGS


def matmul_flops(rule_name, sizes, batch, inference_steps):
  """Matmul FLOPs of one train step on the MLP `sizes` (bias and elementwise work left out).

  bp: the forward pass, dL/dW of every block, dL/dz of all but the first.
  pc: the forward pass; inference step t predicts and transposes only the
  blocks the error wave has reached (rules/pc.py: the top t + 1 free layers,
  the clamped first block never); the weight update predicts blocks 2..L
  again at equilibrium and takes dF/dW of every block.
  """
  block = [2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:])]
  if rule_name == 'bp':
    return 2 * sum(block) + sum(block[1:])
  free = len(block) - 1       # hidden layers
  inference = sum(2 * sum(block[max(0, free - 1 - t) + 1:]) for t in range(inference_steps))
  return sum(block) + inference + sum(block[1:]) + sum(block)


def compiled_scan(rule_name, steps):
  """(compiled fn(state, xs, ys) -> state, state, xs, ys, matmul flops per step)."""
  config = ll_config.load_file(os.path.join(CONFIGS, 'mnist_mlp.py'), f'rule={rule_name}')
  if rule_name == 'pc':
    config.rule.inference_steps = FLAGS.inference_steps
  model = models.functional(config.model, (28, 28, 1), 10)
  rule = registry.get(rule_name)(model, config.rule, num_steps=steps)
  state = rule.init(jax.random.key(0))
  xs = jax.random.normal(jax.random.key(1), (steps, config.batch_size, 28, 28, 1))
  ys = jax.random.randint(jax.random.key(2), (steps, config.batch_size), 0, 10)

  def run(state, xs, ys):
    def step(state, batch):
      return rule.train_step(state, batch, None)[0], None
    return jax.lax.scan(step, state, (xs, ys))[0]

  sizes = [28 * 28, *config.model.widths, 10]
  flops = matmul_flops(rule_name, sizes, config.batch_size, FLAGS.inference_steps)
  return jax.jit(run).lower(state, xs, ys).compile(), state, xs, ys, flops


def main(argv):
  del argv
  runs = {name: compiled_scan(name, FLAGS.steps) for name in ('bp', 'pc')}
  seconds = {name: [] for name in runs}
  for _ in range(FLAGS.rounds):
    for name, (fn, state, xs, ys, _) in runs.items():
      start = time.perf_counter()
      jax.block_until_ready(fn(state, xs, ys))
      seconds[name].append(time.perf_counter() - start)
  rate = {name: FLAGS.steps / statistics.median(s) for name, s in seconds.items()}
  flops = {name: run[-1] for name, run in runs.items()}
  print(f'MNIST MLP 784-128-128-128-10, batch 128, PC T={FLAGS.inference_steps}, '
        f'device {jax.devices()[0].device_kind}, jax {jax.__version__}')
  print('| rule | steps/s | matmul MFLOP/step |')
  print('|---|---|---|')
  for name in runs:
    print(f'| {name} | {rate[name]:.0f} | {flops[name] / 1e6:.1f} |')
  print(f'PC/BP time ratio: {rate["bp"] / rate["pc"]:.2f}x  (matmul FLOP ratio {flops["pc"] / flops["bp"]:.2f}x; '
        f'target <= 3x)')


if __name__ == '__main__':
  cpu_flags.apply()
  app.run(main)
