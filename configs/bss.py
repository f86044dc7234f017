"""Blind source separation on synthetic sources: the PEM paper's experiments, as its reference ran them.

  python -m local_learning.main --config=configs/bss.py:rule=pem,rho=0.5 --workdir=runs/pem_rho0.5

Arguments: rule=pem|u-pem|corinfomax|corinfomax-pem|infomax|ica (default pem),
domain=antisparse|nonnegative_antisparse|sparse|nonnegative_sparse|simplex
(default antisparse), rho=R source correlation (default 0), snr=DB input SNR
(default 30), samples=N (default 100000), seeds=K seeds run together (default
10), sources=copula|uniform (default: the domain's, SOURCES). 5 sources, 10 mixtures.

Each rule takes the PEM reference's settings for the domain (the tables below;
BariscanBozkurt/Predictive-Entropy-Maximization at f516b47, SIM =
Simulations/PredictiveBSS/PredictiveBSS_, UP = Simulations/u-PEM/PredictiveBSS_,
PDB = src/bss/PredictiveDecorrBSS.py, CIM = src/bss/CorInfoMaxBSS.py), outputs
are matched to sources as its code does (config.matching = 'inner_product',
src/bss/BSSbase.py:143-190), and the sources are drawn as its experiments draw
them: a t copula with correlation rho in the correlation experiments (antisparse
domains), independent uniforms in the noise experiments (sparse domains).
Results: the README's PEM tables (benchmarks/tables/pem_*.py).
"""
from local_learning import config as ll_config

SOURCES = {'antisparse': 'copula', 'nonnegative_antisparse': 'copula', 'sparse': 'uniform',
           'nonnegative_sparse': 'uniform', 'simplex': 'uniform'}

# PEM, per domain, over the rule's defaults (SIM...Correlated_Antisparse_10by5.py:28-52). The
# reference adds 1e-6 to D on the antisparse domains (PDB:152, 232): eps + 1e-6 here.
PEM = {
    'antisparse': dict(eps=1e-5 + 1e-6),
    'nonnegative_antisparse': dict(        # SIM...Correlated_NNAntisparse_10by5.py:29-54, 136-137
        gamma=750.0, lam=0.95, eps=1e-4 + 1e-6, neural_lr=0.05, neural_lr_min=1e-4, neural_steps=500,
        tol=1e-6, lr_decay=20000.0, c_init=2.0, w_eye=0.01, w_noise=1 / 15),
    'sparse': dict(                        # SIM...Noisy_Sparse_10by5.py:28-53
        gamma=150.0, neural_lr=0.05, neural_lr_min=1e-4, neural_steps=100, tol=1e-6),
    'nonnegative_sparse': dict(            # SIM...Noisy_NNSparse_10by5.py:25-51, 123-124; clip PDB:411
        gamma=250.0, eps=1e-4, neural_lr=0.1, neural_lr_min=1e-4, neural_steps=100, tol=1e-7,
        lr_decay=2000.0, output_max=5.0, c_init=0.1, c_noise=1 / 15, w_eye=0.01, w_noise=1 / 15),
    'simplex': dict(                       # SIM...Noisy_Simplex_10by5.py:24-49
        gamma=150.0, neural_lr=0.1, neural_lr_min=1e-4, neural_steps=100, tol=1e-7, threshold_lr=0.05,
        lr_schedule='log'),
}
# u-PEM: PEM's settings and its lateral gain; eps 1e-4 on the simplex (UP...Correlated_Antisparse:27,
# UP...Correlated_NNAntisparse:27, UP...Noisy_Sparse:28, UP...Noisy_NNSparse:26, UP...Noisy_Simplex:26-27).
U_PEM = {
    'antisparse': dict(lateral_gain=10.0),
    'nonnegative_antisparse': dict(lateral_gain=300.0),
    'sparse': dict(lateral_gain=50.0),
    'nonnegative_sparse': dict(lateral_gain=3200.0),
    'simplex': dict(lateral_gain=100.0, eps=1e-4),
}
# The PEM repository's online CorInfoMax (CIM), over its antisparse defaults
# (SIM...Correlated_Antisparse_10by5.py:54-77). It has none for the sparse or simplex domain.
CORINFOMAX_PEM = {
    'nonnegative_antisparse': dict(        # SIM...Correlated_NNAntisparse_10by5.py:56-79
        error_weight=15.0, lr=0.1, lr_decay=10000.0, neural_lr=0.9, neural_steps=500, tol=1e-6),
    'nonnegative_sparse': dict(            # SIM...Noisy_NNSparse_10by5.py:53-77; clip CIM:285
        lr=0.1, neural_lr=0.9, neural_lr_min=1e-9, threshold_lr=1.0, output_max=5.0),
}
# The 2022 CorInfoMax code, as the PEM paper's sparse experiment calls it (SIM...Noisy_Sparse_10by5.py:
# 155-191: lambda_y = lambda_e = 0.99, B_y = I, B_e = 1000 I, muW = 0.03, 500 steps from 0.1 to 0.001,
# tol 1e-6; its fit_batch_sparse leaks W by 1e-6 a sample, threshold rate 1).
CORINFOMAX = {
    'sparse': dict(error_weight=0.01 / 0.99 * 1000, by_init=1.0, lr=0.03, w_decay=1e-6, neural_lr=0.1,
                   neural_lr_min=1e-3, neural_steps=500, tol=1e-6, threshold_lr=1.0),
}
SETTINGS = {'pem': PEM, 'u-pem': {d: {**PEM[d], **U_PEM[d]} for d in PEM}, 'corinfomax-pem': CORINFOMAX_PEM,
            'corinfomax': CORINFOMAX}


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pem', domain='antisparse', rho=0.0, snr=30.0, samples=100000,
                             seeds=10, sources='')
  config = ll_config.base(args.rule, 'sources')
  config.dataset.domain = args.domain
  config.dataset.source_model = args.sources or SOURCES.get(args.domain, 'copula')
  config.dataset.rho = args.rho
  config.dataset.snr_db = args.snr
  config.dataset.samples = args.samples
  config.num_seeds = args.seeds
  config.matching = 'inner_product'
  config.rule.update(SETTINGS.get(args.rule, {}).get(args.domain, {}))
  if args.rule in ('ica', 'infomax'):
    config.num_rounds = 1    # batch rules that whiten all the data at every step (and infomax runs to its end)
  return config
