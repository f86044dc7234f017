"""pem_simplex: the PEM paper's noise experiment on sources in the unit simplex.

  python benchmarks/run.py --table=pem_simplex --workdir=runs/pem_simplex

5 independent sources, uniform on [-4, 4] and projected onto the unit simplex,
10 Gaussian mixtures with white noise at an input SNR from 30 down to 5 dB,
one pass over N = 100000 samples, 30 seeds per cell: PEM and u-PEM (the
reference runs no online CorInfoMax on the simplex), as the reference runs them
(Simulations/PredictiveBSS/PredictiveBSS_Noisy_Simplex_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against the input SNR
(the paper's dashed), the paper's mean mSNR beside each cell (tables/_pem_paper.py).
"""
from local_learning.tables import _pem_paper


def get_table(rules=None):
  return _pem_paper.table('pem_simplex', 'simplex', __doc__, rules)
