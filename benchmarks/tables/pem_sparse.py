"""pem_sparse: the PEM paper's noise experiment on sparse sources.

  python benchmarks/run.py --table=pem_sparse --workdir=runs/pem_sparse
  python benchmarks/pem_paper.py --workdirs=runs          # ours beside the paper's

5 independent sources, uniform on [-4, 4] and projected onto the unit l1 ball,
10 Gaussian mixtures with white noise at an input SNR from 30 down to 5 dB,
one pass over N = 100000 samples, 30 seeds per cell: PEM, u-PEM and the 2022
CorInfoMax code with the settings the reference calls it with
(Simulations/PredictiveBSS/PredictiveBSS_Noisy_Sparse_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against the input SNR.
"""
from local_learning import bench

DOMAIN = 'sparse'
RULES = ('pem', 'u-pem', 'corinfomax')
SNRS = (30, 25, 20, 15, 10, 5)


def cell(rule, column):
  snr = int(column.partition('=')[2])
  return f'configs/bss.py:rule={rule},domain={DOMAIN},snr={snr}', (), snr


def get_table():
  return bench.grid(RULES, [f'snr={snr}' for snr in SNRS], cell, seeds=30, name='pem_sparse',
                    description=__doc__, plot_x='input SNR (dB)')
