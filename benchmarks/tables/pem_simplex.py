"""pem_simplex: the PEM paper's noise experiment on sources in the unit simplex.

  python benchmarks/run.py --table=pem_simplex --workdir=runs/pem_simplex
  python benchmarks/pem_paper.py --workdirs=runs          # ours beside the paper's

5 independent sources, uniform on [-4, 4] and projected onto the unit simplex,
10 Gaussian mixtures with white noise at an input SNR from 30 down to 5 dB,
one pass over N = 100000 samples, 30 seeds per cell: PEM and u-PEM (the
reference runs no online CorInfoMax on the simplex), as the reference runs them
(Simulations/PredictiveBSS/PredictiveBSS_Noisy_Simplex_10by5.py and
Simulations/u-PEM/ of BariscanBozkurt/Predictive-Entropy-Maximization; settings
in configs/bss.py). mSNR (dB) of the outputs, plotted against the input SNR.
"""
from local_learning import bench

DOMAIN = 'simplex'
RULES = ('pem', 'u-pem')
SNRS = (30, 25, 20, 15, 10, 5)


def cell(rule, column):
  snr = int(column.partition('=')[2])
  return f'configs/bss.py:rule={rule},domain={DOMAIN},snr={snr}', (), snr


def get_table():
  return bench.grid(RULES, [f'snr={snr}' for snr in SNRS], cell, seeds=30, name='pem_simplex',
                    description=__doc__, plot_x='input SNR (dB)')
