"""Plain deep MLPs on MNIST: the signal-decay experiment of error-optimised PC (epc vs pc vs bp).

  make mnist   # once
  python -m local_learning.main --config=configs/deep_mlp.py:rule=epc,depth=20 --workdir=runs/epc20

Arguments: rule=NAME (default epc), depth=H hidden layers (default 20), width=N
(default 128), epochs=E (default 3), dataset=NAME (default mnist),
activation=NAME (default gelu; gelu_exact under protocol=epc),
activities=pre|post (PC rules' nodes; default pre, post under protocol=epc).
The MLP 784-N x H-10 in the standard parameterisation (GELU, LeCun-normal
weights, flax's default), otherwise configs/mnist_mlp.py's protocol: batch 128, AdamW
lr 1e-3 (wd 1e-4, warmup 500 steps, cosine), cross-entropy output; PC rules
take T = H inference steps (one per hidden layer, so that PC's error wave
reaches the first layer in the last step) of 0.1.

protocol=epc runs error-optimised PC's reference protocol for its MLPs instead
(cgoemaere/error_based_PC at 95c5551: get_arch.py, sweep.py, pc_e.py,
datamodules/): orthogonal weights with gain sqrt(2) and zero biases
(model.param='orthogonal'), pixels (x - 0.5) / 0.5 in [-1, 1]
(dataset.pixels='symmetric'), batch 64, Adam 1e-4 without weight decay or
schedule, at most 5 epochs (epochs=0: the protocol's), and the point of its
grid: out=ce|sigmoid_mse (the output: cross-entropy, or its default, a
sigmoid with squared error), and for PC rules e_lr=0.1|0.3 (the activity
step, plain SGD on the batch-summed energy) and iters=64|256 (inference
steps). split=validation trains on the first 90% of the training set and
evaluates on the last 10% (the reference: a random 90/10 split, seed 42) with
early stopping (patience 3 epochs, Lightning's default; the last weights
kept), as its sweep chooses the grid point; split=full (the default) is its
final run: the whole training set, no early stopping, the test set. Its
deep MLP is 20 linear layers, depth=19 here (784-128x19-10); its shallow one
depth=3. As in the reference, the errors of epc and pc sit after the
activation (activities=post: the PC family's post-activation nodes) and the
GELU is the exact erf form (activation=gelu_exact, torch's default);
activities=pre,activation=gelu is our own form (pre-activation errors, jax's
tanh GELU), the one the first runs of this protocol took (docs: PC family).
benchmarks/reference/epc_reference.py runs the reference's own math.
Tables: benchmarks/tables/epc_protocol.py (this protocol),
benchmarks/tables/deep_mlp.py (ours).
"""
from local_learning import UserError
from local_learning import config as ll_config


def get_config(arg=''):
  args = ll_config.parse_arg(arg, rule='epc', depth=20, width=128, epochs=0, dataset='mnist',
                              protocol='ours', out='ce', e_lr=0.1, iters=64, split='full', activities='',
                              activation='')
  config = ll_config.base(args.rule, args.dataset, model='mlp')
  config.model.widths = (args.width,) * args.depth
  config.model.activation = args.activation or ('gelu_exact' if args.protocol == 'epc' else 'gelu')
  config.batch_size = 128
  config.num_epochs = args.epochs or (5 if args.protocol == 'epc' else 3)
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
    _epc_reference(config, args)
  elif args.protocol != 'ours':
    raise UserError(f"protocol must be 'ours' or 'epc', got {args.protocol!r}")
  if 'activities' in config.rule:
    config.rule.activities = args.activities or ('post' if args.protocol == 'epc' else config.rule.activities)
  return config


def _epc_reference(config, args):
  if args.split not in ('full', 'validation'):
    raise UserError(f"split must be 'full' or 'validation', got {args.split!r}")
  config.model.param = 'orthogonal'
  config.dataset.pixels = 'symmetric'
  config.batch_size = 64
  config.rule.optimizer.update(dict(name='adam', learning_rate=1e-4, weight_decay=0.0, schedule='constant',
                                    warmup_steps=0))
  if 'loss' in config.rule:
    config.rule.loss = args.out
  if 'inference_steps' in config.rule:
    config.rule.inference_steps = args.iters
    config.rule.activity_lr = args.e_lr
  if args.split == 'validation':
    config.validation_examples = 6000
    config.early_stopping_patience = 3
