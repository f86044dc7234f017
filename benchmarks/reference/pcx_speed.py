"""PCX's own PC and iPC train steps beside our trainer's, on the MNIST MLP protocol, in one process.

  /work/scratch/pcx-venv/bin/python benchmarks/reference/pcx_speed.py [--steps=0] [--rounds=5]

Run with the python of a scratch environment holding `pcx` and this package (see
pcx_crosscheck.py: PCX is never a dependency). MLP 784-128-128-128-10 (GELU), batch 128,
AdamW with the warmup-cosine schedule, T = 8 inference steps of 0.1 (pc's settings in
configs/mnist_mlp.py), squared-error ('mse') and cross-entropy ('ce') outputs; ipc at
PCX's MNIST settings (configs/mnist_mlp.py: T = 8, its rates, post-activation nodes),
PCX's iPC alike.

Ours: the trainer's epoch (local_learning/tasks/classification.py `train_round`, one seed,
its own call sizing), timed over the first --steps steps of an epoch (0: the whole epoch,
468 steps, its order drawn as the trainer does once per epoch).
`pc (no skipping)`: the same with every block evaluated at every inference step, as
PCX computes PC (our pc skips the blocks below the error wave). PCX: its benchmark's
train_on_batch (examples/s4_1_discriminative_mode PC.py / iPC.py, pcx 0.6.3's API,
jitted by pxf.jit) called once per batch, as its own loop runs it, on the same MNIST
batches. The rounds alternate the rows (each row's steps once per round), so load falls
on all of them alike; medians of wall time and process CPU time per step are printed.
"""
import functools
import os
import statistics
import time
from importlib import metadata

import jax
import jax.numpy as jnp
import optax
import pcx.functional as pxf
import pcx.nn as pxnn
import pcx.predictive_coding as pxc
import pcx.utils as pxu
from absl import flags
from pcx_mlp import PCXMLP, energy, forward, free, ipc_step  # beside this script

from local_learning import cli, registry, tasks, train
from local_learning import config as ll_config

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'configs')
flags.DEFINE_integer('steps', 0, 'Train steps per timed row per round (0: one epoch).')
flags.DEFINE_integer('rounds', 5, 'Timed rounds (after one warm-up round); the median is reported.')
flags.DEFINE_list('losses', ['mse', 'ce'], 'Output losses.')
flags.DEFINE_list('rows', ['pc', 'pcx_pc', 'pc_unskipped', 'ipc', 'pcx_ipc'], 'Rows per loss.')
FLAGS = flags.FLAGS


class Unskipped(registry.get('pc')):
  """pc with every block evaluated at every inference step (inference from the feedforward pass
  given as `init`): PC as PCX computes it."""

  def infer(self, params, x, output, feedforward, init=None, quadratic=None):
    return super().infer(params, x, output, feedforward, feedforward[:-1] if init is None else init, quadratic)


def our_config(row, loss):
  rule = 'ipc' if row == 'ipc' else 'pc'
  config = ll_config.load_file(os.path.join(CONFIGS, 'mnist_mlp.py'), f'rule={rule}')
  config.rule.loss = loss
  config.num_seeds = 1
  return config


def ours(row, loss):
  """-> (fn() running steps(run) train steps of the trainer's epoch (compiled here), the run)."""
  config = our_config(row, loss)
  task = tasks.get('classification')
  rule_cls = Unskipped if row == 'pc_unskipped' else registry.get(config.rule.name)
  run = task.start(config, rule_cls, train.seed_keys([0], task))
  states = run.init()
  run.compile(states)
  return lambda: jax.block_until_ready(run.train_round(states, 1, steps=steps(run))[0]), run


def steps(run):
  return FLAGS.steps or run.steps


@pxf.jit(static_argnums=0)
def pcx_pc_step(T, x, y, *, model, optim_w, optim_h, beta=1.0):
  """PCX's PC.py train_on_batch (pcx 0.6.3's API)."""
  model.train()
  with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
    forward(x, y, model=model, beta=beta)
  optim_h.init(free()(model))
  for _ in range(T):
    with pxu.step(model, clear_params=pxc.VodeParam.Cache):
      _, g = pxf.value_and_grad(free().to([False, True]), has_aux=True)(energy)(x, model=model)
    optim_h.step(model, g['model'], scale_by=x.shape[0])
  optim_h.clear()
  with pxu.step(model, clear_params=pxc.VodeParam.Cache | pxc.VodeParam):
    _, g = pxf.value_and_grad(pxu.M(pxnn.LayerParam).to([False, True]), has_aux=True)(energy)(x, model=model)
  optim_w.step(model, g['model'], scale_by=1 / beta)


