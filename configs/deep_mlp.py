"""Plain deep MLPs on MNIST: the signal-decay experiment of error-optimised PC (epc vs pc vs bp).

  make mnist   # once
  python -m local_learning.main --config=configs/deep_mlp.py:rule=epc,depth=20 --workdir=runs/epc20

Arguments: rule=NAME (default epc), depth=H hidden layers (default 20), width=N
(default 128), epochs=E (default 3), dataset=NAME (default mnist). The MLP
784-N x H-10 in the standard parameterisation (GELU, LeCun-normal weights,
flax's default), otherwise configs/mnist_mlp.py's protocol: batch 128, AdamW
lr 1e-3 (wd 1e-4, warmup 500 steps, cosine), cross-entropy output; PC rules
take T = H inference steps (one per hidden layer, so that PC's error wave
reaches the first layer in the last step) of 0.1. Results: the README's
depth table (benchmarks/tables/deep_mlp.py).
"""
from local_learning import config as ll_config


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='epc', depth=20, width=128, epochs=3, dataset='mnist')
  config = ll_config.base(args.rule, args.dataset, model='mlp')
  config.model.widths = (args.width,) * args.depth
  config.model.activation = 'gelu'
  config.batch_size = 128
  config.num_epochs = args.epochs
  optimizer = config.rule.optimizer
  optimizer.name = 'adamw'
  optimizer.learning_rate = 1e-3
  optimizer.weight_decay = 1e-4
  optimizer.schedule = 'warmup_cosine'
  optimizer.warmup_steps = 500
  if 'loss' in config.rule:
    config.rule.loss = 'ce'
  if 'inference_steps' in config.rule:
    config.rule.inference_steps = args.depth
    config.rule.activity_lr = 0.1
  return config
