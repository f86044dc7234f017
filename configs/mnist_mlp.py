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
  return config
