"""Plain deep MLPs on MNIST: the signal-decay experiment of error-optimised PC (epc vs pc vs bp).

  make mnist   # once
  python -m local_learning.main --config=configs/deep_mlp.py:rule=epc,depth=20 --workdir=runs/epc20

Arguments: rule=NAME (default epc), depth=H hidden layers (default 20), width=N
(default 128), epochs=E (default 3), dataset=NAME (default mnist). The MLP
784-N x H-10 in the standard parameterisation (GELU, LeCun-normal weights,
flax's default), otherwise configs/mnist_mlp.py's protocol: batch 128, AdamW
lr 1e-3 (wd 1e-4, warmup 500 steps, cosine), cross-entropy output; PC rules
take T = H inference steps (one per hidden layer, so that PC's error wave
reaches the first layer in the last step) of 0.1.

protocol=epc runs error-optimised PC's reference protocol for its deep MLPs
instead (cgoemaere/error_based_PC at 95c5551: get_arch.py, sweep.py, pc_e.py):
orthogonal weights with gain sqrt(2) and zero biases (model.param='orthogonal'),
batch 64, Adam 1e-4 without weight decay or schedule, and for PC rules 64
inference steps of 0.1 (the smallest of its grid, e_lr in {0.1, 0.3} x iters in
{64, 256}, which it searched on a validation split with early stopping; we run
the fixed epochs of the other rows). Cross-entropy output, one of the two its
sweep runs (its default is a sigmoid with squared error, which we have no
loss for); its errors sit after the activation, ours before (our activities
are pre-activations). benchmarks/reference/epc_reference.py runs the reference's own
math with a validation split. Results: the README's depth table
(benchmarks/tables/deep_mlp.py).
"""
from local_learning import config as ll_config


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='epc', depth=20, width=128, epochs=3, dataset='mnist',
                              protocol='ours')
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
  if args.protocol == 'epc':
    _epc_reference(config)
  elif args.protocol != 'ours':
    raise ValueError(f"protocol must be 'ours' or 'epc', got {args.protocol!r}")
  return config


def _epc_reference(config):
  config.model.param = 'orthogonal'
  config.batch_size = 64
  config.rule.optimizer.update(dict(name='adam', learning_rate=1e-4, weight_decay=0.0, schedule='constant',
                                    warmup_steps=0))
  if 'inference_steps' in config.rule:
    config.rule.inference_steps = 64
