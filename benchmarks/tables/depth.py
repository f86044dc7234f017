"""depth: test accuracy against depth of a residual MLP on MNIST — standard PC,
μPC and Depth-μP backprop (the μPC paper's depth-scaling experiment).

  python benchmarks/run.py --table=depth --workdir=runs/depth
  python benchmarks/run.py --table=depth --workdir=runs/depth --cells=mupc__H=128   # one cell (ROW__COLUMN)

Fixed budget: one epoch of MNIST at batch 64 (937 steps), width 128 (the
paper's is 512), squared error, 1 seed (the paper's 3); H hidden layers, H in
{8, 16, 32, 64, 128}. Rows (configs/depth.py):
  pc (sp)         standard PC on the standard ResNet (param='sp': U(±1/√fan_in)
                  weights, multipliers 1), T = H, at the reference's best rates
                  per depth (Adam, no weight decay; GD on the batch-mean energy)
  mupc            Depth-μP, T = H, GD 0.5 on the batch-mean energy, Adam lr 0.1
  bp (Depth-muP)  backprop on the same Depth-μP network, Adam lr 1e-2, as the
                  reference ran it for the paper (jpc 20e91f3 train_bpn.py:
                  N(0, 1) weights and squared error; its later default is
                  cross-entropy, which the paper's MNIST runs did not use)
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
