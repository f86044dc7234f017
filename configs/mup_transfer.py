"""muP's learning-rate transfer: a residual MLP of width N under sp or mup, one epoch of MNIST.

  python -m local_learning.main --config=configs/mup_transfer.py:rule=pc,param=mup,width=1024,lr=0.3 --workdir=runs/t

Arguments: rule (pc or bp; any classification rule), param (sp, mup, mupc:
models/parameterisation.py), width N, depth H hidden layers (default 3), lr
(the base Adam rate eta, scaled by the parameterisation: eta for sp,
eta / sqrt(N) for mup, eta / sqrt(N L) for mupc), epochs (1), dataset (mnist).
relu, squared error, batch 64, no weight decay; pc as muPC runs it: T = H
inference steps of gradient descent at 0.5 / 64 per sample (JPC's 0.5 on the
batch-mean energy at batch 64), output clamped.
"""
from local_learning import config as ll_config
from local_learning.models import parameterisation


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pc', param='mup', width=64, depth=3, lr=0.3, epochs=1, dataset='mnist')
  config = ll_config.base(args.rule, args.dataset, model='resmlp')
  config.model.update(dict(width=args.width, depth=args.depth, activation='relu', param=args.param))
  config.batch_size = 64
  config.num_epochs = args.epochs
  if 'loss' in config.rule:
    config.rule.loss = 'mse'
  if 'optimizer' in config.rule:
    rate = parameterisation.learning_rate(args.param, 'adam', args.lr, args.width, args.depth + 1)
    config.rule.optimizer.update(dict(name='adam', learning_rate=rate, weight_decay=0.0))
  if 'activity_solver' in config.rule:
    config.rule.update(dict(inference_steps=args.depth, activity_lr=0.5 / 64, activity_solver='gd'))
  return config
