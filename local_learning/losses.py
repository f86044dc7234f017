"""Output losses and accuracy of classification, shared by the rules, the trainer and the diagnostics.

  LOSSES               the loss names a rule's config.loss may take
  loss_fn(name)        fn(outputs (B, C), labels (B,)) -> per-sample loss (B,)
  correct(outputs, y)  the number of correct argmax predictions in a batch
"""
from typing import Callable

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int

from local_learning.errors import UserError

LOSSES = ('mse', 'ce', 'sigmoid_mse')

Loss = Callable[[Float[Array, 'B C'], Int[Array, ' B']], Float[Array, ' B']]


def loss_fn(name: str) -> Loss:
  """fn(outputs (B, C), labels (B,)) -> per-sample loss (B,).

  mse: 1/2 ||outputs - onehot||^2 (the output clamped to the target, in PC terms);
  ce: softmax cross-entropy of the outputs read as logits;
  sigmoid_mse: 1/2 ||sigmoid(outputs) - onehot||^2 (ePC's reference default: a sigmoid output layer).
  """
  if name == 'mse':
    return lambda out, y: 0.5 * jnp.sum(jnp.square(out - jax.nn.one_hot(y, out.shape[-1])), axis=-1)
  if name == 'ce':
    return optax.softmax_cross_entropy_with_integer_labels
  if name == 'sigmoid_mse':
    return lambda out, y: 0.5 * jnp.sum(jnp.square(jax.nn.sigmoid(out) - jax.nn.one_hot(y, out.shape[-1])), axis=-1)
  raise UserError(f'unknown loss {name!r}; choose one of {", ".join(LOSSES)}')


def correct(outputs: Float[Array, 'B C'], labels: Int[Array, ' B']) -> Int[Array, '']:
  """Number of correct argmax predictions in the batch."""
  return jnp.sum(jnp.argmax(outputs, axis=-1) == labels)
