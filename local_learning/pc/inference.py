"""Inference: the hidden activities that (approximately) minimise the energy, two ways.

Standard PC (`infer`) follows the flow of F over the activities z. From the
feedforward start every hidden error is zero and the errors move down one
entry per gradient evaluation: at evaluation t only the top t+1 entries can
have a non-zero gradient, so the solver's first steps predict and
differentiate only those, the blocks below being skipped (the same
algorithm, with less work).

Error-optimised PC (`infer_errors`, Goemaere et al., 2025) follows the flow
of the same energy over the errors instead: the states are rebuilt from them,
  z_l = mu_l(z_{l-1}) + e_l    (`states`),
so E(e) = sum_l 1/2 ||e_l||^2 + output(mu_L(z_{L-1})) = F(z(e)). The map e -> z
is a bijection, so both have the same minima; but dE/de_l carries the output's
signal through the whole forward chain in one evaluation, where dF/dz moves it
one layer per evaluation, decaying on the way.
"""
from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from local_learning.arrays import Activities, Array, Inputs, OutputTerm, Params, PerSample, Scalar
from local_learning.models.layered import FunctionalModel
from local_learning.pc import energies
from local_learning.pc.solvers import ActivitySolver


def activity_grad(model: FunctionalModel, params: Params, x: Inputs, output: OutputTerm, feedforward: Activities,
                  weights: Sequence[float | Array] | None = None) -> Callable[[Activities, int], Activities]:
  """grad(hidden, bottom) -> dF/dhidden, zeros below `bottom`, for a solver.

  feedforward: model.forward(params, x). The prediction of z_{bottom+1} is taken
  from it, never recomputed: for bottom = 0 it is the clamped input's prediction,
  always valid; for bottom > 0 the solver passes a bottom only while the entries
  below are still at their feedforward values. weights: energies.energy's.
  """
  def grad(hidden, bottom):
    top = lambda top: jnp.sum(energies.energy(model, params, top, x, output, bottom, feedforward[bottom],
                                                       weights))
    return [jnp.zeros_like(z) for z in hidden[:bottom]] + jax.grad(top)(hidden[bottom:])
  return grad


def infer(model: FunctionalModel, params: Params, x: Inputs, output: OutputTerm, solver: ActivitySolver,
          feedforward: Activities, init: Activities | None = None,
          weights: Sequence[float | Array] | None = None) -> tuple[Activities, Scalar]:
  """Hidden activities [z_1, ..., z_{L-1}] after the solve -> (activities, steps taken).

  feedforward: model.forward(params, x). The solve starts there, skipping the
  blocks below the error wave; or at `init` (e.g. an amortised guess), every
  block evaluated. weights: energies.energy's (None: every weight 1).
  """
  grad = activity_grad(model, params, x, output, feedforward, weights)
  if init is None:
    return solver.run(grad, feedforward[:-1], [model.stack_size(l) or 1 for l in range(len(feedforward) - 1)])
  return solver.run(lambda hidden, _: grad(hidden, 0), init)


def states(model: FunctionalModel, params: Params, errors: Activities, mu_1: Array) -> Activities:
  """z_l = mu_l(z_{l-1}) + e_l, bottom up, for errors [e_1, ..., e_{L-1}] -> [z_1, ..., z_{L-1}].

  mu_1: the prediction of z_1 from the input (entry 1 is a plain entry). A stacked entry's layers each read
  the layer below them (layered.py), so its states are the fixed point of
  Z = mu(Z) + E, reached exactly after K sweeps of its batched prediction (layer k
  is final after sweep k), K times the work of one forward pass through it.
  """
  zs = [mu_1 + errors[0]]
  for l, e in enumerate(errors[1:], 1):
    if model.stack_size(l):
      sweep = lambda _, z, l=l, e=e: model.predict(params, [zs[-1], z], first=l)[0] + e
      zs.append(jax.lax.fori_loop(0, model.stack_size(l), sweep, e))
    else:
      zs.append(model.predict(params, [zs[-1]], first=l)[0] + e)
  return zs


def error_energy(model: FunctionalModel, params: Params, errors: Activities, output: OutputTerm,
                 mu_1: Array) -> PerSample:
  """ePC's per-sample energy E(e) = F(z(e)) (B,)."""
  hidden = states(model, params, errors, mu_1)
  mu_out = model.predict(params, hidden[-1:], first=len(hidden))[0]
  return sum(energies.half_squared_norm(e, model.stack_size(l) > 0)
             for l, e in enumerate(errors)) + output(mu_out)


def infer_errors(model: FunctionalModel, params: Params, output: OutputTerm, solver: ActivitySolver,
                 feedforward: Activities) -> tuple[Activities, Scalar]:
  """ePC: the solve over the errors from e = 0 (the feedforward pass) -> (errors, steps taken)."""
  mu_1 = feedforward[0]
  grad = jax.grad(lambda e: jnp.sum(error_energy(model, params, e, output, mu_1)))
  return solver.run(lambda e, _: grad(e), [jnp.zeros_like(z) for z in feedforward[:-1]])
