"""The PEM paper's numbers beside ours, for the tables benchmarks/tables/pem_*.py.

  .venv/bin/python benchmarks/pem_paper.py --workdirs=runs [--tables=pem_antisparse,pem_sparse]

For each table whose workdir (WORKDIRS/NAME, as `benchmarks/run.py --table=NAME
--workdir=WORKDIRS/NAME` writes it) holds finished cells, prints a markdown table:
per rule, our mSNR (dB) as bench/render prints it (mean ± std over the seeds), the
paper's (mean ± std over its 30 seeds) and the largest |difference of the means|;
and writes WORKDIRS/NAME/paper_vs_ours.png (ours solid, the paper's dashed).

The paper's numbers are recomputed from the reference's committed result pickles
(Simulations/Results/predictive_bss_*.pkl and upem_*.pkl of
BariscanBozkurt/Predictive-Entropy-Maximization at f516b47: the mean over the 5
sources of each seed's SNR, then mean and std over the 30 seeds); the paper plots
their mean ± 95% confidence interval, t(0.975, 29) s / sqrt(30) with s the std
over n - 1 (src/python_utils/visualization_utils.py:114-155).
"""
import os

import numpy as np
from absl import app, flags

from local_learning import bench
from local_learning.bench import render

TABLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tables')
flags.DEFINE_string('workdirs', 'runs', 'Folder holding one workdir per table, named as the table.')
flags.DEFINE_list('tables', ['pem_antisparse', 'pem_nnantisparse', 'pem_sparse', 'pem_nnsparse', 'pem_simplex'],
                  'Tables to compare.')
FLAGS = flags.FLAGS

# (mean, std) of mSNR in dB per column of the table, in its column order: rho 0, 0.05, ..., 0.5;
# input SNR 30, 25, ..., 5 dB. The sparse domain's CorInfoMax is the 2022 code (our corinfomax).
PUBLISHED = {
    'pem_antisparse': {
        'pem': ((25.59, 1.01), (25.52, 1.16), (25.06, 1.02), (24.29, 0.97), (23.50, 0.95), (22.42, 0.88),
                (21.31, 0.82), (20.08, 0.78), (18.65, 0.68), (17.03, 0.70), (15.48, 0.70)),
        'u-pem': ((25.17, 1.68), (25.14, 1.37), (24.44, 1.63), (23.42, 1.51), (22.22, 1.59), (20.70, 2.01),
                  (19.11, 2.00), (17.91, 1.63), (16.71, 1.47), (14.90, 1.44), (14.21, 1.45)),
        'corinfomax-pem': ((25.02, 1.10), (25.04, 1.25), (24.92, 1.19), (24.59, 1.19), (24.28, 1.34),
                           (24.11, 1.23), (23.74, 1.20), (23.48, 1.26), (23.04, 1.22), (22.49, 1.22),
                           (22.26, 1.33)),
        'infomax': ((30.07, 1.23), (25.76, 0.67), (21.52, 0.33), (18.58, 0.19), (16.43, 0.13), (14.72, 0.10),
                    (13.31, 0.08), (11.93, 1.01), (10.77, 1.12), (9.14, 1.28), (5.95, 0.47)),
    },
    'pem_nnantisparse': {
        'pem': ((26.50, 0.93), (26.28, 1.01), (25.96, 1.03), (25.46, 1.14), (25.36, 0.81), (24.78, 0.93),
                (24.32, 0.95), (23.97, 0.66), (23.26, 1.45), (22.68, 1.43), (22.19, 1.48)),
        'u-pem': ((26.49, 1.41), (26.15, 1.11), (25.52, 0.94), (25.03, 0.62), (24.49, 0.62), (23.66, 0.70),
                  (22.82, 1.30), (21.58, 2.00), (20.86, 2.33), (19.72, 2.69), (17.85, 3.03)),
        'corinfomax-pem': ((26.15, 1.02), (26.10, 1.16), (26.02, 0.94), (25.90, 0.94), (25.71, 0.97),
                           (25.51, 0.95), (24.91, 1.27), (24.85, 1.59), (24.39, 1.62), (24.13, 1.48),
                           (24.02, 1.43)),
        'infomax': ((26.05, 1.34), (23.90, 0.99), (21.22, 0.63), (19.20, 0.43), (17.62, 0.32), (16.15, 0.91),
                    (14.98, 1.04), (14.01, 1.22), (13.04, 1.28), (12.08, 0.92), (10.14, 0.22)),
    },
    'pem_sparse': {
        'pem': ((26.93, 0.76), (23.74, 1.03), (20.30, 1.14), (15.83, 1.02), (11.26, 0.84), (7.19, 0.57)),
        'u-pem': ((26.59, 2.01), (23.77, 1.03), (20.32, 1.12), (15.83, 1.02), (11.26, 0.85), (7.20, 0.57)),
        'corinfomax': ((27.36, 0.90), (23.80, 1.14), (20.03, 1.18), (15.59, 1.04), (11.08, 0.84), (7.02, 0.56)),
    },
    'pem_nnsparse': {
        'pem': ((28.32, 1.99), (24.46, 1.43), (20.15, 1.30), (15.67, 1.17), (11.19, 0.90), (7.05, 0.57)),
        'u-pem': ((28.23, 3.19), (23.96, 2.51), (19.45, 2.11), (15.18, 1.85), (10.83, 1.13), (6.96, 0.62)),
        'corinfomax-pem': ((26.94, 0.75), (23.97, 0.94), (20.23, 1.20), (15.29, 1.18), (10.37, 0.86),
                           (6.29, 0.46)),
    },
    'pem_simplex': {
        'pem': ((28.88, 0.88), (25.32, 1.15), (20.57, 1.16), (15.60, 1.10), (10.84, 0.87), (6.75, 0.52)),
        'u-pem': ((25.88, 5.15), (22.51, 4.45), (18.72, 3.11), (14.70, 2.21), (10.80, 1.05), (6.77, 0.63)),
    },
}


