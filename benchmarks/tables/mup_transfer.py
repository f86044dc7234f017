"""mup_transfer: does the best learning rate transfer across width? pc and bp on a residual MLP
under sp and muP, widths 64 and 1024, one epoch of MNIST (configs/mup_transfer.py).

  python benchmarks/run.py --table=mup_transfer --workdir=runs/mup_transfer
  python benchmarks/run.py --table=mup_transfer --workdir=runs/mup_transfer --table_args=rules=bp

Rows: rule, parameterisation and width N (H = 3 relu layers, mse, batch 64,
Adam, 1 seed); columns: the base rate eta as a multiple of the
parameterisation's centre (sp: eta = 1e-3, the Adam rate itself; mup: eta =
0.3, the Adam rate eta / sqrt(N)). muP's promise (Yang & Hu 2021; the limits
paper for PC): under mup the best eta moves by at most a factor of 2
between the widths; under sp it moves more. Arguments: rules (pc,bp),
widths (64:1024), dataset.
"""
import dataclasses

import numpy as np

from local_learning import config as ll_config
from local_learning.bench import plots, render, spec

CENTRES = {'sp': 1e-3, 'mup': 0.3}
FACTORS = (0.1, 0.3, 1.0, 3.0, 10.0)


def get_table(args=''):
  a = ll_config.parse_arg(args, rules='pc:bp', widths='64:1024', dataset='mnist')
  rules, widths = a.rules.split(':'), [int(w) for w in a.widths.split(':')]
  rows = [f'{r} {p} N={w}' for r in rules for p in CENTRES for w in widths]

  def cell(row, column):
    rule, param, width = row.split()[0], row.split()[1], int(row.split('=')[1])
    lr = CENTRES[param] * float(column[1:])
    return f'configs/mup_transfer.py:rule={rule},param={param},width={width},lr={lr:g},dataset={a.dataset}', (), lr

  table = spec.grid(rows, [f'x{f:g}' for f in FACTORS], cell, seeds=1, name='mup_transfer',
                    description=__doc__, baseline='')
  return dataclasses.replace(table, extra=extra)


def extra(results, workdir):
  """The best eta per row, and how far it moves between the smallest and largest width."""
  rows = list(dict.fromkeys(r.cell.row for r in results))
  best, lines = {}, {}
  for row in rows:
    done = [(r.cell.x, r.spread.mean) for r in results if r.cell.row == row and r.summary]
    done = [(x, m) for x, m in done if m is not None and np.isfinite(m)]
    if done:
      best[row] = max(done, key=lambda p: p[1])
      lines[row] = tuple(np.array(v) for v in zip(*sorted(done)))
  table = [(row, [f'{best[row][0]:g}', f'{best[row][1]:.2f}']) for row in rows if row in best]
  moves = []
  for row in rows:
    rule, param, _ = row.split()
    widths = [r for r in rows if r.startswith(f'{rule} {param} ')]
    if row == widths[0] and all(w in best for w in widths):
      moves.append((f'{rule} {param}', [f'{best[widths[-1]][0] / best[widths[0]][0]:g}']))
  sections = [render.Section('Best rate per row', 'the eta of the highest final test accuracy (%)',
                             ['best eta', 'accuracy'], table),
              render.Section('How far the best rate moves', 'best eta at the largest width / at the smallest',
                             ['ratio'], moves)]
  images = []
  for param in CENTRES:
    chosen = {row: lines[row] for row in lines if f' {param} ' in row}
    image = plots.curves(workdir, f'accuracy_vs_eta_{param}.png', chosen, f'test accuracy against eta, {param}',
                         'base rate eta', 'test accuracy (%)', logx=True)
    if image:
      images.append(image)
  return sections, images
