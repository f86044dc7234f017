"""Predictive coding (PC) with feedforward initialisation.

Energy of a batch, input clamped to x, hidden activities z_1..z_{L-1} free:
  F(z, W) = sum_l 1/2 ||z_l - mu_l(z_{l-1})||^2 + beta * loss(mu_L(z_{L-1}), y)
With loss='mse' and beta=1 the output is clamped to the one-hot target; with
loss='ce' the output term is the cross-entropy of the prediction; a small beta
nudges the output towards the target. Per batch: z starts at the feedforward
pass (all hidden errors 0), T optax steps on z minimise F, then one optax step
on the weights with dF/dW / beta at the equilibrium: each weight's gradient
uses only its own layer's error and input. A model's stacked entry (K equal
layers as one (K, B, ...) array, e.g. a deep residual MLP) stays one array
throughout: each inference step is one batched predict, whatever the depth.

From the feedforward start the errors move down one entry per inference step:
at step t only the top t+1 free entries can have a non-zero gradient, because
every error below is still exactly zero. The first steps therefore predict and
differentiate only those top entries, the blocks below being skipped; this is
the same algorithm, with less work.
"""
import jax
import jax.numpy as jnp
import ml_collections
import optax

import local_learning as ll


@ll.register
class PC(ll.Rule):
  """Predictive coding: inference on activities, then a local weight update."""
  name = 'pc'
  tasks = ('classification',)
  description = 'predictive coding: T inference steps on activities, then local weight updates'

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict(dict(
        loss='mse',                 # output energy: mse (clamped target) or ce
        beta=1.0,                   # weight of the output term; small = nudged
        inference_steps=8,
        activity_lr=0.1,
        activity_momentum=0.0,      # 0: gradient descent on activities
        optimizer=ll.optim.default_config(),
    ))

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    if model.num_layers < 2:
      raise ll.UserError('pc needs a model with at least one hidden layer')
    if config.inference_steps < 0 or config.activity_lr <= 0 or config.beta <= 0:
      raise ll.UserError('pc needs inference_steps >= 0, activity_lr > 0 and beta > 0')
    self.loss = ll.classification.loss_fn(config.loss)
    self.tx = ll.optim.build(config.optimizer, num_steps)
    self.activity_tx = optax.sgd(config.activity_lr, momentum=config.activity_momentum or None)
    self.inference_steps = config.inference_steps

  def init(self, rng):
    params = self.model.init(rng)
    return dict(params=params, opt_state=self.tx.init(params))

  def energy(self, params, hidden, x, y, bottom=0, mu_bottom=None):
    """Per-sample energy (B,) of the layers above z_bottom.

    hidden = [z_{bottom+1}, ..., z_{L-1}]. Given mu_bottom, the prediction of
    z_{bottom+1} is held at that value and the blocks below are skipped (exact
    while z_bottom and z_{bottom+1} are at their feedforward values); else bottom
    is 0 and the whole network is predicted from x.
    """
    if mu_bottom is None:
      mus = self.model.predict(params, [x, *hidden])
    else:
      mus = [mu_bottom, *self.model.predict(params, hidden, first=bottom + 1)]
    # mu - z, not z - mu: the gradient with respect to the predictions is then the
    # error itself, which XLA passes on without a negating pass over it.
    errors = sum(_half_squared_norm(mu - z, self.model.stack_size(bottom + i) > 0)
                 for i, (z, mu) in enumerate(zip(hidden, mus[:-1])))
    return errors + self.config.beta * self.loss(mus[-1], y)

  def infer(self, params, x, y):
    """Feedforward init, then T steps on the hidden activities.

    Returns the equilibrium hidden activities and the feedforward output loss (B,).
    """
    zs = self.model.forward(params, x)
    hidden = zs[:-1]

    def step(hidden, opt_state, bottom):
      """One optimizer step; entries below `bottom` are known to have zero gradient."""
      top_energy = lambda top: jnp.sum(self.energy(params, top, x, y, bottom, zs[bottom]))
      grads = [jnp.zeros_like(z) for z in hidden[:bottom]] + jax.grad(top_energy)(hidden[bottom:])
      updates, opt_state = self.activity_tx.update(grads, opt_state, hidden)
      return optax.apply_updates(hidden, updates), opt_state

    opt_state = self.activity_tx.init(hidden)
    wave = min(self.inference_steps, len(hidden) - 1)   # steps before the errors reach z_1
    for t in range(wave):
      hidden, opt_state = step(hidden, opt_state, bottom=len(hidden) - 1 - t)
    (hidden, _), _ = jax.lax.scan(lambda carry, _: (step(*carry, bottom=0), None),
                                  (hidden, opt_state), None, length=self.inference_steps - wave)
    return hidden, self.loss(zs[-1], y)

  def weight_grads(self, params, x, y):
    """(dF/dW / beta at equilibrium, energy, feedforward output loss)."""
    hidden, ff_loss = self.infer(params, x, y)
    hidden = jax.lax.stop_gradient(hidden)
    weight_energy = lambda p: jnp.mean(self.energy(p, hidden, x, y)) / self.config.beta
    energy, grads = jax.value_and_grad(weight_energy)(params)
    return grads, energy * self.config.beta, jnp.mean(ff_loss)

  def train_step(self, state, batch, rng):
    del rng
    x, y = batch
    grads, energy, loss = self.weight_grads(state['params'], x, y)
    updates, opt_state = self.tx.update(grads, state['opt_state'], state['params'])
    params = optax.apply_updates(state['params'], updates)
    return dict(params=params, opt_state=opt_state), dict(loss=loss, energy=energy)


def _half_squared_norm(d, stacked):
  """1/2 ||d||^2 per sample (B,); a stacked entry (K, B, ...) sums its K layers."""
  squares = jnp.sum(jnp.square(d), axis=0) if stacked else jnp.square(d)
  return 0.5 * jnp.sum(squares.reshape(squares.shape[0], -1), axis=-1)
