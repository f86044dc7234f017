"""pem_nnantisparse: the PEM paper's correlation experiment on nonnegative antisparse sources.

  python benchmarks/run.py --table=pem_nnantisparse --workdir=runs/pem_nnantisparse

5 sources in [0, 1] from a t copula (4 dof) with equicorrelation rho in
{0, 0.05, ..., 0.5}, 10 Gaussian mixtures at 30 dB input SNR, one pass over
N = 100000 samples, 30 seeds per cell: PEM, u-PEM, the PEM repository's online
CorInfoMax and extended Infomax (its zero-mean outputs shifted to a minimum of
0 before scaling), as the reference runs them
(Simulations/PredictiveBSS/PredictiveBSS_Correlated_NNAntisparse_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against rho (the paper's
dashed), the paper's mean mSNR beside each cell (tables/_pem_paper.py).
"""
from local_learning.tables import _pem_paper


def get_table(rules=None):
  return _pem_paper.table('pem_nnantisparse', 'nonnegative_antisparse', __doc__, rules)
