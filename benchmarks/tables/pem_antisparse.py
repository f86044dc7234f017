"""pem_antisparse: the PEM paper's correlation experiment on antisparse sources.

  python benchmarks/run.py --table=pem_antisparse --workdir=runs/pem_antisparse
  python benchmarks/pem_paper.py --workdirs=runs          # ours beside the paper's

5 sources in [-1, 1] from a t copula (4 dof) with equicorrelation rho in
{0, 0.05, ..., 0.5}, 10 Gaussian mixtures at 30 dB input SNR, one pass over
N = 100000 samples, 30 seeds per cell: PEM, u-PEM, the PEM repository's online
CorInfoMax and extended Infomax, as the reference runs them
(Simulations/PredictiveBSS/PredictiveBSS_Correlated_Antisparse_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against rho.
"""
from local_learning import bench

DOMAIN = 'antisparse'
RULES = ('pem', 'u-pem', 'corinfomax-pem', 'infomax')
RHOS = tuple(round(0.05 * i, 2) for i in range(11))


def cell(rule, column):
  rho = float(column.partition('=')[2])
  return f'configs/bss.py:rule={rule},domain={DOMAIN},rho={rho}', (), rho


def get_table():
  return bench.grid(RULES, [f'rho={rho}' for rho in RHOS], cell, seeds=30, name='pem_antisparse',
                    description=__doc__, plot_x='source correlation rho')
