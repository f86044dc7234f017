"""Online CorInfoMax (Bozkurt et al., NeurIPS 2022): the exact version PEM approximates.

The network keeps feedforward weights W (n, m) and lateral weights B_y (n, n),
the inverse of the exponentially weighted output correlation matrix, tracked by
the paper's rank-one update (Sherman-Morrison without its normalising
denominator); the inverse error covariance is fixed, B_e = be I.
With gy = (1 - lam_y) / lam_y and ge = (1 - lam_e) / lam_e, per sample x the
neural dynamics ascend the correlative information
  dy = gy B_y y + ge B_e (W x - y)
(ll.dynamics.relax with H = ge be I - gy B_y, b = ge be W x), projected on the
source domain. Then
  W   += lr (y - W x) x^T
  B_y <- (B_y - gy (B_y y)(B_y y)^T) / lam_y.
PEM replaces this inverse by its first-order expansion in the off-diagonal
covariances, which needs only the Hebbian statistics mu and C.
The trainer scores the linear map of the dynamics' fixed point,
y = (ge be I - gy B_y)^-1 ge be W x. Defaults: the paper's antisparse settings, but lr.
"""
import jax.numpy as jnp
import ml_collections

import local_learning as ll


@ll.register
class CorInfoMax(ll.SeparationRule):
  """Online CorInfoMax: lateral weights B_y, the exact inverse output correlation."""
  name = 'corinfomax'
  description = 'online correlative information maximisation (the exact-inverse baseline of PEM)'

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict(dict(
        lam_y=0.99,               # forgetting factor of the output correlation
        lam_e=0.98,               # sets the weight ge = (1 - lam_e) / lam_e of the error term
        lr=0.05,                  # feedforward learning rate (constant; the paper's 0.03 stalls some seeds)
        by_init=5.0,              # B_y starts at by_init I
        be=5000.0,                # B_e = be I
        neural_lr=0.9,            # eta_y(j) = max(neural_lr / (j + 1), neural_lr_min)
        neural_lr_min=0.0,
        neural_steps=500,
        tol=1e-6,                 # stop once ||y_new - y|| < tol ||y_new||
        threshold_lr=1.0,         # sparse domains: rate of the soft threshold
    ))

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    ll.separation.check_domain(model.domain)
    c = config
    if not (0 < c.lam_y < 1 and 0 < c.lam_e < 1 and c.lr > 0 and c.by_init > 0 and c.be > 0
            and c.neural_lr > 0 and c.neural_lr_min >= 0 and c.neural_steps >= 1 and c.tol >= 0):
      raise ll.UserError('corinfomax needs 0 < lam_y, lam_e < 1, lr, by_init, be, neural_lr > 0, '
                         'neural_lr_min >= 0, neural_steps >= 1 and tol >= 0')
    self.gy = (1 - c.lam_y) / c.lam_y
    self.ge = (1 - c.lam_e) / c.lam_e

  def init(self, rng):
    del rng
    n, m = self.model.n, self.model.m
    return dict(W=jnp.eye(n, m), B=self.config.by_init * jnp.eye(n))

  def fixed_point_map(self, b_y):
    """H (n, n) with the dynamics' gradient H y - ge be W x."""
    return self.ge * self.config.be * jnp.eye(self.model.n) - self.gy * b_y

  def infer(self, state, x):
    """The neural dynamics for mixture x (m,) -> (output y (n,), steps taken)."""
    cfg = self.config
    return ll.dynamics.relax(
        self.fixed_point_map(state['B']), self.ge * cfg.be * state['W'] @ x, self.model.domain,
        cfg.neural_lr, cfg.neural_lr_min, cfg.neural_steps, cfg.tol, cfg.threshold_lr)

  def train_step(self, state, batch, rng):
    del rng
    x, cfg = batch, self.config
    y, steps = self.infer(state, x)
    w, b_y = state['W'], state['B']
    error = y - w @ x
    z = b_y @ y
    state = dict(W=w + cfg.lr * jnp.outer(error, x), B=(b_y - self.gy * jnp.outer(z, z)) / cfg.lam_y)
    return state, dict(neural_steps=steps, prediction_error=jnp.sum(jnp.square(error)))

  def params(self, state):
    h = self.fixed_point_map(state['B'])
    return jnp.linalg.solve(h, self.ge * self.config.be * state['W'])
