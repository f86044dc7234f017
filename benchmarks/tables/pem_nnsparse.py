"""pem_nnsparse: the PEM paper's noise experiment on nonnegative sparse sources.

  python benchmarks/run.py --table=pem_nnsparse --workdir=runs/pem_nnsparse

5 independent sources, uniform on [-2, 2], projected onto the unit l1 ball and
clipped at 0, 10 Gaussian mixtures with white noise at an input SNR from 30
down to 5 dB, one pass over N = 100000 samples, 30 seeds per cell: PEM, u-PEM
and the PEM repository's online CorInfoMax, as the reference runs them
(Simulations/PredictiveBSS/PredictiveBSS_Noisy_NNSparse_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against the input SNR
(the paper's dashed), the paper's mean mSNR beside each cell (tables/_pem_paper.py).
"""
from local_learning.tables import _pem_paper


def get_table(rules=None):
  return _pem_paper.table('pem_nnsparse', 'nonnegative_sparse', __doc__, rules)
