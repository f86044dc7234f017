"""FastICA (Hyvärinen 1999): the batch ICA reference of the separation task, in JAX.

A batch rule: every train_step sees all mixtures X (N, m). It whitens them to
n dimensions, Z = (X - mean) K^T with K = D^-1/2 E^T from the n leading
eigenpairs of the covariance (ll.separation.whiten), and takes one symmetric
fixed-point step with the logcosh contrast (g = tanh):
  W <- E[g(W z) z^T] - diag(E[g'(W z)]) W,   then W <- (W W^T)^-1/2 W.
The unmixing matrix is W K (n, m). Written in JAX rather than calling
scikit-learn so that it fits the rule contract and all seeds of a cell run as
one vmapped program; it is the same algorithm as sklearn's FastICA
(algorithm='parallel', fun='logcosh', whiten='unit-variance'), with a fixed
number of steps instead of a tolerance. Its outputs are scored centred
(zero_mean_outputs). The PEM paper's ICA baseline is extended Infomax (`infomax`).
"""
import jax
import jax.numpy as jnp
import ml_collections

import local_learning as ll


@ll.register
class FastICA(ll.SeparationRule):
  """Symmetric FastICA, one fixed-point iteration per train_step on all the data."""
  name = 'ica'
  family = 'separation'
  description = 'FastICA (symmetric, logcosh; batch), a separation reference'
  online = False
  zero_mean_outputs = True

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict(dict(iterations=50))

  @classmethod
  def problems(cls, config):
    out = super().problems(config)
    if config.iterations < 1:
      out.append(f'ica needs iterations >= 1, got {config.iterations}')
    return out

  @classmethod
  def search_space(cls):
    """Our choice: the fixed-point iterations, log-scale 10..200 around the default 50 (FastICA has no rate)."""
    return {'iterations': ll.space.Int(10, 200, log=True)}

  def init(self, rng):
    n, m = self.model.n, self.model.m
    return dict(W=_decorrelate(jax.random.normal(rng, (n, n))), K=jnp.zeros((n, m)))

  def train_step(self, state, batch, rng):
    del rng
    z, k = ll.separation.whiten(batch, self.model.n)
    w = state['W']
    g = jnp.tanh(z @ w.T)
    w_new = _decorrelate(g.T @ z / len(z) - jnp.mean(1 - g * g, axis=0)[:, None] * w)
    change = jnp.max(jnp.abs(jnp.abs(jnp.sum(w_new * w, axis=1)) - 1))
    return dict(W=w_new, K=k), dict(change=change)

  def params(self, state):
    return state['W'] @ state['K']


def _decorrelate(w):
  """(W W^T)^-1/2 W: the nearest matrix with orthonormal rows."""
  values, vectors = jnp.linalg.eigh(w @ w.T)
  return (vectors / jnp.sqrt(values)) @ vectors.T @ w
