"""Fixed random-magnitude sign-concordant feedback, frSF (Moskovitz et al., 2018), as in BioTorch.

Feedback alignment (model.forward with feedback) whose B_l = |M_l| * sign(W_l):
the signs follow the current weights, the magnitudes |M_l| are drawn once,
xavier-uniform, U(0, sqrt(6 / (fan_in + fan_out))), and kept in the state.
"""
import jax.numpy as jnp

import local_learning as ll


@ll.register
class FRSF(ll.GradientRule):
  """Sign-symmetric feedback with fixed random magnitudes."""
  name = 'frsf'
  family = 'feedback alignment'
  description = 'fixed random-magnitude sign-concordant feedback: B = |M| sign(W), M drawn once'

  @classmethod
  def search_space(cls):
    """BP's space (ll.GradientRule's): the same optimizer; BioTorch publishes no sweep, so our choice."""
    return super().search_space()

  def buffers(self, rng):
    return dict(magnitudes=[jnp.abs(b) for b in self.model.random_feedback(rng)])

  def grads(self, state, batch, rng):
    del rng
    params = state['params']
    signs = [jnp.sign(k) for k in self.model.kernels(params)[1:]]
    feedback = [None] + [m * s for m, s in zip(state['magnitudes'], signs)]
    loss, grads = self.loss_grads(params, batch, feedback)
    return grads, dict(loss=loss)
