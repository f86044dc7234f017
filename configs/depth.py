"""Deep residual MLPs (resmlp): muPC against standard PC and Depth-muP backprop.

  make mnist   # once
  python -m local_learning.main --config=configs/depth.py:rule=mupc,depth=128 --workdir=runs/mupc128
  # the layers split over 2 CPU cores (README, Layer parallel):
  XLA_FLAGS="--xla_force_host_platform_device_count=2 --xla_cpu_multi_thread_eigen=false" \
    python -m local_learning.main --config=configs/depth.py:rule=mupc,depth=128 \
    --config.layer_parallel=2 --config.model.groups=1 --workdir=runs/mupc128_layers

Arguments: rule=NAME (default mupc), depth=H hidden layers (default 8),
width=N (default 128), dataset=NAME (default mnist; digits needs no
preparing). Batch 64, one epoch of MNIST (ten epochs of digits). The
parameterisation follows the rule: `pc` trains the standard ResNet
(param='sp', the reference's uniform init) and is standard PC as the muPC
paper's baseline runs it: T = H like muPC, GD on the activities and Adam
without weight decay, at the reference's best rates for the depth
(SP_PC_RATES). Every other rule (mupc, bp, ...) trains the Depth-muP network.
Squared-error output for every rule. The hidden layers are stacked in
`groups` entries (models/residual.py; a layout: the same network and
updates), `stack_groups(depth)`: one below 16 hidden layers, where a step
takes milliseconds and compile time dominates; below 128, groups of about 3
layers (at most 16), whose small products XLA:CPU runs side by side where
more than 8 are active; 8 from 128. Compile time grows with the square of
the groups (PC's error wave gives each group its own loop, holding every
group above it): at 128 layers more groups would compile for longer than
the per-layer reference
(`benchmarks/mupc_speed.py --groups=`; README, muPC at depth).
`bp` is the paper's Depth-muP backprop
baseline as its reference ran it for the paper (jpc commit 20e91f3,
train_bpn.py): N(0, 1) weights, squared error, Adam lr 1e-2; the reference's
later default, cross-entropy, came after the paper. The paper's width is 512;
128 here by default. Results: the README's depth table (benchmarks/tables/depth.py).
"""
from local_learning import config as ll_config

# Standard PC's rates per depth H for relu: (Adam lr, GD step on the batch-mean
# energy), the best of the reference's sweep as its plotting code hard-codes them
# (jpc experiments/mupc_paper/plot_results.ipynb, cells 43 and 50; H = 128 from
# cell 46, where it notes that PC diverges at 128 layers for any rates). Other
# depths take the nearest H's rates.
SP_PC_RATES = {8: (1e-2, 1e-1), 16: (1e-2, 1e-2), 32: (1e-2, 1e-2), 64: (1e-1, 1e-2), 128: (1e-1, 1e-2)}


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='mupc', depth=8, width=128, dataset='mnist')
  config = ll_config.base(args.rule, args.dataset, model='resmlp')
  config.model.depth = args.depth
  config.model.width = args.width
  config.model.param = 'sp' if args.rule == 'pc' else 'mupc'
  config.model.groups = stack_groups(args.depth)
  config.batch_size = 64
  config.num_epochs = 10 if args.dataset == 'digits' else 1
  if 'loss' in config.rule:
    config.rule.loss = 'mse'
  if args.rule == 'pc':
    weight_lr, activity_lr = SP_PC_RATES[min(SP_PC_RATES, key=lambda h: abs(h - args.depth))]
    config.rule.inference_steps = args.depth
    config.rule.activity_energy = 'mean'
    config.rule.activity_lr = activity_lr
    config.rule.optimizer.name = 'adam'
    config.rule.optimizer.learning_rate = weight_lr
    config.rule.optimizer.weight_decay = 0.0
  if args.rule == 'bp':
    config.rule.optimizer.name = 'adam'
    config.rule.optimizer.learning_rate = 1e-2
    config.rule.optimizer.weight_decay = 0.0
  return config


def stack_groups(depth):
  """Groups of resmlp's depth - 1 stacked hidden layers: 1 below 16; below 128 about 3 layers each,
  at most 16; 8 from 128."""
  if depth < 16:
    return 1
  return min(16, -(-(depth - 1) // 3)) if depth < 128 else 8