pcx_ipc_step = pxf.jit(static_argnums=0)(ipc_step)


@functools.cache
def batches(run):
  """The first steps(run) batches of the training set in order: x (B, 784), one-hot y (B, 10) each."""
  b = run.batch_size
  return ([jnp.asarray(run.x[i * b:(i + 1) * b]).reshape(b, -1) for i in range(steps(run))],
          [jax.nn.one_hot(run.y[i * b:(i + 1) * b], 10) for i in range(steps(run))])


def pcx_row(row, loss, run):
  """-> fn() running PCX's step on the first steps(run) batches, one jitted call each (its own loop's way)."""
  config = our_config('ipc' if row == 'pcx_ipc' else 'pc', loss).rule
  shapes = run.rule.model.kernel_shapes
  sizes = [*(shape[0] for shape in shapes), shapes[-1][1]]
  model = PCXMLP(sizes, jax.nn.gelu, loss == 'mse')
  total = run.steps * run.rounds * (config.inference_steps if row == 'pcx_ipc' else 1)
  opt = config.optimizer
  schedule = optax.warmup_cosine_decay_schedule(0.0, opt.learning_rate, opt.warmup_steps, total)
  xs, ys = batches(run)
  with pxu.step(model, pxc.STATUS.INIT, clear_params=pxc.VodeParam.Cache):
    forward(xs[0], ys[0], model=model)
  optim_h = pxu.Optim(lambda: optax.sgd(config.activity_lr, momentum=config.activity_momentum or None))
  optim_w = pxu.Optim(lambda: optax.adamw(schedule, weight_decay=opt.weight_decay), pxu.M(pxnn.LayerParam)(model))
  step = pcx_ipc_step if row == 'pcx_ipc' else pcx_pc_step

  def fn():
    for x, y in zip(xs, ys):
      step(config.inference_steps, x, y, model=model, optim_w=optim_w, optim_h=optim_h, beta=config.beta)
    jax.block_until_ready(pxu.M(pxnn.LayerParam)(model))

  return fn


def main(argv):
  del argv
  rows, run = {}, None
  for loss in FLAGS.losses:
    for row in FLAGS.rows:
      if row.startswith('pcx_'):
        run = run or ours('pc', loss)[1]
        rows[loss, row] = pcx_row(row, loss, run)
      else:
        rows[loss, row], made = ours(row, loss)
        run = run or made
  count = steps(run)
  wall = {key: [] for key in rows}
  cpu = {key: [] for key in rows}
  for r in range(FLAGS.rounds + 1):          # round 0 warms up (PCX compiles on its first call)
    for key, fn in rows.items():
      start, cpu_start = time.perf_counter(), time.process_time()
      fn()
      if r:
        wall[key].append((time.perf_counter() - start) / count)
        cpu[key].append((time.process_time() - cpu_start) / count)
  med = {key: statistics.median(v) for key, v in wall.items()}
  med_cpu = {key: statistics.median(v) for key, v in cpu.items()}
  print(f'MNIST MLP 784-128-128-128-10 (GELU), batch 128, T=8; {count} steps x {FLAGS.rounds} interleaved '
        f'rounds, medians; pcx {metadata.version("pcx")}, equinox {metadata.version("equinox")}, '
        f'jax {jax.__version__}, {jax.devices()[0].device_kind}, {os.cpu_count()} CPUs')
  print('| loss | row | steps/s | ms/step | CPU ms/step |')
  print('|---|---|---|---|---|')
  for (loss, row), seconds in med.items():
    print(f'| {loss} | {row} | {1 / seconds:.0f} | {1e3 * seconds:.2f} | {1e3 * med_cpu[loss, row]:.2f} |')
  for loss in FLAGS.losses:
    for name, m in (('wall', med), ('CPU', med_cpu)):
      ratio = lambda a, b, m=m: f'{m[loss, b] / m[loss, a]:.2f}' if (loss, a) in m and (loss, b) in m else '-'
      print(f'{loss} ({name} time): ours/PCX speed: pc {ratio("pc", "pcx_pc")}x, ipc {ratio("ipc", "pcx_ipc")}x; '
            f'time ipc/pc: ours {ratio("pc", "ipc")}, ours against pc without skipping (PCX\'s pc) '
            f'{ratio("pc_unskipped", "ipc")}, PCX {ratio("pcx_pc", "pcx_ipc")}')


if __name__ == '__main__':
  cli.run(main)
