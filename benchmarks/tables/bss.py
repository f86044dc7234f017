"""bss: separation quality against source correlation — PEM, online CorInfoMax and
FastICA on correlated antisparse sources (the PEM paper's correlation experiment).

  python benchmarks/run.py --table=bss --workdir=runs/bss
  python benchmarks/run.py --table=bss --workdir=runs/bss --cells=rho=0.5   # one column

5 sources from a Student-t copula (4 dof) with equicorrelation rho in
{0, 0.1, ..., 0.5}, 10 Gaussian mixtures at 30 dB input SNR, one pass over
N = 100000 samples (configs/bss.py), 10 seeds per cell in one program. mSNR
(dB) of the feedforward outputs; the plot is mSNR against rho, one line per
rule. The references are PEM's in the PEM paper (Bozkurt et al.; mean of 30
seeds, from the result files of its repository, Simulations/Results); its
CorInfoMax and ICA baselines are run with other settings than these rows'.
"""
from local_learning import bench

RULES = ('pem', 'corinfomax', 'ica')
RHOS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
PEM_PAPER = 'PEM paper, Simulations/Results'
PUBLISHED_PEM = dict(zip(RHOS, (25.59, 25.06, 23.50, 21.31, 18.65, 15.48)))


def cell(rule, column):
  rho = float(column.partition('=')[2])
  return f'configs/bss.py:rule={rule},domain=antisparse,rho={rho},snr=30,samples=100000', (), rho


def get_table(rules=None):
  references = {('pem', f'rho={rho}'): bench.Reference(value, PEM_PAPER) for rho, value in PUBLISHED_PEM.items()}
  return bench.grid(rules or RULES, [f'rho={rho}' for rho in RHOS], cell, seeds=10, name='bss',
                    description=__doc__, plot_x='source correlation rho', baseline='pem', references=references)
