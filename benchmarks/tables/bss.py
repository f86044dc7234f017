"""bss: separation quality against source correlation — PEM, online CorInfoMax and
FastICA on correlated antisparse sources (the PEM paper's correlation experiment).

  python benchmarks/run.py --table=bss --workdir=runs/bss
  python benchmarks/run.py --table=bss --workdir=runs/bss --cells=rho=0.5   # one column

5 sources from a Student-t copula (4 dof) with equicorrelation rho in
{0, 0.1, ..., 0.5}, 10 Gaussian mixtures at 30 dB input SNR, one pass over
N = 100000 samples (configs/bss.py), 10 seeds per cell in one program. mSNR
(dB) of the feedforward outputs; the plot is mSNR against rho, one line per
rule. Published (PEM paper): PEM 25.6 -> 15.5 dB, CorInfoMax 25.0 -> 22.3 dB.
"""
from local_learning import bench

RULES = ('pem', 'corinfomax', 'ica')
RHOS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def cell(rule, column):
  rho = float(column.partition('=')[2])
  return f'configs/bss.py:rule={rule},domain=antisparse,rho={rho},snr=30,samples=100000', (), rho


def get_table():
  return bench.grid(RULES, [f'rho={rho}' for rho in RHOS], cell, seeds=10, name='bss', description=__doc__,
                    plot_x='source correlation rho')
