"""Steps per second of BP, PC and the PC variants on the MNIST MLP, measured in one run.

  .venv/bin/python benchmarks/pc_speed.py [--steps=200] [--rounds=5] [--rules=bp,pc,...]

MLP 784-128-128-128-10 (GELU), batch 128, the configs/mnist_mlp.py settings
of each rule, except that every PC-family rule takes the same T inference
steps (--inference_steps, default 8), so that per-step costs compare at the
same T. Rows `pc/NAME` are pc with another activity solver (heun4: 4 Heun
steps of twice the step, the same time span as 8 of gd). Each row runs
`steps` train steps as one jitted scan (compiled before timing); the rounds
alternate the rows, so the machine's load falls on all of them alike, and
the median is reported, of wall time and of the process's CPU time (on a
machine shared with other jobs, CPU time per step moves much less with
their load than wall time does). Also prints each step's matmul FLOPs,
counted below (XLA's own count would take the inference scan's body once,
not T times).
"""
import os
import statistics
import time

import jax
from absl import app, flags

from local_learning import config as ll_config
from local_learning import cpu_flags, models, registry

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')
SOLVERS = {'pc/euler': dict(activity_solver='euler'), 'pc/heun': dict(activity_solver='heun'),
           'pc/heun4': dict(activity_solver='heun', half_steps=True),
           'pc/adaptive': dict(activity_solver='adaptive')}

flags.DEFINE_integer('steps', 200, 'Train steps per timed scan.')
flags.DEFINE_integer('rounds', 5, 'Timed rounds per row (median reported).')
flags.DEFINE_integer('inference_steps', 8, 'T for every PC-family rule.')
flags.DEFINE_list('rules', ['bp', 'pc', 'ipc', 'epc', 'pn', 'nn', 'cn', 'hpc', 'bpc', *SOLVERS], 'Rows, in order.')
FLAGS = flags.FLAGS


def matmul_flops(row, sizes, batch, steps):
  """Matmul FLOPs of one train step on the MLP `sizes` (bias and elementwise work left out).

  A block's product costs the same forward, for the gradient with respect to its
  input, and for the gradient with respect to its weights.
  bp: the forward pass, dL/dW of every block, dL/dz of all but the first.
  pc (and pn, nn, cn, euler): the forward pass; inference step t predicts and
  differentiates only the blocks the error wave has reached (the top t + 1 free
  layers, the clamped first block never); the weight update predicts blocks
  2..L again at the end and takes dF/dW of every block. heun: two evaluations per
  step, the wave two layers per step. adaptive: not counted (its steps vary).
  epc: every step runs blocks 2..L forward from the errors and back.
  ipc: every step predicts every block (the weights move), differentiates
  blocks 2..L for the activities and every block for the weights.
  hpc: the amortiser's forward pass; inference over the generator (the mirrored
  blocks) from the guess, every block predicted and differentiated but the
  clamped label's; the generator's and the amortiser's weight updates; the
  energy at the guess and the generator's forward pass of its metrics.
  bpc: every step predicts blocks 2..L and every top-down block (the top-down
  errors are not zero at the feedforward start: no error wave) and
  differentiates them for the activities (the top-down block from the clamped
  label aside); both weight updates; the top-down generation of its metric.
  """
  block = [2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:])]
  every, above_first, free = sum(block), sum(block[1:]), len(block) - 1
  weight_update = above_first + every
  if row == 'bp':
    return 2 * every + above_first
  if row == 'pc/adaptive':
    return None
  if row == 'ipc':
    return every + steps * (2 * every + above_first)
  if row == 'epc':
    return every + steps * 2 * above_first + weight_update
  if row == 'hpc':
    return every + steps * (2 * every - block[-1]) + 2 * every + 2 * every + 2 * every
  if row == 'bpc':
    return every + steps * (2 * above_first + 2 * every - block[-1]) + weight_update + 3 * every
  evaluations = [max(0, free - 1 - t) for t in range(steps)]
  if row.startswith('pc/heun'):
    steps = steps // 2 if row == 'pc/heun4' else steps
    evaluations = [max(0, free - 2 * (t + 1)) for t in range(steps) for _ in range(2)]
  inference = sum(2 * sum(block[bottom + 1:]) for bottom in evaluations)
  return every + inference + weight_update


def compiled_scan(row, steps):
  """(compiled fn(state, xs, ys) -> state, state, xs, ys, matmul flops per step)."""
  rule_name, _, _ = row.partition('/')
  config = ll_config.load_file(os.path.join(CONFIGS, 'mnist_mlp.py'), f'rule={rule_name}')
  solver = dict(SOLVERS.get(row, {}))
  if 'inference_steps' in config.rule:
    config.rule.inference_steps = FLAGS.inference_steps // 2 if solver.pop('half_steps', False) else \
        FLAGS.inference_steps
    config.rule.activity_lr *= FLAGS.inference_steps / config.rule.inference_steps
    config.rule.update(solver)
    if solver:
      config.rule.activity_momentum = 0.0
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
  flops = matmul_flops(row, sizes, config.batch_size, FLAGS.inference_steps)
  return jax.jit(run).lower(state, xs, ys).compile(), state, xs, ys, flops


def main(argv):
  del argv
  runs = {row: compiled_scan(row, FLAGS.steps) for row in FLAGS.rules}
  seconds = {row: [] for row in runs}
  cpu_seconds = {row: [] for row in runs}
  for _ in range(FLAGS.rounds):
    for row, (fn, state, xs, ys, _) in runs.items():
      start, cpu_start = time.perf_counter(), time.process_time()
      jax.block_until_ready(fn(state, xs, ys))
      seconds[row].append(time.perf_counter() - start)
      cpu_seconds[row].append(time.process_time() - cpu_start)
  rate = {row: FLAGS.steps / statistics.median(s) for row, s in seconds.items()}
  cpu_ms = {row: 1e3 * statistics.median(s) / FLAGS.steps for row, s in cpu_seconds.items()}
  print(f'MNIST MLP 784-128-128-128-10, batch 128, T={FLAGS.inference_steps} for every PC-family rule, '
        f'device {jax.devices()[0].device_kind}, jax {jax.__version__}')
  print('| rule | steps/s | time per step / pc | CPU ms/step | CPU time / pc | matmul MFLOP/step |')
  print('|---|---|---|---|---|---|')
  for row, run in runs.items():
    flops = '-' if run[-1] is None else f'{run[-1] / 1e6:.1f}'
    relative = f'{rate["pc"] / rate[row]:.2f}x' if 'pc' in rate else '-'
    cpu_relative = f'{cpu_ms[row] / cpu_ms["pc"]:.2f}x' if 'pc' in cpu_ms else '-'
    print(f'| {row} | {rate[row]:.0f} | {relative} | {cpu_ms[row]:.2f} | {cpu_relative} | {flops} |')
  if 'bp' in rate and 'pc' in rate:
    print(f'PC/BP time ratio: {rate["bp"] / rate["pc"]:.2f}x  '
          f'(matmul FLOP ratio {runs["pc"][-1] / runs["bp"][-1]:.2f}x; target <= 3x)')


if __name__ == '__main__':
  cpu_flags.apply()
  app.run(main)
