"""A classification rule's outputs checked once against the Rule contract, by shape (jax.eval_shape; the
train step traced once, its jaxpr kept for the run), before anything compiles or trains: a rule that
cannot run a model, or a plugin whose init or train_step returns the wrong things, is one line naming
the rule and the field."""
from typing import NamedTuple

import jax
import jax.extend.core
import numpy as np

from local_learning.errors import UserError


class TracedStep(NamedTuple):
  """One seed's train step as the contract traced it: its jaxpr (for its cost) and its metrics' names."""
  jaxpr: jax.extend.core.ClosedJaxpr
  metrics: tuple[str, ...]


def check_classification(rule, model_name, input_shape, batch_size) -> TracedStep:
  """A UserError unless rule.init(key) gives a pytree of arrays and rule.train_step(state, (x (B, *input_shape),
  y (B,)), key) gives (a state of the same structure, shapes and dtypes, {name: scalar}), and
  rule.output(state, x) gives scores (B, C). Returns the step it traced, so that nothing traces it again."""
  key = jax.eval_shape(lambda: jax.random.key(0))
  batch = (jax.ShapeDtypeStruct((batch_size, *input_shape), np.float32),
           jax.ShapeDtypeStruct((batch_size,), np.int32))
  what = f'rule {rule.name!r} on model {model_name!r}'
  state = _shapes(what, 'init', rule.init, key)
  jaxpr, out = _shapes(what, 'train_step', rule.train_step, state, batch, key, trace=_jaxpr_and_shapes)
  if not (isinstance(out, tuple) and len(out) == 2):
    raise UserError(f'{what}: train_step must return (state, metrics), not {_kind(out)}')
  new_state, metrics = out
  before, after = jax.tree_util.tree_flatten_with_path(state)[0], jax.tree_util.tree_flatten_with_path(new_state)[0]
  if jax.tree.structure(state) != jax.tree.structure(new_state):
    raise UserError(f'{what}: train_step returned a state of another structure than init\'s '
                    f'({len(after)} arrays, init gave {len(before)}); return the state with the same fields')
  for (path, a), (_, b) in zip(before, after):
    if (a.shape, a.dtype) != (b.shape, b.dtype):
      raise UserError(f'{what}: train_step returned state{jax.tree_util.keystr(path)} of shape {b.shape} '
                      f'{b.dtype}, and init gave {a.shape} {a.dtype}')
  if not isinstance(metrics, dict):
    raise UserError(f'{what}: train_step\'s metrics must be a dict of scalars, not {_kind(metrics)}')
  for name, value in metrics.items():
    if getattr(value, 'shape', None) != ():
      raise UserError(f'{what}: train_step\'s metric {name!r} has shape {getattr(value, "shape", _kind(value))}; '
                      'metrics are scalars (the trainer averages them over the steps)')
  scores = _shapes(what, 'output', rule.output, state, batch[0])
  if getattr(scores, 'ndim', None) != 2 or scores.shape[0] != batch_size:
    raise UserError(f'{what}: output(state, x) must give scores (B, C) = ({batch_size}, classes), not '
                    f'{getattr(scores, "shape", _kind(scores))}')
  return TracedStep(jaxpr, tuple(metrics))


def _jaxpr_and_shapes(fn, *args):
  return jax.make_jaxpr(fn, return_shape=True)(*args)


def _shapes(what, method, fn, *args, trace=jax.eval_shape):
  """trace(fn, *args), by default jax.eval_shape: any failure a UserError naming the rule and the method."""
  try:
    return trace(fn, *args)
  except UserError:
    raise
  except Exception as e:  # pylint: disable=broad-except  (a plugin's code: any error is its message)
    first = (str(e).strip().splitlines() or [''])[0][:200]
    raise UserError(f'{what}: {method} failed ({type(e).__name__}: {first}); the rule cannot run this '
                    'model or its code has a bug') from None


def _kind(value):
  return type(value).__name__
