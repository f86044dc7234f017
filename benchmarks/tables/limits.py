"""limits: does PC compute BP's gradient as width grows? Width x depth x parameterisation, the
limits paper's protocol (Innocenti, Achour & Bogacz, ICML 2026, Fig. 4 MLP; configs/limits.py).

  python benchmarks/run.py --table=limits --workdir=runs/limits                            # tanh, mse
  python benchmarks/run.py --table=limits --workdir=runs/limits_ce --table_args=loss=ce
  python benchmarks/run.py --table=limits --workdir=runs/limits_linear --table_args=activation=linear
  python benchmarks/run.py --table=limits --workdir=runs/limits_gpu --table_args=grid=gpu,dataset=cifar10

PC on a residual MLP (no biases) trained full-batch on one fixed batch of 64
examples for `steps` Adam steps, inference run by gradient descent for 100 H
steps at a per-sample rate of 0.3 (linear: the closed-form equilibrium, as the
paper's Fig. 1); after every step, diagnostics.bp_alignment: the cosine
between PC's weight gradient and BP's at the same weights, and the energy at
equilibrium over the feedforward loss. Rows: parameterisation (sp, mup = muP
in width, mupc = muP with Depth-muP's 1/sqrt(L) branches) x H hidden layers;
columns: width N. Default grid (2-core CPU, about 30 min): N in {8, 32, 128},
H in {2, 4, 8}, 100 steps, MNIST, 1 seed. grid=gpu: N in {8, 32, 128, 512,
2048}, H in {2, 4, 8, 16, 32} (the paper: H in {1, 3, 7, 15, 31}; resmlp needs
H >= 2). The paper's figures use CIFAR-10 (dataset=cifar10 once prepared).
Differences from the paper's code: BP's gradient is taken at PC's weights
(the paper runs BP on its own trajectory, the same at step 0), the first
logged value is after step 1, and the test accuracy (first 1000 test
examples) is incidental. Arguments: loss, activation, dataset, steps, grid,
seeds.
"""
import dataclasses

import numpy as np

from local_learning import config as ll_config
from local_learning.bench import plots, render, spec

PARAMS = ('sp', 'mup', 'mupc')
GRIDS = {'cpu': ((8, 32, 128), (2, 4, 8)), 'gpu': ((8, 32, 128, 512, 2048), (2, 4, 8, 16, 32))}


def get_table(args=''):
  a = ll_config.parse_arg(args, loss='mse', activation='tanh', dataset='mnist', steps=100, grid='cpu', seeds=1)
  widths, depths = GRIDS[a.grid]
  rows = [f'{p} H={h}' for p in PARAMS for h in depths]

  def cell(row, column):
    param, depth, width = row.split()[0], int(row.split('=')[1]), int(column[2:])
    return (f'configs/limits.py:param={param},width={width},depth={depth},steps={a.steps},loss={a.loss},'
            f'activation={a.activation},dataset={a.dataset}', (), (param, width, depth))

  name = f'limits ({a.activation}, {a.loss}, {a.dataset})'
  table = spec.grid(rows, [f'N={w}' for w in widths], cell, seeds=a.seeds, name=name, description=__doc__,
                    baseline='')
  linear = a.activation == 'linear'
  return dataclasses.replace(table, extra=lambda results, workdir: extra(results, workdir, widths, depths, linear))


def series(result, key):
  """(steps, the seeds' mean of `key` per logged step) from a cell's metrics.jsonl."""
  lines = [line for line in result.lines if line.get(key) is not None]
  return np.array([line['epoch'] for line in lines]), np.array([line[key] for line in lines])


def extra(results, workdir, widths, depths, linear=False):
  """Sections of the final and first-step cosine and energy/loss ratio (linear: and the theory's
  ratio); heatmaps and curves."""
  at = {r.cell.x: r for r in results if r.lines}
  value = lambda p, w, h, key, i: series(at[p, w, h], key)[1][i] if (p, w, h) in at else np.nan
  columns = [f'N={w}' for w in widths]
  sections, images = [], []
  for key, label in (('bp_cosine', 'cosine(PC, BP)'), ('energy_loss_ratio', 'energy / loss')):
    for i, when in ((-1, 'at the end'), (0, 'after the first step')):
      rows = [(f'{p} H={h}', [f'{value(p, w, h, key, i):.4f}' for w in widths]) for p in PARAMS for h in depths]
      sections.append(render.Section(f'{label} {when}', f'{key}, mean over seeds', columns, rows))
  if linear:
    rows = [(f'H={h}', [f'{w / (w + h + 1):.4f}' for w in widths]) for h in depths]
    sections.append(render.Section(
        'energy / loss in theory (mupc, linear, at init)', 'the limits paper: s - 1 = L / (gamma0^2 N) with skips, '
        'so F*/L ~ 1 / s = N / (N + L), L = H + 1; a first-order estimate, exact as N / L grows', columns, rows))
  for p in PARAMS:
    grid = [[value(p, w, h, 'bp_cosine', -1) for w in widths] for h in depths]
    images.append(plots.heatmap(workdir, f'heatmap_cosine_{p}.png', grid, [f'H={h}' for h in depths],
                                [str(w) for w in widths], f'final cosine(PC, BP), {p}', 'width N',
                                'hidden layers H', vmin=0.0, vmax=1.0))
    for key, label in (('bp_cosine', 'cosine(PC, BP)'), ('energy_loss_ratio', 'energy / loss')):
      lines = {f'N={w}': series(at[p, w, depths[-1]], key) for w in widths if (p, w, depths[-1]) in at}
      images.append(plots.curves(workdir, f'curves_{key}_{p}_H{depths[-1]}.png', lines,
                                 f'{label}, {p}, H={depths[-1]}', 'training step', label))
  return sections, [i for i in images if i]
