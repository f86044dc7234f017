"""Neural dynamics of separation networks: projected gradient steps, stopped early.

From y = 0, `relax` runs y <- P(y - eta_j (H y - b)) with the step
eta_j = max(lr / (j + 1), lr_min) until ||y_new - y|| < tol ||y_new|| or
`steps` steps. P is the domain's nonlinearity: a clip to [-1, 1] (antisparse)
or [0, 1] (nonnegative antisparse), or a soft threshold whose threshold rises
while the output's l1 norm (sum, on the simplex) exceeds 1, at rate threshold_lr;
on nonnegative sparse outputs, also a clip to at most output_max (the PEM
reference clips them to [0, 5], PredictiveDecorrBSS.py:410-414).

`weight_rate` gives the weight learning-rate schedules of the PEM reference.

Given a trailing seeds axis (h (n, n, K), b (n, K); see local_learning.lanes)
or vmapped, all seeds step in one loop with the seeds on the fast axis, each
seed frozen once it has converged, so a batch of seeds costs little more than
one: the loop ends when the slowest seed has converged.
(local_learning.cpu_flags.apply() lets XLA:CPU compile such a loop as one kernel.)
"""
import functools

import jax
import jax.numpy as jnp

from local_learning import lanes
from local_learning.data import sources

SCHEDULES = ('constant', 'inverse', 'log')


def weight_rate(schedule, lr, t, decay, lr_min):
  """The rate at sample t (0-based): lr (constant), max(lr / (1 + t / decay), lr_min) (inverse)
  or max(lr / (1 + ln(t / decay + 2)), lr_min) (log): PredictiveDecorrBSS.py:551-556."""
  if schedule == 'constant':
    return jnp.asarray(lr, jnp.float32)
  t = t.astype(jnp.float32) / decay
  return jnp.maximum(lr / (1 + (t if schedule == 'inverse' else jnp.log(t + 2))), lr_min)


def relax(h, b, domain, lr, lr_min, steps, tol, threshold_lr=0.0, output_max=float('inf')):
  """h (n, n, *K), b (n, *K) -> (y (n, *K), number of steps taken (*K), int32)."""
  sources.check_domain(domain)
  loop = functools.partial(_loop, project=_nonlinearity(domain, threshold_lr, output_max), lr=lr,
                           lr_min=lr_min, steps=steps, tol=tol)
  if b.ndim == 2:
    return loop(h, b)

  @jax.custom_batching.custom_vmap
  def run(h, b):
    y, count = loop(h[..., None], b[..., None])
    return y[:, 0], count[0]

  @run.def_vmap
  def run_batched(axis_size, in_batched, h, b):
    h, b = (x if batched else jnp.broadcast_to(x, (axis_size, *x.shape))
            for x, batched in zip((h, b), in_batched))
    k = lanes.padded(axis_size)   # copies of the last seed converge with it
    h, b = (lanes.pad(x, k, axis=0) for x in (h, b))
    y, count = loop(jnp.moveaxis(h, 0, -1), b.T)
    return (y.T[:axis_size], count[:axis_size]), (True, True)

  return run(h, b)


def _loop(h, b, project, lr, lr_min, steps, tol):
  """h (n, n, K), b (n, K): K independent relaxations -> y (n, K), steps taken (K,)."""
  k = b.shape[-1]

  def cond(carry):
    _, _, j, done, _ = carry
    return (j < steps) & ~jnp.all(done)

  def body(carry):
    y, threshold, j, done, count = carry
    eta = jnp.maximum(lr / (j + 1).astype(b.dtype), lr_min)
    y_new, threshold_new = project(y - eta * (jnp.sum(h * y[None], axis=1) - b), threshold)
    y_new = jnp.where(done, y, y_new)   # a frozen seed's change is 0: `converged` stays true
    converged = jnp.sum(jnp.square(y_new - y), axis=0) < tol * tol * jnp.sum(jnp.square(y_new), axis=0)
    threshold = jnp.where(done, threshold, threshold_new)
    return y_new, threshold, j + 1, done | converged, count + ~done

  init = (jnp.zeros_like(b), jnp.zeros(k, b.dtype), jnp.int32(0), jnp.zeros(k, bool),
          jnp.zeros(k, jnp.int32))
  y, _, _, _, count = jax.lax.while_loop(cond, body, init)
  return y, count


def _nonlinearity(domain, rate, output_max):
  """(v (n, K), threshold (K,)) -> (y, threshold): the domain's P and its threshold update."""

  def antisparse(v, threshold):
    return jnp.clip(v, -1.0, 1.0), threshold

  def nonnegative_antisparse(v, threshold):
    return jnp.clip(v, 0.0, 1.0), threshold

  def sparse(v, threshold):
    y = jnp.sign(v) * jnp.maximum(jnp.abs(v) - threshold, 0.0)
    return y, jnp.maximum(threshold + rate * (jnp.sum(jnp.abs(y), axis=0) - 1), 0.0)

  def nonnegative_sparse(v, threshold):
    y = jnp.maximum(v - threshold, 0.0)
    if output_max < float('inf'):
      y = jnp.minimum(y, output_max)
    return y, jnp.maximum(threshold + rate * (jnp.sum(y, axis=0) - 1), 0.0)

  def simplex(v, threshold):
    y = jnp.maximum(v - threshold, 0.0)
    return y, threshold + rate * (jnp.sum(y, axis=0) - 1)

  return dict(antisparse=antisparse, nonnegative_antisparse=nonnegative_antisparse, sparse=sparse,
              nonnegative_sparse=nonnegative_sparse, simplex=simplex)[domain]
