"""The PC energy, its output terms, and the local weight gradient.

Energy of a batch, input clamped to x, hidden activities z_1..z_{L-1} free, per sample:
  F(z, W) = sum_l w_l 1/2 ||z_l - mu_l(z_{l-1})||^2 + output(mu_L(z_{L-1}))
with every weight w_l = 1 unless `weights` are given (a weight per hidden layer's error term).
`output` maps the prediction of the output (B, C) to a per-sample term (B,).
Two families of output terms, each scaled so that dF/dW / beta is the update:
  nudged_loss         beta * loss(mu_L, y): the output pulled towards the target
                      with stiffness beta. beta = 1 with mse clamps the output to
                      the target; a small beta of either sign is equilibrium
                      propagation's nudge, whose dF/dW / beta -> dL/dW as beta -> 0.
  interpolated_target PCX's nudging: a fixed target between the feedforward output
                      and the label, pulled with stiffness 1 (see its docstring).
Both are the same term at beta = 1.
"""
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from local_learning.arrays import Activities, Array, Inputs, Labels, OutputTerm, Params, PerSample, Scalar, Scores
from local_learning.losses import Loss
from local_learning.models.layered import FunctionalModel


def energy(model: FunctionalModel, params: Params, hidden: Activities, x: Inputs, output: OutputTerm, bottom: int = 0,
           mu_bottom: Array | None = None, weights: Sequence[float | Array] | None = None) -> PerSample:
  """Per-sample energy (B,) of the layers above z_bottom.

  hidden = [z_{bottom+1}, ..., z_{L-1}]. Given mu_bottom, the prediction of
  z_{bottom+1} is held at that value and the blocks below are skipped (exact
  while z_bottom and the weights below are unchanged since mu_bottom was
  computed); else bottom is 0 and the whole network is predicted from x.
  weights: None (every w_l = 1), or w_1..w_{L-1}, a weight per hidden layer (a stacked entry's
  K layers each have theirs).
  """
  if mu_bottom is None:
    mus = model.predict(params, [x, *hidden])
  else:
    mus = [mu_bottom, *model.predict(params, hidden, first=bottom + 1)]
  # mu - z, not z - mu: the gradient with respect to the predictions is then the
  # error itself, which XLA passes on without a negating pass over it.
  per_entry = entry_weights(model, weights)
  errors = sum(half_squared_norm(mu - z, model.stack_size(bottom + i) > 0, per_entry[bottom + i])
               for i, (z, mu) in enumerate(zip(hidden, mus[:-1])))
  return errors + output(mus[-1])


def weight_grads(model: FunctionalModel, params: Params, hidden: Activities, x: Inputs, output: OutputTerm,
                 beta: float | Array, bottom: int = 0, mu_bottom: Array | None = None,
                 weights: Sequence[float | Array] | None = None) -> tuple[Params, Scalar]:
  """(dF/dW / beta at the activities `hidden`, the batch-mean energy F).

  `bottom`, `mu_bottom`, `weights` as in `energy`: blocks below are left out, and get zero gradient.
  """
  hidden = jax.lax.stop_gradient(hidden)
  weight_energy = lambda p: jnp.mean(energy(model, p, hidden, x, output, bottom, mu_bottom, weights)) / beta
  value, grads = jax.value_and_grad(weight_energy)(params)
  return grads, value * beta


def nudged_loss(loss: Loss, y: Labels, beta: float | Array) -> OutputTerm:
  """The output term beta * loss(mu_L, y); loss is per sample, fn(outputs (B, C), y (B,)) -> (B,)."""
  return lambda mu: beta * loss(mu, y)


def interpolated_target(loss_name: str, y: Labels, beta: float | Array, feedforward: Scores) -> OutputTerm:
  """PCX's nudged output term: a fixed target pulled with stiffness 1.

  mse: 1/2 ||mu_L - t||^2 with t = (1 - beta) u + beta onehot(y), u the feedforward
  output (B, C) (PCX: examples/s4_1_discriminative_mode/models.py, the frozen output
  vode set once from the forward pass). ce: the cross-entropy of mu_L against the
  distribution (1 - beta) softmax(u) + beta onehot(y), our choice (PCX's code would
  mix logits into the target; its benchmark runs ce only at beta = 1, where both
  are the ordinary cross-entropy). At the feedforward state the output gradient is
  beta times the loss gradient; beta < 0 moves the target away from the label.
  """
  onehot = jax.nn.one_hot(y, feedforward.shape[-1])
  feedforward = jax.lax.stop_gradient(feedforward)
  if loss_name == 'mse':
    target = feedforward + beta * (onehot - feedforward)
    return lambda mu: 0.5 * jnp.sum(jnp.square(mu - target), axis=-1)
  if loss_name == 'ce':
    p = jax.nn.softmax(feedforward)
    target = p + beta * (onehot - p)
    return lambda mu: optax.softmax_cross_entropy(mu, target)
  raise ValueError(f'no interpolated target for loss {loss_name!r}')


def half_squared_norm(d: Array, stacked: bool, weight: float | Array | None = None) -> PerSample:
  """1/2 ||d||^2 per sample (B,); a stacked entry (K, B, ...) sums its K layers. weight: None, or
  the term's weight (a stacked entry's: (K,), one a layer)."""
  squares = jnp.square(d)
  if weight is not None:
    squares = squares * jnp.reshape(jnp.asarray(weight, d.dtype), (-1,) + (1,) * (d.ndim - 1)) if stacked \
        else squares * weight
  squares = jnp.sum(squares, axis=0) if stacked else squares
  return 0.5 * jnp.sum(squares.reshape(squares.shape[0], -1), axis=-1)


def entry_weights(model: FunctionalModel, weights: Sequence[float | Array] | None) -> list[float | Array | None]:
  """A weight per hidden layer (w_1..w_{L-1}) -> one per entry of the hidden activities: a float, or
  (K,) for a stacked entry; None for every entry when weights is None."""
  sizes = [model.stack_size(l) for l in range(model.num_layers - 1)]
  if weights is None:
    return [None] * len(sizes)
  if len(weights) != sum(k or 1 for k in sizes):
    raise ValueError(f'{len(weights)} energy weights for {sum(k or 1 for k in sizes)} hidden layers')
  starts = np.cumsum([0] + [k or 1 for k in sizes])
  return [jnp.stack(weights[a:a + k]) if k else weights[a] for a, k in zip(starts, sizes)]
