"""deep_mlp: test accuracy against depth of a plain MLP on MNIST — standard PC, error-optimised PC
and backprop (the signal-decay claim of Goemaere et al., 2025).

  python benchmarks/run.py --table=deep_mlp --workdir=runs/deep_mlp
  python benchmarks/run.py --table=deep_mlp --workdir=runs/deep_mlp --cells=epc__H=20   # one cell

MLP 784-128 x H-10, standard parameterisation, GELU, H in {5, 10, 20} hidden
layers; configs/deep_mlp.py: batch 128, AdamW 1e-3 warmup-cosine,
cross-entropy, 3 epochs, 3 seeds; pc and epc with T = H inference steps of
0.1, and epc with steps of 0.01 (the row added after epc's inference with
steps of 0.1 raised the training energy instead of lowering it at H = 20).
Final-epoch test accuracy; the plot is accuracy against H, one line per row.
Results: the README's PC family section.
"""
from local_learning import bench

ROWS = {'pc': ('pc', ()), 'epc': ('epc', ()), 'epc (step 0.01)': ('epc', (('rule.activity_lr', 0.01),)),
        'bp': ('bp', ())}
DEPTHS = (5, 10, 20)


def cell(row, column):
  rule, overrides = ROWS[row]
  depth = int(column[2:])
  return f'configs/deep_mlp.py:rule={rule},depth={depth}', overrides, depth


def get_table():
  return bench.grid(ROWS, [f'H={d}' for d in DEPTHS], cell, seeds=3, name='deep_mlp', description=__doc__,
                    plot_x='hidden layers H')
