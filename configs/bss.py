"""Blind source separation on synthetic sources (the PEM / CorInfoMax protocol).

  python -m local_learning.main --config=configs/bss.py:rule=pem,rho=0.5 --workdir=runs/pem_rho0.5

Arguments: rule=pem|u-pem|corinfomax|ica (default pem), domain=antisparse|
nonnegative_antisparse|sparse|nonnegative_sparse|simplex (default antisparse),
rho=R source correlation (default 0), snr=DB input SNR (default 30),
samples=N (default 100000), seeds=K seeds run together (default 10; tasks/separation.py).
5 sources, 10 mixtures. On the l1-ball and simplex domains PEM takes the PEM
paper's sparse settings (SPARSE_PEM); its defaults are the antisparse ones.
Results: the README's bss table (benchmarks/tables/bss.py).
"""
from local_learning import config as ll_config

SPARSE_DOMAINS = ('sparse', 'nonnegative_sparse', 'simplex')
SPARSE_PEM = dict(gamma=150.0, neural_lr=0.05, neural_lr_min=1e-4, neural_steps=100, tol=1e-6)


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pem', domain='antisparse', rho=0.0, snr=30.0, samples=100000,
                             seeds=10)
  config = ll_config.base(args.rule, 'sources')
  config.dataset.domain = args.domain
  config.dataset.rho = args.rho
  config.dataset.snr_db = args.snr
  config.dataset.samples = args.samples
  config.num_seeds = args.seeds
  if args.rule in ('pem', 'u-pem') and args.domain in SPARSE_DOMAINS:
    config.rule.update(SPARSE_PEM)
  if args.rule == 'ica':
    config.num_rounds = 1    # a batch rule that whitens all the data at every step: one round does it once
  return config
