"""The gd activity solver's optax transform is public: transform() is sgd unless tx is given."""
import dataclasses

import jax.numpy as jnp
import numpy as np
import optax

import local_learning as ll


def _grad(y, bottom):
  """dF/dy of F = sum 1/2 ||y - 1||^2."""
  del bottom
  return [z - 1.0 for z in y]


def test_gd_steps_with_tx_where_given_else_sgd():
  start = [jnp.zeros(3), jnp.full(2, 4.0)]
  solver = ll.pc.ActivitySolver('gd', 3, 0.5, momentum=0.5)
  plain, _ = solver.run(_grad, start)
  same, _ = dataclasses.replace(solver, tx=optax.sgd(0.5, momentum=0.5)).run(_grad, start)
  adam, _ = dataclasses.replace(solver, tx=optax.adam(0.5)).run(_grad, start)
  for a, b in zip(plain, same):
    np.testing.assert_array_equal(a, b)
  want = [np.zeros(3), np.full(2, 4.0)]          # by hand: sgd with momentum 0.5, step 0.5
  velocity = [np.zeros(3), np.zeros(2)]
  for _ in range(3):
    velocity = [0.5 * v + (w - 1.0) for v, w in zip(velocity, want)]
    want = [w - 0.5 * v for w, v in zip(want, velocity)]
  for a, w in zip(plain, want):
    np.testing.assert_allclose(a, w, rtol=1e-6)
  assert not np.allclose(adam[0], plain[0])
