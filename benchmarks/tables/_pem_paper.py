"""The PEM paper's experiments as tables: their grid, and the paper's mSNR as each cell's reference.

The paper's numbers are the mean mSNR (dB) over its 30 seeds, recomputed from the
reference's committed result pickles (Simulations/Results/predictive_bss_*.pkl and
upem_*.pkl of BariscanBozkurt/Predictive-Entropy-Maximization at f516b47: the
mean over the 5 sources of each seed's SNR, then the mean over the seeds); the
paper plots them with 95% confidence intervals. The band of a cell is BAND dB,
the reproduction criterion of these experiments (issue 19): two sets of 30 seeds
of u-PEM, whose seeds spread by up to 5 dB, differ by about 1.2 dB on average.
"""
from local_learning import bench

SOURCE = 'PEM paper (reference result files)'
BAND = 1.5
RHOS = tuple(round(0.05 * i, 2) for i in range(11))
SNRS = (30, 25, 20, 15, 10, 5)
# Per table and rule, the paper's mean mSNR (dB) per column: rho 0, 0.05, ..., 0.5, or input SNR
# 30, 25, ..., 5 dB. On the sparse domain the reference's CorInfoMax is the 2022 code (our corinfomax).
PUBLISHED = {
    'pem_antisparse': {
        'pem': (25.59, 25.52, 25.06, 24.29, 23.50, 22.42, 21.31, 20.08, 18.65, 17.03, 15.48),
        'u-pem': (25.17, 25.14, 24.44, 23.42, 22.22, 20.70, 19.11, 17.91, 16.71, 14.90, 14.21),
        'corinfomax-pem': (25.02, 25.04, 24.92, 24.59, 24.28, 24.11, 23.74, 23.48, 23.04, 22.49, 22.26),
        'infomax': (30.07, 25.76, 21.52, 18.58, 16.43, 14.72, 13.31, 11.93, 10.77, 9.14, 5.95),
    },
    'pem_nnantisparse': {
        'pem': (26.50, 26.28, 25.96, 25.46, 25.36, 24.78, 24.32, 23.97, 23.26, 22.68, 22.19),
        'u-pem': (26.49, 26.15, 25.52, 25.03, 24.49, 23.66, 22.82, 21.58, 20.86, 19.72, 17.85),
        'corinfomax-pem': (26.15, 26.10, 26.02, 25.90, 25.71, 25.51, 24.91, 24.85, 24.39, 24.13, 24.02),
        'infomax': (26.05, 23.90, 21.22, 19.20, 17.62, 16.15, 14.98, 14.01, 13.04, 12.08, 10.14),
    },
    'pem_sparse': {
        'pem': (26.93, 23.74, 20.30, 15.83, 11.26, 7.19),
        'u-pem': (26.59, 23.77, 20.32, 15.83, 11.26, 7.20),
        'corinfomax': (27.36, 23.80, 20.03, 15.59, 11.08, 7.02),
    },
    'pem_nnsparse': {
        'pem': (28.32, 24.46, 20.15, 15.67, 11.19, 7.05),
        'u-pem': (28.23, 23.96, 19.45, 15.18, 10.83, 6.96),
        'corinfomax-pem': (26.94, 23.97, 20.23, 15.29, 10.37, 6.29),
    },
    'pem_simplex': {
        'pem': (28.88, 25.32, 20.57, 15.60, 10.84, 6.75),
        'u-pem': (25.88, 22.51, 18.72, 14.70, 10.80, 6.77),
    },
}


def table(name, domain, description, rules=None):
  """The table `name` (a key of PUBLISHED) on `domain`: rho columns for the antisparse domains,
  input-SNR columns for the others; 30 seeds; rows `rules` (default: the paper's)."""
  correlated = 'antisparse' in domain
  values = RHOS if correlated else SNRS
  columns = [f'rho={v}' if correlated else f'snr={v}' for v in values]
  published = PUBLISHED[name]

  def cell(rule, column):
    value = values[columns.index(column)]
    return f'configs/bss.py:rule={rule},domain={domain},{column}', (), value

  references = {(rule, column): bench.Reference(mean, SOURCE, BAND)
                for rule, means in published.items() for column, mean in zip(columns, means)}
  return bench.grid(rules or tuple(published), columns, cell, seeds=30, name=name, description=description,
                    plot_x='source correlation rho' if correlated else 'input SNR (dB)', baseline='pem',
                    references=references)
