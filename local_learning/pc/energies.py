"""The PC energy, its output terms, and the local weight gradient.

Energy of a batch, input clamped to x, hidden activities z_1..z_{L-1} free, per sample:
  F(z, W) = sum_l 1/2 ||z_l - mu_l(z_{l-1})||^2 + output(mu_L(z_{L-1}))
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
import jax
import jax.numpy as jnp
import optax

from local_learning.arrays import Activities, Array, Inputs, Labels, OutputTerm, Params, PerSample, Scalar, Scores
from local_learning.losses import Loss
from local_learning.models.layered import FunctionalModel


def energy(model: FunctionalModel, params: Params, hidden: Activities, x: Inputs, output: OutputTerm, bottom: int = 0,
           mu_bottom: Array | None = None) -> PerSample:
  """Per-sample energy (B,) of the layers above z_bottom.

  hidden = [z_{bottom+1}, ..., z_{L-1}]. Given mu_bottom, the prediction of
  z_{bottom+1} is held at that value and the blocks below are skipped (exact
  while z_bottom and the weights below are unchanged since mu_bottom was
  computed); else bottom is 0 and the whole network is predicted from x.
  """
  if mu_bottom is None:
    mus = model.predict(params, [x, *hidden])
  else:
    mus = [mu_bottom, *model.predict(params, hidden, first=bottom + 1)]
  # mu - z, not z - mu: the gradient with respect to the predictions is then the
  # error itself, which XLA passes on without a negating pass over it.
  errors = sum(half_squared_norm(mu - z, model.stack_size(bottom + i) > 0)
               for i, (z, mu) in enumerate(zip(hidden, mus[:-1])))
  return errors + output(mus[-1])


def weight_grads(model: FunctionalModel, params: Params, hidden: Activities, x: Inputs, output: OutputTerm,
                 beta: float | Array, bottom: int = 0, mu_bottom: Array | None = None) -> tuple[Params, Scalar]:
  """(dF/dW / beta at the activities `hidden`, the batch-mean energy F).

  `bottom`, `mu_bottom` as in `energy`: blocks below are left out, and get zero gradient.
  """
  hidden = jax.lax.stop_gradient(hidden)
  weight_energy = lambda p: jnp.mean(energy(model, p, hidden, x, output, bottom, mu_bottom)) / beta
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


def half_squared_norm(d: Array, stacked: bool) -> PerSample:
  """1/2 ||d||^2 per sample (B,); a stacked entry (K, B, ...) sums its K layers."""
  squares = jnp.sum(jnp.square(d), axis=0) if stacked else jnp.square(d)
  return 0.5 * jnp.sum(squares.reshape(squares.shape[0], -1), axis=-1)
