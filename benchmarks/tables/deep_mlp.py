"""deep_mlp: test accuracy against depth of a plain MLP on MNIST — standard PC, error-optimised PC
and backprop (the signal-decay claim of Goemaere et al., 2025).

  python benchmarks/run.py --table=deep_mlp --workdir=runs/deep_mlp
  python benchmarks/run.py --table=deep_mlp --workdir=runs/deep_mlp --cells=epc,H=20   # one cell

MLP 784-128 x H-10, standard parameterisation, GELU, H in {5, 10, 20} hidden
layers; configs/deep_mlp.py: batch 128, AdamW 1e-3 warmup-cosine,
cross-entropy, 3 epochs, 3 seeds; pc and epc with T = H inference steps of
0.1. Final-epoch test accuracy; the plot is accuracy against H, one line per rule.
"""
from local_learning import bench

RULES = ('pc', 'epc', 'bp')
DEPTHS = (5, 10, 20)


def cell(rule, column):
  depth = int(column[2:])
  return f'configs/deep_mlp.py:rule={rule},depth={depth}', (), depth


def get_table():
  return bench.grid(RULES, [f'H={d}' for d in DEPTHS], cell, seeds=3, name='deep_mlp', description=__doc__,
                    plot_x='hidden layers H')
