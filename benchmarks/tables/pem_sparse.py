"""pem_sparse: the PEM paper's noise experiment on sparse sources.

  python benchmarks/run.py --table=pem_sparse --workdir=runs/pem_sparse

5 independent sources, uniform on [-4, 4] and projected onto the unit l1 ball,
10 Gaussian mixtures with white noise at an input SNR from 30 down to 5 dB,
one pass over N = 100000 samples, 30 seeds per cell: PEM, u-PEM and the 2022
CorInfoMax code with the settings the reference calls it with
(Simulations/PredictiveBSS/PredictiveBSS_Noisy_Sparse_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against the input SNR
(the paper's dashed), the paper's mean mSNR beside each cell (tables/_pem_paper.py).
"""
from local_learning.tables import _pem_paper


def get_table(rules=None):
  return _pem_paper.table('pem_sparse', 'sparse', __doc__, rules)
