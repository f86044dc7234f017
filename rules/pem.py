"""Predictive entropy maximisation (PEM) and u-PEM: online blind source separation.

The network keeps feedforward weights W (n, m), and a running mean mu and
covariance C = diag(C) + O of its outputs. Per sample x, from y = 0, the
neural dynamics descend
  gamma (y - W x) + L (y - mu),   L = D^-1 O D^-1 - D^-1,   D = diag(C) + eps
(L (y - mu) is the gradient of a Taylor expansion of -log det of the output
covariance: entropy maximisation through lateral inhibition), projected on the
source domain, stopped early (ll.dynamics.relax). Then the local updates:
  W  += eta_W(t) (y - W x) x^T,   eta_W(t) = max(lr / (1 + t / lr_decay), lr_min)
                                  (or the log schedule, ll.dynamics.weight_rate)
  mu <- lam mu + (1 - lam) y,     C <- lam C + (1 - lam) (y - mu)(y - mu)^T.
u-PEM replaces L by lateral_gain O - D^-1: lateral inhibition not normalised by the variances.
W starts at w_eye I + w_noise N(0, 1), C at c_init I + c_noise N(0, 1) (a full
random matrix, as the PEM reference starts nonnegative sparse runs), mu at 0.
The defaults are the PEM reference's antisparse settings, but for the 1e-6 its
code adds to D there; configs/bss.py has every domain's settings, cited.

Written with ll.lanes, every array may carry a trailing seeds axis: the trainer
steps all seeds of a run as SIMD lanes of one loop (seeds_last).
"""
import jax
import jax.numpy as jnp
import ml_collections

import local_learning as ll
from local_learning import lanes


@ll.register
class PEM(ll.SeparationRule):
  """PEM: error-driven feedforward weights, Hebbian output statistics, domain-projected dynamics."""
  name = 'pem'
  family = 'separation'
  description = 'predictive entropy maximisation: online BSS with local plasticity'
  seeds_last = True

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict(dict(
        gamma=250.0,              # weight of the prediction error y - W x in the dynamics
        lam=0.99,                 # forgetting factor of mu and C
        lr=0.05,                  # eta_W(t) = max(lr / (1 + t / lr_decay), lr_min)
        lr_schedule='inverse',    # or 'log': max(lr / (1 + ln(t / lr_decay + 2)), lr_min)
        lr_decay=5000.0,
        lr_min=1e-8,
        neural_lr=0.5,            # eta_y(j) = max(neural_lr / (j + 1), neural_lr_min)
        neural_lr_min=1e-6,
        neural_steps=250,
        tol=1e-7,                 # stop once ||y_new - y|| < tol ||y_new||
        threshold_lr=0.5,         # sparse domains: rate of the soft threshold
        output_max=float('inf'),  # nonnegative sparse outputs are clipped to at most this
        eps=1e-5,                 # D = diag(C) + eps
        c_init=0.2,               # C starts at c_init I + c_noise N(0, 1)
        c_noise=0.0,
        w_eye=1.0,                # W starts at w_eye I (first n x n block) + w_noise N(0, 1)
        w_noise=0.01,
    ))

  @classmethod
  def problems(cls, config):
    out, c = super().problems(config), config
    if not (c.gamma > 0 and 0 < c.lam < 1 and c.lr > 0 and c.lr_decay > 0 and c.neural_lr > 0
            and c.neural_steps >= 1 and c.tol >= 0 and c.eps > 0 and c.c_init > 0 and c.c_noise >= 0
            and c.w_noise >= 0 and c.output_max > 0):
      out.append(f'{cls.name} needs gamma, lr, lr_decay, neural_lr, eps, c_init, output_max > 0, '
                 f'0 < lam < 1, neural_steps >= 1 and tol, c_noise, w_noise >= 0')
    if c.lr_schedule not in ('inverse', 'log'):
      out.append(f"{cls.name} needs lr_schedule 'inverse' or 'log', got {c.lr_schedule!r}")
    return out

  @classmethod
  def search_space(cls):
    """Our choice: a decade around the PEM reference's antisparse settings (our defaults; configs/bss.py cites
    them per domain) for the weight rate lr and gamma, and lam from 0.9 to 0.999 around its 0.99 (or 0.95)."""
    return {'lr': ll.space.LogUniform(5e-3, 0.5), 'gamma': ll.space.LogUniform(25.0, 2500.0),
            'lam': ll.space.Uniform(0.9, 0.999)}

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    ll.separation.check_domain(model.domain)

  def init(self, rng):
    n, m, cfg = self.model.n, self.model.m, self.config
    return dict(W=cfg.w_eye * jnp.eye(n, m) + cfg.w_noise * jax.random.normal(rng, (n, m)),
                C=cfg.c_init * jnp.eye(n) + cfg.c_noise * jax.random.normal(jax.random.fold_in(rng, 1), (n, n)),
                mu=jnp.zeros(n), t=jnp.zeros((), jnp.int32))

  def lateral(self, c):
    """L (n, n, *K): the lateral term of the dynamics' gradient is L (y - mu)."""
    diagonal = lanes.diagonal(c)
    d_inv = 1 / (diagonal + self.config.eps)
    off = c - lanes.diag(diagonal)
    return d_inv[:, None] * off * d_inv[None] - lanes.diag(d_inv)

  def infer(self, state, x):
    """The neural dynamics for mixture x (m, *K) -> (output y (n, *K), steps taken (*K))."""
    cfg = self.config
    lateral = self.lateral(state['C'])
    drive = cfg.gamma * lanes.matvec(state['W'], x) + lanes.matvec(lateral, state['mu'])
    return ll.dynamics.relax(
        cfg.gamma * lanes.eye(self.model.n, lateral) + lateral, drive,
        self.model.domain, cfg.neural_lr, cfg.neural_lr_min, cfg.neural_steps, cfg.tol, cfg.threshold_lr,
        cfg.output_max)

  def train_step(self, state, batch, rng):
    del rng
    x, cfg = batch, self.config
    y, steps = self.infer(state, x)
    w, c, t = state['W'], state['C'], state['t']
    error = y - lanes.matvec(w, x)
    lr = ll.dynamics.weight_rate(cfg.lr_schedule, cfg.lr, t, cfg.lr_decay, cfg.lr_min)
    mu = cfg.lam * state['mu'] + (1 - cfg.lam) * y
    centred = y - mu
    state = dict(W=w + lr * lanes.outer(error, x), C=cfg.lam * c + (1 - cfg.lam) * lanes.outer(centred, centred),
                 mu=mu, t=t + 1)
    return state, dict(neural_steps=steps, prediction_error=lanes.sum_squares(error))


@ll.register
class UPEM(PEM):
  """u-PEM: PEM with lateral weights lateral_gain O, not normalised by the output variances."""
  name = 'u-pem'
  description = 'PEM with unnormalised lateral inhibition (lateral_gain O - D^-1)'

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.lateral_gain = 10.0
    return config

  @classmethod
  def search_space(cls):
    """PEM's space and, our choice, a decade around the default lateral_gain 10."""
    return {**super().search_space(), 'lateral_gain': ll.space.LogUniform(1.0, 100.0)}

  def lateral(self, c):
    diagonal = lanes.diagonal(c)
    return self.config.lateral_gain * (c - lanes.diag(diagonal)) - lanes.diag(1 / (diagonal + self.config.eps))
