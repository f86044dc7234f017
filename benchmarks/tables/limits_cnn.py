"""limits_cnn: does PC compute BP's gradient in a CNN as the channels grow? The limits paper's CNN
experiment (Innocenti, Achour & Bogacz, ICML 2026, Fig. 4; JPC experiments/limits_paper/cnn,
test_theory.py) with configs/limits.py.

  python benchmarks/run.py --table=limits_cnn --workdir=runs/limits_cnn
  python benchmarks/run.py --table=limits_cnn --workdir=runs/limits_cnn_gpu \
      --table_args=widths=2:8:16:32,steps=100,dataset=cifar10

Rows: the model and its parameterisation: rescnn (the paper's residual CNN:
three stages of a stage convolution and one residual block, average pooling,
a dense readout; models/rescnn.py) under sp and mupc (muP with the 1/sqrt(L)
depth factor on the residual convolutions, the paper's), and vgg (three conv
blocks of N channels, max pooling, no skips; models/cnn.py) under sp and mup;
columns: the channels N. As the paper's script: tanh, cross-entropy, one fixed
batch trained full-batch with Adam (base rate 1e-3), inference by gradient
descent on the activities from the feedforward pass, 200 steps at 0.3 per
sample, restarted every training step; after every step
diagnostics.bp_alignment (cosine between PC's and BP's weight gradients, the
energy at equilibrium over the feedforward loss).

Default (2-core CPU, about 15 minutes beside other jobs): 32 MNIST images,
N in {2, 4, 8}, 10 steps, 1 seed (a step of rescnn at N = 16 on 64 images,
200 inference steps, took a minute here). The paper: 128 ImageNet images, N
in {2, 8, 16, 32}, 100 steps (widths=, examples=, steps=, dataset= take
them, given the data prepared). Further differences:
one Adam rate for every layer (the reference gives the residual convolutions
eta / sqrt(N L), the stage convolutions and readout eta / sqrt(N) and the
first convolution eta; we give every layer the residual ones' under mupc and
eta / sqrt(N) under mup); the reference's pooling outputs are activities of
their own (here pooling belongs to the next block); BP's gradient is taken at
PC's weights (the paper runs BP on its own trajectory, the same at step 0).
Arguments: widths (N:N:...), steps, examples, loss, dataset, seeds.
"""
import dataclasses

from local_learning import config as ll_config
from local_learning.bench import plots, render, spec
from local_learning.tables import limits

ROWS = ('rescnn sp', 'rescnn mupc', 'vgg sp', 'vgg mup')
METRICS = (('bp_cosine', 'cosine(PC, BP)'), ('energy_loss_ratio', 'energy / loss'))


def get_table(args=''):
  a = ll_config.parse_arg(args, widths='2:4:8', steps=10, examples=32, loss='ce', dataset='mnist', seeds=1)
  widths = [int(w) for w in a.widths.split(':')]

  def cell(row, column):
    model, param = row.split()
    width = int(column[2:])
    return (f'configs/limits.py:model={model},param={param},width={width},steps={a.steps},examples={a.examples},'
            f'loss={a.loss},dataset={a.dataset}', (), (model, param, width))

  table = spec.grid(ROWS, [f'N={w}' for w in widths], cell, seeds=a.seeds,
                    name=f'limits_cnn ({a.loss}, {a.dataset})', description=__doc__, baseline='')
  return dataclasses.replace(table, extra=lambda results, workdir: extra(results, workdir, widths))


def extra(results, workdir, widths):
  """The cosine and the energy / loss ratio after the first and the last step; curves per width."""
  at = {r.cell.x: r for r in results if r.lines}
  columns = [f'N={w}' for w in widths]
  sections, images = [], []
  for key, label in METRICS:
    for i, when in ((-1, 'at the end'), (0, 'after the first step')):
      rows = [(row, [f'{limits.series(at[(*row.split(), w)], key)[1][i]:.4f}' if (*row.split(), w) in at else ''
                     for w in widths]) for row in ROWS]
      sections.append(render.Section(f'{label} {when}', f'{key}, mean over seeds', columns, rows))
    for row in ROWS:
      lines = {f'N={w}': limits.series(at[(*row.split(), w)], key) for w in widths if (*row.split(), w) in at}
      images.append(plots.curves(workdir, f'curves_{key}_{row.replace(" ", "_")}.png', lines, f'{label}, {row}',
                                 'training step', label))
  return sections, [i for i in images if i]
