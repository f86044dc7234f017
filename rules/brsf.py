"""Batchwise random-magnitude sign-concordant feedback, brSF (Moskovitz et al., 2018), as in BioTorch.

Feedback alignment (model.forward with feedback) whose B_l = |M_l| * sign(W_l):
the signs follow the current weights, the magnitudes |M_l| are a fresh
xavier-uniform draw, U(0, sqrt(6 / (fan_in + fan_out))), at every training
step (BioTorch redraws them on every forward pass).
"""
import jax
import jax.numpy as jnp

import local_learning as ll


@ll.register
class BRSF(ll.GradientRule):
  """Sign-symmetric feedback with magnitudes redrawn every batch."""
  name = 'brsf'
  description = 'batchwise random-magnitude sign-concordant feedback: B = |M| sign(W), M redrawn each step'

  def magnitudes(self, state, rng):
    """|M_l| for blocks 1..L-1, fresh from the step's key."""
    del state
    keys = jax.random.split(rng, self.model.num_layers)
    initializer = lambda l: jax.nn.initializers.xavier_uniform(batch_axis=(0,) if self.model.stack_size(l) else ())
    return [jnp.abs(initializer(l)(keys[l], shape)) for l, shape in enumerate(self.model.kernel_shapes) if l > 0]

  def grads(self, state, batch, rng):
    params = state['params']
    signs = [jnp.sign(k) for k in self.model.kernels(params)[1:]]
    feedback = [None] + [m * s for m, s in zip(self.magnitudes(state, rng), signs)]
    loss, grads = self.loss_grads(params, batch, feedback)
    return grads, dict(loss=loss)
