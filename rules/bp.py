"""Backpropagation: the task loss of the composed network, minimised with optax."""
import jax
import jax.numpy as jnp
import ml_collections
import optax

import local_learning as ll


@ll.register
class BP(ll.Rule):
  """Backpropagation of the output loss through the whole network."""
  name = 'bp'
  tasks = ('classification',)
  description = 'backpropagation of the output loss (the baseline)'

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict(dict(loss='ce', optimizer=ll.optim.default_config()))

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    self.loss = ll.classification.loss_fn(config.loss)
    self.tx = ll.optim.build(config.optimizer, num_steps)

  def init(self, rng):
    params = self.model.init(rng)
    return dict(params=params, opt_state=self.tx.init(params))

  def train_step(self, state, batch, rng):
    del rng
    x, y = batch

    def objective(params):
      return jnp.mean(self.loss(self.model.output(params, x), y))

    loss, grads = jax.value_and_grad(objective)(state['params'])
    updates, opt_state = self.tx.update(grads, state['opt_state'], state['params'])
    params = optax.apply_updates(state['params'], updates)
    return dict(params=params, opt_state=opt_state), dict(loss=loss)
