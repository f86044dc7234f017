"""Predictive coding, functionally: the energy, inference and weight gradient that PC rules compose.

Energy of a batch, input clamped to x, hidden activities z_1..z_{L-1} free:
  F(z, W) = sum_l 1/2 ||z_l - mu_l(z_{l-1})||^2 + beta * loss(mu_L(z_{L-1}), y)
With the mse loss and beta = 1 the output is clamped to the one-hot target;
with ce the output term is the cross-entropy of the prediction; a small beta
nudges the output towards the target. `infer` starts z at the feedforward
pass (every hidden error 0) and takes T optax steps on z; `weight_grads` is
dF/dW / beta at the result: each weight's gradient uses only its own layer's
error and input. A model's stacked entry (K equal layers as one (K, B, ...)
array) stays one array throughout: each inference step is one batched predict.

From the feedforward start the errors move down one entry per inference step:
at step t only the top t+1 free entries can have a non-zero gradient, because
every error below is still exactly zero. The first steps therefore predict and
differentiate only those top entries, the blocks below being skipped; this is
the same algorithm, with less work.

`loss` is a per-sample output loss fn(outputs (B, C), y (B,)) -> (B,)
(tasks.classification.loss_fn); energies are per sample (B,). `PCRule` is
the base that PC rules (pc, mupc, ...) subclass with their own defaults.
"""
import jax
import jax.numpy as jnp
import optax

from local_learning import rule
from local_learning.errors import UserError
from local_learning.tasks import classification


def energy(model, params, hidden, x, y, loss, beta=1.0, bottom=0, mu_bottom=None):
  """Per-sample energy (B,) of the layers above z_bottom.

  hidden = [z_{bottom+1}, ..., z_{L-1}]. Given mu_bottom, the prediction of
  z_{bottom+1} is held at that value and the blocks below are skipped (exact
  while z_bottom and z_{bottom+1} are at their feedforward values); else bottom
  is 0 and the whole network is predicted from x.
  """
  if mu_bottom is None:
    mus = model.predict(params, [x, *hidden])
  else:
    mus = [mu_bottom, *model.predict(params, hidden, first=bottom + 1)]
  # mu - z, not z - mu: the gradient with respect to the predictions is then the
  # error itself, which XLA passes on without a negating pass over it.
  errors = sum(_half_squared_norm(mu - z, model.stack_size(bottom + i) > 0)
               for i, (z, mu) in enumerate(zip(hidden, mus[:-1])))
  return errors + beta * loss(mus[-1], y)


def infer(model, params, x, y, loss, beta, steps, activity_tx):
  """Feedforward init, then `steps` steps of activity_tx on the summed energy's gradient.

  -> (the hidden activities [z_1, ..., z_{L-1}] at the end, the feedforward output (B, C)).
  """
  zs = model.forward(params, x)
  hidden = zs[:-1]

  def step(hidden, opt_state, bottom):
    """One optimizer step; entries below `bottom` are known to have zero gradient."""
    top_energy = lambda top: jnp.sum(energy(model, params, top, x, y, loss, beta, bottom, zs[bottom]))
    grads = [jnp.zeros_like(z) for z in hidden[:bottom]] + jax.grad(top_energy)(hidden[bottom:])
    updates, opt_state = activity_tx.update(grads, opt_state, hidden)
    return optax.apply_updates(hidden, updates), opt_state

  opt_state = activity_tx.init(hidden)
  wave = min(steps, len(hidden) - 1)   # steps before the errors reach z_1
  for t in range(wave):
    hidden, opt_state = step(hidden, opt_state, bottom=len(hidden) - 1 - t)
  (hidden, _), _ = jax.lax.scan(lambda carry, _: (step(*carry, bottom=0), None),
                                (hidden, opt_state), None, length=steps - wave)
  return hidden, zs[-1]


def weight_grads(model, params, hidden, x, y, loss, beta):
  """(dF/dW / beta at the activities `hidden`, the batch-mean energy F)."""
  hidden = jax.lax.stop_gradient(hidden)
  weight_energy = lambda p: jnp.mean(energy(model, p, hidden, x, y, loss, beta)) / beta
  value, grads = jax.value_and_grad(weight_energy)(params)
  return grads, value * beta


def grads(model, params, x, y, loss, beta, steps, activity_tx):
  """PC's estimate for one batch: inference, then the weight gradient at its end.

  -> (grads like params, dict(loss=mean feedforward output loss, energy=mean energy)).
  """
  hidden, output = infer(model, params, x, y, loss, beta, steps, activity_tx)
  weight_grad, value = weight_grads(model, params, hidden, x, y, loss, beta)
  return weight_grad, dict(loss=jnp.mean(loss(output, y)), energy=value)


def _half_squared_norm(d, stacked):
  """1/2 ||d||^2 per sample (B,); a stacked entry (K, B, ...) sums its K layers."""
  squares = jnp.sum(jnp.square(d), axis=0) if stacked else jnp.square(d)
  return 0.5 * jnp.sum(squares.reshape(squares.shape[0], -1), axis=-1)


class PCRule(rule.GradientRule):
  """The base of PC rules: inference from the feedforward pass, then the local weight update.

  Hyperparameters (default_config): loss ('mse' clamps the output to the target,
  'ce' makes the output term a cross-entropy), beta (< 1 nudges), inference_steps
  T, activity_lr (per sample: the energy is summed over the batch),
  activity_momentum (0: gradient descent on activities), and the weight optimizer.
  """

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.update(dict(loss='mse', beta=1.0, inference_steps=8, activity_lr=0.1, activity_momentum=0.0))
    return config

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    if model.num_layers < 2:
      raise UserError(f'{self.name} needs a model with at least one hidden layer')
    if config.inference_steps < 0 or config.activity_lr <= 0 or config.beta <= 0:
      raise UserError(f'{self.name} needs inference_steps >= 0, activity_lr > 0 and beta > 0')
    self.loss = classification.loss_fn(config.loss)
    self.activity_tx = optax.sgd(config.activity_lr, momentum=config.activity_momentum or None)
    self.inference_steps = config.inference_steps

  def grads(self, state, batch, rng):
    del rng
    x, y = batch
    return grads(self.model, state['params'], x, y, self.loss, self.config.beta, self.inference_steps,
                 self.activity_tx)
