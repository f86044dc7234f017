"""A table's expected wall time per cell on one GPU, printed before it trains.

From each cell's matrix-product FLOPs (costs.matmul_flops: its train step and its
forward pass on an evaluation batch, traced on abstract arrays of the dataset's
shapes, so no data is read) times its steps, epochs and seeds, over an assumed
sustained throughput. Elementwise work, compilation and host transfers are not
counted; a cell whose step hides its FLOPs in a while loop (early-stopped
dynamics) has no estimate.
"""
import json

import jax
import jax.numpy as jnp

from local_learning import costs, data, models, train
from local_learning.data import tfds_source
from local_learning.errors import UserError

ASSUMED_TFLOPS = 100.0
ASSUMPTION = (f'an assumed {ASSUMED_TFLOPS:.0f} TFLOP/s sustained (about 20% of an H100\'s 495 TFLOP/s '
              'dense TF32 peak; XLA runs float32 products in TF32 there by default)')


def shapes(config):
  """(input shape, classes, training examples, test examples) of a classification config, without the data."""
  name = config.dataset.name
  if name == 'digits':
    ds = data.load(config.dataset)
    shape, classes, (n_train, n_test) = ds.input_shape, ds.num_classes, (len(ds.x_train), len(ds.x_test))
  else:
    (shape, classes), (n_train, n_test) = tfds_source.SHAPES[name], tfds_source.SIZES[name]
  if config.get('validation_examples'):
    n_train, n_test = n_train - config.validation_examples, config.validation_examples
  return tuple(shape), classes, config.get('train_examples') or n_train, config.get('test_examples') or n_test


def run_flops(config):
  """(FLOPs of one seed's train step, steps an epoch, FLOPs of the whole run: every step, epoch, seed and
  evaluation), or None where the config is not a classification run or a while loop hides the count."""
  task, rule_cls = train.check(config)
  if task.name != 'classification':
    return None
  shape, classes, n_train, n_test = shapes(config)
  model = models.functional(config.model, shape, classes)
  steps = n_train // config.batch_size
  rule = rule_cls(model, config.rule, num_steps=steps * config.num_epochs)
  key = jax.random.key(0)
  state = jax.eval_shape(rule.init, key)
  batch = (jax.ShapeDtypeStruct((config.batch_size, *shape), jnp.float32),
           jax.ShapeDtypeStruct((config.batch_size,), jnp.int32))
  step = costs.matmul_flops(rule.train_step, state, batch, key)
  eval_batch = min(config.eval_batch_size, n_test)
  forward = costs.matmul_flops(rule.output, state, jax.ShapeDtypeStruct((eval_batch, *shape), jnp.float32))
  if step is None or forward is None:
    return None
  evaluation = forward * -(-n_test // eval_batch)
  return step, steps, (step * steps + evaluation) * config.num_epochs * config.num_seeds


def lines(cells_and_configs):
  """The printed estimate: a line of assumptions, one per cell, the total. Cells of the same model,
  rule settings and shapes (MNIST and Fashion-MNIST) are traced once."""
  out = [f'expected wall time on one GPU, from matrix-product FLOPs at {ASSUMPTION}; elementwise work, '
         'compilation, data transfer and per-step launch overhead not counted (small models: a lower bound):']
  seen, total = {}, 0.0
  for cell, config in cells_and_configs:
    fields = ('rule', 'model', 'batch_size', 'num_epochs', 'num_seeds', 'eval_batch_size')
    key = json.dumps([config.to_dict()[k] for k in fields] + [shapes(config)], default=str)
    if key not in seen:
      try:
        seen[key] = run_flops(config)
      except UserError:
        raise
      except Exception as e:  # pylint: disable=broad-except  (a plugin rule that cannot be traced abstractly)
        seen[key] = f'tracing its step failed: {type(e).__name__}'
    flops = seen[key]
    if not isinstance(flops, tuple):
      out.append(f'  {cell.id}: no estimate ({flops or "not a classification run, or a while loop hides its FLOPs"})')
      continue
    step, steps, run = flops
    total += run
    out.append(f'  {cell.id}: {step / 1e9:.3g} GFLOP a step x {steps} steps x {config.num_epochs} epochs x '
               f'{config.num_seeds} seeds + evaluation = {run / 1e15:.3g} PFLOP: {_duration(run)}')
  out.append(f'  total: {_duration(total)}')
  return out


def _duration(flops):
  seconds = flops / (ASSUMED_TFLOPS * 1e12)
  if seconds >= 3600:
    return f'~{seconds / 3600:.1f} h'
  return f'~{seconds / 60:.1f} min' if seconds >= 60 else f'~{seconds:.0f} s' if seconds >= 1 else '<1 s'
