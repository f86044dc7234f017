"""Deep residual MLPs (resmlp): muPC against standard PC and Depth-muP backprop.

  make mnist   # once
  python -m local_learning.main --config=configs/depth.py:rule=mupc,depth=128 --workdir=runs/mupc128
  # the layers split over 2 CPU cores (README, Layer parallel):
  XLA_FLAGS="--xla_force_host_platform_device_count=2 --xla_cpu_multi_thread_eigen=false" \
    python -m local_learning.main --config=configs/depth.py:rule=mupc,depth=128 \
    --config.layer_parallel=2 --workdir=runs/mupc128_layers

Arguments: rule=NAME (default mupc), depth=H hidden layers (default 8),
width=N (default 128), dataset=NAME (default mnist; digits needs no
preparing). Batch 64, one epoch of MNIST (ten epochs of digits). The
parameterisation follows the rule: `pc` trains the standard ResNet
(param='sp') and is standard PC, with T = H like muPC; every other rule
(mupc, bp, ...) the Depth-muP one. Squared-error output for every rule.
Results: the README's depth table (benchmarks/tables/depth.py).
"""
from local_learning import config as ll_config


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='mupc', depth=8, width=128, dataset='mnist')
  config = ll_config.base(args.rule, args.dataset, model='resmlp')
  config.model.depth = args.depth
  config.model.width = args.width
  config.model.param = 'sp' if args.rule == 'pc' else 'mupc'
  config.batch_size = 64
  config.num_epochs = 10 if args.dataset == 'digits' else 1
  if 'loss' in config.rule:
    config.rule.loss = 'mse'
  if args.rule == 'pc':
    config.rule.inference_steps = args.depth
  if args.rule == 'bp':
    config.rule.optimizer.name = 'adam'
    config.rule.optimizer.learning_rate = 1e-2
    config.rule.optimizer.weight_decay = 0.0
  return config
