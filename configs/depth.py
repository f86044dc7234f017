"""Deep residual MLPs (resmlp): muPC against standard PC and Depth-muP backprop.

  make mnist   # once
  python -m local_learning.main --config=configs/depth.py:rule=mupc,depth=128 --workdir=runs/mupc128
  # the layers split over 2 CPU cores (README, Layer parallel):
  XLA_FLAGS="--xla_force_host_platform_device_count=2 --xla_cpu_multi_thread_eigen=false" \
    python -m local_learning.main --config=configs/depth.py:rule=mupc,depth=128 \
    --config.layer_parallel=2 --workdir=runs/mupc128_layers

Arguments: rule=NAME (default mupc), depth=H hidden layers (default 8),
width=N (default 128), dataset=NAME (default mnist where it is prepared in
the default tfds data dir, else digits). Batch 64, one epoch of MNIST (ten of
digits). The parameterisation follows the rule: `pc` trains the standard
ResNet (param='sp') and is standard PC, with T = H like muPC; every other rule
(mupc, bp, ...) the Depth-muP one. Squared-error output for every rule.
Measured on MNIST (benchmarks/tables/depth.py; the README has the table):
at depth 128, width 128, one epoch: mupc 94.0%, bp 96.0%; pc 13% at depth 32,
11% at 64, diverged at 128.
"""
from local_learning import config as ll_config
from local_learning.data import tfds_source


def get_config(arg=''):
  default_dataset = 'mnist' if tfds_source.is_prepared('mnist') else 'digits'
  args = ll_config.parse_arg(arg, rule='mupc', depth=8, width=128, dataset=default_dataset)
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
