"""pem_antisparse: the PEM paper's correlation experiment on antisparse sources.

  python benchmarks/run.py --table=pem_antisparse --workdir=runs/pem_antisparse

5 sources in [-1, 1] from a t copula (4 dof) with equicorrelation rho in
{0, 0.05, ..., 0.5}, 10 Gaussian mixtures at 30 dB input SNR, one pass over
N = 100000 samples, 30 seeds per cell: PEM, u-PEM, the PEM repository's online
CorInfoMax and extended Infomax, as the reference runs them
(Simulations/PredictiveBSS/PredictiveBSS_Correlated_Antisparse_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against rho (the paper's
dashed), the paper's mean mSNR beside each cell (tables/_pem_paper.py).
"""
from local_learning.tables import _pem_paper


def get_table(rules=None):
  return _pem_paper.table('pem_antisparse', 'antisparse', __doc__, rules)
