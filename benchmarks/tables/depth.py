"""depth: test accuracy against depth of a residual MLP on MNIST — standard PC,
μPC and Depth-μP backprop (the μPC paper's depth-scaling experiment).

  python benchmarks/run.py --table=depth --workdir=runs/depth
  python benchmarks/run.py --table=depth --workdir=runs/depth --cells=mupc,H=128   # one cell

Fixed budget: one epoch of MNIST at batch 64 (937 steps), width 128, squared
error, 1 seed; H hidden layers, H in {8, 16, 32, 64, 128}. Rows: `pc` on the
standard ResNet (param='sp', T = H, configs/depth.py), `mupc` (Depth-μP,
T = H, Adam lr 0.1), `bp` on the same Depth-μP network (Adam lr 1e-2).
Final test accuracy; the plot is accuracy against depth, one line per rule.
"""
from local_learning import bench

ROWS = {'pc (sp)': 'pc', 'mupc': 'mupc', 'bp (Depth-muP)': 'bp'}
DEPTHS = (8, 16, 32, 64, 128)


def cell(row, column):
  depth = int(column[2:])
  return f'configs/depth.py:rule={ROWS[row]},depth={depth},width=128,dataset=mnist', (), depth


def get_table():
  return bench.grid(ROWS, [f'H={d}' for d in DEPTHS], cell, seeds=1, name='depth', description=__doc__,
                    plot_x='depth (hidden layers)', baseline='bp (Depth-muP)')
