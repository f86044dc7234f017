"""Activity solvers: Euler is gradient descent, the error wave stays exact for Heun,
Heun is second order, the adaptive solver meets its tolerance."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import batch, infer, make_rule, tiny_mlp

import local_learning as ll


def _flat(hidden):
  return np.concatenate([np.ravel(h) for h in hidden])


@pytest.fixture(scope='module')
def problem():
  model, params = tiny_mlp(widths=(16, 16, 16))
  x, y = batch()
  feedforward = model.forward(params, x)
  output = ll.pc.nudged_loss(ll.classification.loss_fn('mse'), y, 1.0)

  @functools.partial(jax.jit, static_argnums=(0, 1, 4))
  def solve(name, steps, lr, tol=1e-3, max_steps=64, t1=20.0):
    """(hidden activities, steps taken): `steps` steps of size lr (adaptive: from 0 to at most t1)."""
    solver = ll.pc.ActivitySolver(name, steps, lr, tol=tol, max_steps=max_steps, t1=t1)
    return ll.pc.infer(model, params, x, output, solver, feedforward)

  return model, params, x, y, feedforward, output, solve


def test_euler_steps_are_gradient_descent_steps(problem):
  *_, solve = problem
  np.testing.assert_allclose(_flat(solve('euler', 6, 0.2)[0]), _flat(solve('gd', 6, 0.2)[0]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('steps', [1, 2])
def test_heun_skipping_blocks_below_the_error_wave_is_exact(problem, steps):
  """A Heun step evaluates the gradient twice, so its wave moves two entries per step."""
  model, params, x, _, feedforward, output, solve = problem
  full = lambda h, _: jax.grad(lambda h: jnp.sum(ll.pc.energy(model, params, h, x, output)))(h)
  plain, _ = jax.jit(lambda h: ll.pc.ActivitySolver('heun', steps, 0.2).run(full, h))(feedforward[:-1])
  skipped, _ = solve('heun', steps, 0.2)
  np.testing.assert_allclose(_flat(skipped), _flat(plain), rtol=1e-5, atol=1e-6)
  moved = [float(jnp.max(jnp.abs(a - b))) for a, b in zip(skipped, feedforward[:-1])]
  assert (np.array(moved) > 1e-5).sum() == min(2 * steps, 3)


def test_heun_is_second_order_and_euler_first(problem):
  """One step's distance to the flow shrinks as h^3 for Heun and h^2 for Euler."""
  *_, solve = problem
  hs = (0.2, 0.1, 0.05)
  slopes = {}
  for name in ('euler', 'heun'):
    errors = [np.max(np.abs(_flat(solve(name, 1, h)[0]) - _flat(solve('heun', 256, h / 256)[0]))) for h in hs]
    slopes[name] = np.polyfit(np.log(hs), np.log(errors), 1)[0]
  assert 1.8 < slopes['euler'] < 2.2
  assert 2.6 < slopes['heun'] < 3.4


def test_the_adaptive_solver_meets_its_tolerance(problem):
  """Over a fixed span (max_t1 = 1, no steady state before it), within ~the tolerance of the flow; a
  tighter tolerance takes more steps."""
  *_, solve = problem
  reference = _flat(solve('adaptive', 8, 1 / 8, 1e-7, 4096, 1.0)[0])
  taken = {}
  for tol in (1e-2, 1e-3):
    hidden, taken[tol] = solve('adaptive', 8, 1 / 8, tol, 4096, 1.0)
    assert np.max(np.abs(_flat(hidden) - reference) / (tol * (1 + np.abs(reference)))) < 2.0
  assert taken[1e-3] > taken[1e-2]


def test_the_adaptive_solver_reaches_the_steady_state_within_jpcs_span(problem):
  """JPC's solve_inference: from 0 to max_t1 = 20 (or the steady state), the first step diffrax's own: the
  flow there is below the steady-state tolerance, well within the step budget."""
  model, params, x, _, _, output, solve = problem
  hidden, steps = solve('adaptive', 8, 1 / 8, 1e-3, 4096, 20.0)
  flow = _flat(jax.grad(lambda h: jnp.sum(ll.pc.energy(model, params, h, x, output)))(hidden))
  rms = lambda v: np.sqrt(np.mean(np.square(v)))
  assert rms(flow) < 1e-3 + 1e-3 * rms(_flat(hidden))
  assert 0 < steps < 4096


def test_running_out_of_solver_steps_is_a_metric_not_a_divergence():
  """A budget of 2 steps: the activities reached are kept (finite), the step counts as exhausted."""
  model, params = tiny_mlp()
  x, y = batch()
  for budget, exhausted in ((2, 1.0), (4096, 0.0)):
    pc = make_rule('pc', model, activity_solver='adaptive', activity_max_steps=budget)
    state = dict(pc.init(jax.random.key(0)), params=params)
    new, metrics = jax.jit(pc.train_step)(state, (x, y), None)
    assert float(metrics['inference_budget_exhausted']) == exhausted
    assert all(np.isfinite(a).all() for a in jax.tree.leaves(new['params'])) and np.isfinite(float(metrics['energy']))
  assert float(metrics['inference_steps']) < 4096


def test_rules_take_the_solver_from_their_config():
  model, params = tiny_mlp()
  x, y = batch()
  pc = make_rule('pc', model, activity_solver='heun', inference_steps=3, activity_lr=0.05)
  assert pc.solver(len(x)) == ll.pc.ActivitySolver('heun', 3, 0.05, 0.0, 1e-3, 4096, 20.0)
  hidden, _ = infer(pc, params, x, y)
  assert all(np.isfinite(_flat(hidden)))


def test_backtracking_descent_settles_the_samples_where_a_fixed_step_diverges():
  """A quadratic per sample, 1/2 c_b ||y_b||^2 with curvatures c_b from 1 to 100: gradient descent of step 0.1
  diverges where c_b > 20 (|1 - 0.1 c_b| > 1); backtracking halves those samples' steps until they descend,
  and leaves the stable ones at the plain steps."""
  curvature = jnp.array([1.0, 5.0, 30.0, 100.0])
  energy = lambda y: 0.5 * curvature * jnp.sum(jnp.square(y[0]), axis=1)
  start = [jnp.ones((4, 3))]
  plain = start[0]
  for _ in range(20):
    plain = plain - 0.1 * curvature[:, None] * plain
  y, settled = jax.jit(lambda y: ll.pc.backtracking_descent(energy, y, 20, 0.1))(start)
  assert np.all(np.abs(np.asarray(plain[2:])) > 1e3)                # the fixed step diverged there
  assert np.all(np.asarray(settled[2:]) < 1e-6 * np.asarray(energy(start)[2:]))
  np.testing.assert_allclose(y[0][:2], plain[:2], rtol=1e-6)        # stable samples: the plain steps
