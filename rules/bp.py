"""Backpropagation: the task loss of the composed network, minimised with optax."""
import jax
import jax.numpy as jnp

import local_learning as ll


@ll.register
class BP(ll.GradientRule):
  """Backpropagation of the output loss through the whole network."""
  name = 'bp'
  description = 'backpropagation of the output loss (the baseline)'

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.loss = 'ce'
    return config

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    self.loss = ll.classification.loss_fn(config.loss)

  def grads(self, state, batch, rng):
    del rng
    x, y = batch
    loss, grads = jax.value_and_grad(
        lambda params: jnp.mean(self.loss(self.model.output(params, x), y)))(state['params'])
    return grads, dict(loss=loss)
