"""The limits paper's protocol (Innocenti, Achour & Bogacz, ICML 2026; JPC experiments/limits_paper):
one fixed batch, trained full-batch, PC's gradient compared with BP's at every step.

  python -m local_learning.main --config=configs/limits.py:param=mupc,width=128,depth=8 --workdir=runs/l

Arguments: rule (pc; any classification rule can be asked the same question),
param (sp, mup, mupc: models/parameterisation.py), width N, depth H hidden
layers (>= 2), steps (training steps = epochs of one full batch, default 100),
loss (mse or ce), activation (tanh; linear trains PC on the closed-form
equilibrated energy, activity_solver=closed_form, as the paper's Fig. 1),
gamma0 (readout 1/gamma0), lr (base Adam rate eta, scaled per
parameterisation: eta / sqrt(N L) for mupc, eta / sqrt(N) for mup, eta for
sp), examples (the batch, default 64), inference (activity steps; 0 = 100 H,
the paper's), activity_lr (per sample, the paper's 0.3), dataset (mnist; any
prepared one, e.g. cifar10).

As the paper (train.py): a residual MLP without biases, Adam on the weights,
plain gradient descent on the activities at a per-sample step of 0.3 from the
feedforward pass, re-started at every training step. Every step logs
diagnostics.bp_alignment on the batch (bp_cosine, energy_loss_ratio, per
layer) into metrics.jsonl. Evaluation uses the first 1000 test examples.
"""
from local_learning import config as ll_config
from local_learning.models import parameterisation


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pc', param='mupc', width=128, depth=8, steps=100, loss='mse',
                             activation='tanh', gamma0=1.0, lr=1e-3, examples=64, inference=0, activity_lr=0.3,
                             dataset='mnist')
  config = ll_config.base(args.rule, args.dataset, model='resmlp')
  config.model.update(dict(width=args.width, depth=args.depth, activation=args.activation, param=args.param,
                           output_multiplier=1.0 / args.gamma0))
  config.batch_size = config.train_examples = args.examples
  config.test_examples = 1000
  config.num_epochs = args.steps
  config.checkpoint_every = 0
  config.diagnostics.bp_alignment_every = 1
  if 'loss' in config.rule:
    config.rule.loss = args.loss
  if 'optimizer' in config.rule:
    rate = parameterisation.learning_rate(args.param, 'adam', args.lr, args.width, args.depth + 1)
    config.rule.optimizer.update(dict(name='adam', learning_rate=rate, weight_decay=0.0))
  if 'activity_solver' in config.rule:
    config.rule.activity_lr = args.activity_lr
    config.rule.activity_solver = 'closed_form' if args.activation == 'linear' else 'gd'
    config.rule.inference_steps = args.inference or 100 * args.depth
  return config
