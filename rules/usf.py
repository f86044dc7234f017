"""Uniform sign-concordant feedback, uSF (Liao, Leibo & Poggio, 2016), as BioTorch defines it.

Feedback alignment (model.forward with feedback) whose B_l = s_l sign(W_l) is
recomputed from the current weights at every step, with s_l =
sqrt(2 / (fan_in + fan_out)), the standard deviation of a xavier-uniform draw
(BioTorch's scaling after Xiao et al. 2018, so that B_l has the scale of an
initial weight; fans counted as PyTorch does, a conv's kernel area included).
"""
import math

import jax.numpy as jnp

import local_learning as ll


def xavier_std(shape, stacked):
  """sqrt(2 / (fan_in + fan_out)) of one layer of a kernel of `shape`."""
  shape = shape[1:] if stacked else shape
  area = math.prod(shape[:-2])
  return math.sqrt(2 / ((shape[-2] + shape[-1]) * area))


@ll.register
class USF(ll.GradientRule):
  """Sign-symmetric feedback with unit magnitudes (times the xavier scale)."""
  name = 'usf'
  family = 'feedback alignment'
  description = 'uniform sign-concordant feedback: B = scale * sign(W) (Liao et al. 2016)'

  @classmethod
  def search_space(cls):
    """BP's space (ll.GradientRule's): the same optimizer; BioTorch publishes no sweep, so our choice."""
    return super().search_space()

  def grads(self, state, batch, rng):
    del rng
    params = state['params']
    feedback = [None] + [xavier_std(k.shape, self.model.stack_size(l)) * jnp.sign(k)
                         for l, k in enumerate(self.model.kernels(params)) if l > 0]
    loss, grads = self.loss_grads(params, batch, feedback)
    return grads, dict(loss=loss)
