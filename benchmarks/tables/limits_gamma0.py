"""limits_gamma0: the richness gamma_0 at a fixed width and depth, the limits paper's gamma_0
sweep (Innocenti, Achour & Bogacz, ICML 2026, Figs. A.3 and A.22; configs/limits.py).

  python benchmarks/run.py --table=limits_gamma0 --workdir=runs/limits_gamma0
  python benchmarks/run.py --table=limits_gamma0 --workdir=runs/limits_gamma0_gpu --table_args=width=2048,depth=15

Rows: gamma_0 in {0.1, 0.5, 1, 2, 3, 4} (the paper's); one column, the width N
and H hidden layers. As the paper's sweep (its train.py with --gamma_0s): a
linear residual MLP under mupc, the readout's multiplier 1/(gamma_0 N), PC
trained on the closed-form equilibrated energy, plain gradient descent on the
weights at eta gamma_0^2 N, squared error, one fixed batch trained full-batch;
after every step diagnostics.bp_alignment (cosine between PC's and BP's weight
gradients, energy at equilibrium over the feedforward loss). The theory: the
equilibrated energy is the loss over s with s - 1 = L / (gamma_0^2 N) at init
(L = H + 1), so a small gamma_0 (the lazy side) keeps PC's energy far from the
loss at a width where gamma_0 >= 1 has it close.

Default (2-core CPU, a few minutes): N = 128, H = 8, 100 steps, eta = 0.1,
64 MNIST images. The paper: N = 2048, H = 15, 1000 steps, eta = 0.5, its toy
data set (40-dimensional Gaussian inputs, 20 examples, one +-1 output). On
MNIST's 64 images (10 outputs, all-positive pixels) eta = 0.5 diverges at
gamma_0 = 4, hence 0.1. BP's gradient is taken at PC's weights (the paper runs
BP on its own trajectory, the same at step 0). Arguments: width, depth, steps,
lr, activation (linear; tanh runs inference by gradient descent), dataset,
seeds.
"""
import dataclasses

from local_learning import config as ll_config
from local_learning.bench import plots, render, spec
from local_learning.tables import limits

GAMMA0S = (0.1, 0.5, 1.0, 2.0, 3.0, 4.0)
METRICS = (('bp_cosine', 'cosine(PC, BP)'), ('energy_loss_ratio', 'energy / loss'), ('loss', 'feedforward loss'))


def get_table(args=''):
  a = ll_config.parse_arg(args, width=128, depth=8, steps=100, lr=0.1, activation='linear', dataset='mnist',
                          seeds=1)
  column = f'N={a.width} H={a.depth}'

  def cell(row, column):
    gamma0 = float(row.split('=')[1])
    return (f'configs/limits.py:param=mupc,width={a.width},depth={a.depth},steps={a.steps},loss=mse,'
            f'activation={a.activation},optimizer=sgd,lr={a.lr},gamma0={gamma0},dataset={a.dataset}', (), gamma0)

  table = spec.grid([f'gamma0={g:g}' for g in GAMMA0S], [column], cell, seeds=a.seeds,
                    name=f'limits_gamma0 ({a.activation}, {a.dataset}, {column})', description=__doc__, baseline='')
  return dataclasses.replace(table, extra=lambda results, workdir: extra(results, workdir, a.width, a.depth))


def extra(results, workdir, width, depth):
  """First and last value of each metric per gamma_0 beside the theory's energy / loss at init;
  one plot per metric, a curve per gamma_0 over training."""
  at = {r.cell.x: r for r in results if r.lines}
  columns = ['first step', 'end']
  sections, images = [], []
  for key, label in METRICS:
    rows = [(f'gamma0={g:g}', [f'{limits.series(at[g], key)[1][i]:.4g}' for i in (0, -1)])
            for g in GAMMA0S if g in at]
    sections.append(render.Section(label, f'{key} after the first step and after the last, mean over seeds',
                                   columns, rows))
    lines = {f'gamma0={g:g}': limits.series(at[g], key) for g in GAMMA0S if g in at}
    images.append(plots.curves(workdir, f'gamma0_{key}.png', lines, f'{label}, N={width}, H={depth}',
                               'training step', label, logy=key == 'loss'))
  theory = [(f'gamma0={g:g}', [f'{g**2 * width / (g**2 * width + depth + 1):.4f}']) for g in GAMMA0S]
  sections.append(render.Section('energy / loss in theory (linear, at init)',
                                 '1 / s with s - 1 = L / (gamma0^2 N), L = H + 1: the paper\'s first-order estimate',
                                 ['1 / s'], theory))
  return sections, [i for i in images if i]
