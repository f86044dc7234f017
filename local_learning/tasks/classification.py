"""Classification: output losses (per sample) and accuracy."""
import jax
import jax.numpy as jnp
import optax

from local_learning.errors import UserError

LOSSES = ('mse', 'ce')


def loss_fn(name):
  """fn(outputs (B, C), labels (B,)) -> per-sample loss (B,).

  mse: 1/2 ||outputs - onehot||^2 (the output clamped to the target, in PC terms);
  ce: softmax cross-entropy of the outputs read as logits.
  """
  if name == 'mse':
    return lambda out, y: 0.5 * jnp.sum(jnp.square(out - jax.nn.one_hot(y, out.shape[-1])), axis=-1)
  if name == 'ce':
    return optax.softmax_cross_entropy_with_integer_labels
  raise UserError(f'unknown loss {name!r}; choose one of {", ".join(LOSSES)}')


def correct(outputs, labels):
  """Number of correct argmax predictions in the batch."""
  return jnp.sum(jnp.argmax(outputs, axis=-1) == labels)
