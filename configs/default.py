"""The default: a small MLP on the embedded digits dataset.

  python -m local_learning.main --config=configs/default.py:rule=pc --workdir=runs/pc

Arguments: rule=NAME (default pc), dataset=NAME (default digits), model=NAME
(default mlp, hidden widths 64-64; or vgg, resmlp with their defaults). A few
seconds on digits; results: the README's quick table (`make run`).
"""
from local_learning import config as ll_config


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pc', dataset='digits', model='mlp')
  config = ll_config.base(args.rule, args.dataset, model=args.model)
  if args.model == 'mlp':
    config.model.widths = (64, 64)
  if args.rule == 'ep':
    config.model.activation = 'hard_sigmoid'     # equilibrium propagation needs bounded neurons
  if args.rule == 'ff':
    config.model.activation = 'relu'
  config.batch_size = 32
  config.num_epochs = 20
  return config
