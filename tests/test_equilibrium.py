"""The closed-form equilibrium of a linear network's PC energy (local_learning.pc.equilibrium)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import local_learning as ll
from local_learning import testing
from local_learning.pc import energies, equilibrium, inference, solvers

LINEAR = {'mlp': dict(activation='linear'),
          'resmlp': dict(activation='linear', depth=4, width=8, param='mupc')}


def _setup(name):
  model = testing.tiny_model(name, **LINEAR[name])
  params = jax.jit(lambda key: jax.tree.map(lambda a: a.astype(jnp.float64), model.init(key)))(jax.random.key(0))
  x, y = testing.batch(6)
  return model, params, x.astype(jnp.float64), jax.nn.one_hot(y, testing.CLASSES, dtype=jnp.float64), y


@pytest.mark.parametrize('name', ['mlp', 'resmlp'])
def test_inference_converges_to_the_closed_form(name):
  with jax.enable_x64():
    model, params, x, target, _ = _setup(name)
    output = lambda mu: 0.5 * jnp.sum(jnp.square(mu - target), axis=-1)
    solver = solvers.ActivitySolver('gd', 2000, 0.2)

    @jax.jit      # one program: op by op, each operation would compile one of its own
    def solved():
      hidden, _ = inference.infer(model, params, x, output, solver, model.forward(params, x))
      at_minimum = equilibrium.activities(model, params, x, target)
      return (hidden, at_minimum, equilibrium.energy(model, params, x, target),
              energies.energy(model, params, hidden, x, output), energies.energy(model, params, at_minimum, x, output),
              output(model.output(params, x)))

    hidden, at_minimum, closed, energy_inferred, energy_at_minimum, feedforward = solved()
    np.testing.assert_allclose(energy_inferred, closed, rtol=1e-5, atol=0)
    np.testing.assert_allclose(energy_at_minimum, closed, rtol=1e-10)
    for z, z_star in zip(hidden, at_minimum):
      np.testing.assert_allclose(z, z_star, atol=1e-5)
    assert np.all(closed < feedforward)      # below the feedforward loss


def test_rescaling_is_jpcs_layerwise_form_for_a_residual_network():
  """S = I + sum_l J_l J_l^T written out from the kernels (JPC's _compute_linear_equilib_rescaling,
  skips, multipliers a), against ours by autodiff."""
  with jax.enable_x64():
    model, params, x, _, _ = _setup('resmlp')
    depth, width = LINEAR['resmlp']['depth'], LINEAR['resmlp']['width']
    w_in, w_hidden, w_out = model.kernels(params)
    a_hid, a_out = 1 / np.sqrt(width * (depth + 1)), 1 / width
    above = a_out * w_out                       # z_H -> output (row vectors: out = z_H @ above)
    s = np.eye(w_out.shape[1]) + above.T @ above
    for w in w_hidden[::-1]:                    # z_l -> output through (I + a W_{l+1}) ... (I + a W_H)
      above = (np.eye(width) + a_hid * w) @ above
      s += above.T @ above
    np.testing.assert_allclose(equilibrium.rescaling(model, params, x[:1]), s, rtol=1e-10)


def test_pc_closed_form_trains_on_the_gradient_of_the_equilibrated_energy():
  with jax.enable_x64():
    model, params, x, target, y = _setup('resmlp')
    rule = testing.make_rule('mupc', model, activity_solver='closed_form')
    grads, metrics = jax.jit(rule.estimate)(params, x, y, 1.0)
    energy, closed = jax.jit(jax.value_and_grad(lambda p: jnp.mean(equilibrium.energy(model, p, x, target))))(params)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(closed)):
      np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(metrics['energy'], energy)


@pytest.mark.parametrize('rule, model, fields, says', [
    ('pc', dict(activation='tanh'), {}, 'linear network'),
    ('pc', dict(activation='linear'), dict(loss='ce'), 'loss=mse'),
    ('epc', dict(activation='linear'), {}, 'its own way'),
])
def test_closed_form_is_refused_where_it_does_not_hold(rule, model, fields, says):
  with pytest.raises(ll.UserError, match=says):
    testing.make_rule(rule, testing.tiny_model('mlp', **model), activity_solver='closed_form', **fields)
