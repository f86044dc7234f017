"""Batchwise random-magnitude sign-concordant feedback, brSF (Moskovitz et al., 2018), as in BioTorch.

Feedback alignment (model.forward with feedback) whose B_l = |M_l| * sign(W_l):
the signs follow the current weights, the magnitudes |M_l| are a fresh
xavier-uniform draw, U(0, sqrt(6 / (fan_in + fan_out))), at every training
step (BioTorch redraws them on every forward pass).
"""
import jax.numpy as jnp

import local_learning as ll


@ll.register
class BRSF(ll.GradientRule):
  """Sign-symmetric feedback with magnitudes redrawn every batch."""
  name = 'brsf'
  family = 'feedback alignment'
  description = 'batchwise random-magnitude sign-concordant feedback: B = |M| sign(W), M redrawn each step'

  @classmethod
  def search_space(cls):
    """BP's space (ll.GradientRule's): the same optimizer; BioTorch publishes no sweep, so our choice."""
    return super().search_space()

  def magnitudes(self, state, rng):
    """|M_l| for blocks 1..L-1, fresh from the step's key."""
    del state
    return [jnp.abs(b) for b in self.model.random_feedback(rng)]

  def grads(self, state, batch, rng):
    params = state['params']
    signs = [jnp.sign(k) for k in self.model.kernels(params)[1:]]
    feedback = [None] + [m * s for m, s in zip(self.magnitudes(state, rng), signs)]
    loss, grads = self.loss_grads(params, batch, feedback)
    return grads, dict(loss=loss)
