"""pem_nnantisparse: the PEM paper's correlation experiment on nonnegative antisparse sources.

  python benchmarks/run.py --table=pem_nnantisparse --workdir=runs/pem_nnantisparse
  python benchmarks/pem_paper.py --workdirs=runs          # ours beside the paper's

5 sources in [0, 1] from a t copula (4 dof) with equicorrelation rho in
{0, 0.05, ..., 0.5}, 10 Gaussian mixtures at 30 dB input SNR, one pass over
N = 100000 samples, 30 seeds per cell: PEM, u-PEM, the PEM repository's online
CorInfoMax and extended Infomax (its zero-mean outputs shifted to a minimum of
0 before scaling), as the reference runs them
(Simulations/PredictiveBSS/PredictiveBSS_Correlated_NNAntisparse_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against rho.
"""
from local_learning import bench

DOMAIN = 'nonnegative_antisparse'
RULES = ('pem', 'u-pem', 'corinfomax-pem', 'infomax')
RHOS = tuple(round(0.05 * i, 2) for i in range(11))


def cell(rule, column):
  rho = float(column.partition('=')[2])
  return f'configs/bss.py:rule={rule},domain={DOMAIN},rho={rho}', (), rho


def get_table():
  return bench.grid(RULES, [f'rho={rho}' for rho in RHOS], cell, seeds=30, name='pem_nnantisparse',
                    description=__doc__, plot_x='source correlation rho')