def compare(name, workdir):
  """-> the markdown of one table: per rule, ours, the paper's and the largest |difference|."""
  table = bench.load_table(name, TABLES)
  results = render.collect(table, workdir)
  columns = list(dict.fromkeys(r.cell.column for r in results))
  lines = [f'| {name} | ' + ' | '.join(columns) + ' | max abs diff |', '|---' * (len(columns) + 2) + '|']
  curves = []
  for row in dict.fromkeys(r.cell.row for r in results):
    cells = {r.cell.column: r for r in results if r.cell.row == row}
    paper = PUBLISHED[name][row]
    ours = [np.mean(cells[c].summary.values('msnr_db')) if cells[c].summary else np.nan for c in columns]
    diff = np.nanmax(np.abs(np.array(ours) - [mean for mean, _ in paper]))
    lines.append(f'| {row} | ' + ' | '.join(render.cell_text(cells[c]) for c in columns) + f' | {diff:.2f} |')
    lines.append(f'| {row} (paper) | ' + ' | '.join(f'{m:.2f} ± {s:.2f}' for m, s in paper) + ' | |')
    curves.append((row, [cells[c].cell.x for c in columns], ours, [mean for mean, _ in paper]))
  _plot(name, table.plot_x, curves, os.path.join(workdir, 'paper_vs_ours.png'))
  return '\n'.join(lines)


def _plot(name, xlabel, curves, path):
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(5.5, 3.8))
  for i, (row, xs, ours, paper) in enumerate(curves):
    ax.plot(xs, ours, marker='o', color=f'C{i}', label=f'{row} (ours)')
    ax.plot(xs, paper, linestyle='--', color=f'C{i}', label=f'{row} (paper)')
  ax.set(xlabel=xlabel, ylabel='mSNR (dB)', title=name)
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv):
  del argv
  for name in FLAGS.tables:
    workdir = os.path.join(FLAGS.workdirs, name)
    if os.path.isdir(workdir):
      print(compare(name, workdir), end='\n\n')
    else:
      print(f'{name}: no workdir {workdir}; run benchmarks/run.py --table={name} --workdir={workdir}\n')


if __name__ == '__main__':
  app.run(main)
