"""The limits paper's protocol (Innocenti, Achour & Bogacz, ICML 2026; JPC experiments/limits_paper):
one fixed batch, trained full-batch, PC's gradient compared with BP's at every step.

  python -m local_learning.main --config=configs/limits.py:param=mupc,width=128,depth=8 --workdir=runs/l

Arguments: rule (pc; any classification rule can be asked the same question),
model (resmlp; the CNNs of benchmarks/tables/limits_cnn.py: vgg, `depth` conv
blocks of `width` channels, or rescnn, the paper's residual CNN with `depth`
residual blocks per stage), param (sp, mup, mupc; vgg: sp, mup;
models/parameterisation.py), width N (channels for the CNNs), depth (resmlp:
H hidden layers >= 2, default 8; vgg: 3; rescnn: 1, the paper's), steps
(training steps = epochs of one full batch, default 100), loss (mse or ce),
activation (tanh; linear trains PC on the closed-form equilibrated energy,
activity_solver=closed_form, as the paper's Fig. 1), gamma0 (readout
1/gamma0), optimizer (adam, or sgd: plain gradient descent on the weights, as
the paper's toy and gamma0 experiments), lr (base rate eta, one rate for
every layer, scaled per parameterisation: with Adam eta / sqrt(N L) for mupc,
eta / sqrt(N) for mup, eta for sp, L the weight layers; with sgd eta gamma0^2
N for mup and mupc), examples (the batch, default 64), inference (activity
steps; 0 = 100 H, the paper's, or 200 for the CNNs, the paper's CNN's),
activity_lr (per sample, the paper's 0.3), dataset (mnist; any prepared one,
e.g. cifar10).

As the paper (train.py): a residual MLP without biases, Adam on the weights,
plain gradient descent on the activities at a per-sample step of 0.3 from the
feedforward pass, re-started at every training step. Every step logs
diagnostics.bp_alignment on the batch (bp_cosine, energy_loss_ratio, per
layer) into metrics.jsonl. Evaluation uses the first 1000 test examples.
"""
from local_learning import config as ll_config
from local_learning.models import parameterisation

DEPTHS = {'resmlp': 8, 'vgg': 3, 'rescnn': 1}       # `depth`'s default per model
WEIGHT_LAYERS = {'resmlp': lambda h: h + 1, 'vgg': lambda blocks: blocks + 1, 'rescnn': lambda k: 3 * (1 + k) + 1}


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pc', model='resmlp', param='mupc', width=128, depth=0, steps=100,
                             loss='mse', activation='tanh', gamma0=1.0, optimizer='adam', lr=1e-3, examples=64,
                             inference=0, activity_lr=0.3, dataset='mnist')
  depth = args.depth or DEPTHS[args.model]
  config = ll_config.base(args.rule, args.dataset, model=args.model)
  config.model.update(dict(activation=args.activation, param=args.param, output_multiplier=1.0 / args.gamma0))
  if args.model == 'vgg':
    config.model.channels = (args.width,) * depth
  elif args.model == 'rescnn':
    config.model.update(dict(width=args.width, blocks=depth))
  else:
    config.model.update(dict(width=args.width, depth=depth))
  config.batch_size = config.train_examples = args.examples
  config.test_examples = 0 if args.dataset == 'digits' else 1000     # digits has 360 test images
  config.num_epochs = args.steps
  config.checkpoint_every, config.checkpoint_seconds = 0, 0.0     # no checkpoints
  config.diagnostics.bp_alignment_every = 1
  if 'loss' in config.rule:
    config.rule.loss = args.loss
  if 'optimizer' in config.rule:
    rate = parameterisation.learning_rate(args.param, args.optimizer, args.lr, args.width,
                                          WEIGHT_LAYERS[args.model](depth), args.gamma0)
    config.rule.optimizer.update(dict(name=args.optimizer, learning_rate=rate, weight_decay=0.0))
  if 'activity_solver' in config.rule:
    config.rule.activity_lr = args.activity_lr
    config.rule.activity_solver = 'closed_form' if args.activation == 'linear' else 'gd'
    config.rule.inference_steps = args.inference or (100 * depth if args.model == 'resmlp' else 200)
  return config
