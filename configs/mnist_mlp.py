"""The standard MNIST protocol: MLP 784-128-128-128-10, batch 128, 25 epochs,
AdamW with a warmup-cosine schedule (as in the PC benchmark literature).

  make mnist   # once: builds tfds mnist from ../shared/data/mnist, offline
  python -m local_learning.main --config=configs/mnist_mlp.py:rule=pc --workdir=runs/mnist_pc

Arguments: rule=bp|pc (default pc), dataset=mnist|fashion_mnist.
Expected final-epoch test accuracy on MNIST: see the README table.
"""
from local_learning import config as ll_config


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='pc', dataset='mnist')
  config = ll_config.base(args.rule, args.dataset, model='mlp')
  config.model.widths = (128, 128, 128)
  config.model.activation = 'gelu'
  config.batch_size = 128
  config.num_epochs = 25
  optimizer = config.rule.optimizer
  optimizer.name = 'adamw'
  optimizer.learning_rate = 1e-3
  optimizer.weight_decay = 1e-4
  optimizer.schedule = 'warmup_cosine'
  optimizer.warmup_steps = 500
  if args.rule == 'pc':
    config.rule.loss = 'ce'
    config.rule.inference_steps = 8
    config.rule.activity_lr = 0.1
  if args.rule == 'ep':
    _equilibrium_propagation(config)
  if args.rule == 'ff':
    _forward_forward(config)
  return config


def _equilibrium_propagation(config):
  """Laborieux et al.'s MNIST MLP (check/train_mnist.sh): 784-512-10, batch 50, Adam 5e-4 on both
  layers, T1 = 30, T2 = 10, beta = 0.1, mse; here centred (their --thirdphase) and with the hard
  sigmoid clip(u, 0, 1) (theirs: sigmoid(4 (u - 0.5))), 25 epochs as the protocol."""
  config.model.widths = (512,)
  config.model.activation = 'hard_sigmoid'
  config.batch_size = 50
  config.rule.optimizer.update(dict(name='adam', learning_rate=5e-4, weight_decay=0.0, schedule='constant',
                                    warmup_steps=0))


def _forward_forward(config):
  """loeweX's Forward-Forward settings: 784-1000-1000-1000 ReLU, batch 100 (+ 100 negatives),
  SGD with momentum 0.9, lr 1e-3, weight decay 3e-4; 25 epochs (theirs 100, linear cooldown)."""
  config.model.widths = (1000, 1000, 1000)
  config.model.activation = 'relu'
  config.batch_size = 100
  config.rule.optimizer.update(dict(name='sgd', learning_rate=1e-3, momentum=0.9, weight_decay=3e-4,
                                    schedule='constant', warmup_steps=0))
