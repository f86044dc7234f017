"""The equilibrium of PC's energy in closed form, for linear (affine) networks.

With a quadratic output term (lam / 2) ||t - mu_L||^2 (mse; lam = beta, the
output's precision) and every block affine, the energy is quadratic in the
hidden activities. In ePC's variables (z_l = mu_l(z_{l-1}) + e_l,
local_learning.pc.inference.states) the output is u + J e, where u is the
feedforward output and J = d mu_L / d e (C x P, P the number of hidden units)
the same for every sample, so per sample

  F(e) = 1/2 ||e||^2 + lam / 2 ||r - J e||^2,  r = t - u,

a ridge regression whose minimum is

  e* = J^T S^-1 r,  F* = 1/2 r^T S^-1 r,  S = I / lam + J J^T = I / lam + sum_l J_l J_l^T,

J_l the Jacobian of the output with respect to hidden layer l. For a deep
linear network without biases this is Innocenti et al. (2024, "Only strict
saddles in the energy landscape of predictive coding networks?") and JPC's
`linear_equilib_energy` (jpc/_core/_analytical.py), whose S for a residual
network with multipliers a_l is written out layer by layer; here J comes from
the model by autodiff, so it holds for any affine model in the contract
(mlp, resmlp with activation 'linear'; biases only shift u).

F* is the energy PC trains on at equilibrium (its weight gradient at e* is
dF*/dW, the activities being at a minimum): the squared error rescaled by
S^-1, which the limits paper (Innocenti, Achour & Bogacz, 2026) shows tends to
the BP loss (S -> I) as width grows at fixed depth under muP. For one output,
F* = L / s with s = S_00 (JPC's `loss_rescalings`).
"""
import math

import jax
import jax.numpy as jnp

from local_learning.arrays import Activities, Array, Float, Inputs, Params, PerSample, Scores
from local_learning.models.layered import FunctionalModel
from local_learning.pc import inference


def jacobian(model: FunctionalModel, params: Params, x: Inputs) -> Float[Array, 'C P']:
  """J (C, P): d mu_L / d e at the feedforward state of one sample x (1, ...), e all hidden errors flattened."""
  feedforward = model.forward(params, x)
  mu_1, zeros = feedforward[0], [jnp.zeros_like(z) for z in feedforward[:-1]]

  def output(errors):
    hidden = inference.states(model, params, errors, mu_1)
    return model.predict(params, hidden[-1:], first=len(hidden))[0][0]

  blocks = jax.jacrev(output)(zeros)                      # per entry (C, *entry shape)
  return jnp.concatenate([b.reshape(b.shape[0], -1) for b in blocks], axis=1)


def rescaling(model: FunctionalModel, params: Params, x: Inputs, precision: float | Array = 1.0
              ) -> Float[Array, 'C C']:
  """S = I / precision + J J^T (C, C); x: any one sample (1, ...) (S does not depend on it)."""
  j = jacobian(model, params, x)
  return jnp.eye(j.shape[0], dtype=j.dtype) / precision + j @ j.T


def energy(model: FunctionalModel, params: Params, x: Inputs, target: Scores, precision: float | Array = 1.0
           ) -> PerSample:
  """F* per sample (B,) = 1/2 r^T S^-1 r, r = target - feedforward output; target (B, C)."""
  r = target - model.output(params, x)
  s = rescaling(model, params, x[:1], precision)
  return 0.5 * jnp.sum(r * jnp.linalg.solve(s, r.T).T, axis=-1)


def activities(model: FunctionalModel, params: Params, x: Inputs, target: Scores, precision: float | Array = 1.0,
               feedforward: Activities | None = None) -> Activities:
  """The hidden activities at the energy's minimum, [z_1*, ..., z_{L-1}*] (entries as model.forward's)."""
  feedforward = model.forward(params, x) if feedforward is None else feedforward
  j = jacobian(model, params, x[:1])
  s = jnp.eye(j.shape[0], dtype=j.dtype) / precision + j @ j.T
  errors = jnp.linalg.solve(s, (target - feedforward[-1]).T).T @ j       # (B, P): e* = J^T S^-1 r
  return inference.states(model, params, _unflatten(model, errors, feedforward[:-1]), feedforward[0])


def is_affine(model: FunctionalModel, params: Params, x: Inputs) -> bool:
  """Whether the forward pass is affine on probes around x (B >= 2, ...): the closed form's condition."""
  f = lambda v: model.output(params, v)
  a, b = x, jnp.roll(x, 1, axis=0) * 0.7
  left, right = f(a + b) + f(jnp.zeros_like(a)), f(a) + f(b)
  return bool(jnp.allclose(left, right, rtol=1e-3, atol=1e-3 * float(jnp.max(jnp.abs(right)))))


def _unflatten(model, flat, like):
  """(B, P) -> entries shaped like `like` ((B, ...), or (K, B, ...) for a stacked entry), in jacobian's order."""
  out, start = [], 0
  for l, z in enumerate(like):
    stacked = model.stack_size(l) > 0
    per_sample = (z.shape[0], *z.shape[2:]) if stacked else z.shape[1:]
    size = math.prod(per_sample)
    piece = flat[:, start:start + size].reshape(flat.shape[0], *per_sample)
    out.append(jnp.moveaxis(piece, 0, 1) if stacked else piece)
    start += size
  return out
