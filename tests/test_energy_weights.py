"""PC's per-layer energy weights: w_l 1/2 ||z_l - mu_l||^2, exact wave skipping and stacked entries kept."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import local_learning as ll
from local_learning import testing


def _rule(model, **fields):
  return testing.make_rule('pc', model, inference_steps=3, activity_lr=0.2, **fields)


@pytest.fixture(scope='module')
def mlp():
  model = testing.tiny_model('mlp', widths=(16, 16, 16))
  return model, jax.jit(model.init)(jax.random.key(0)), testing.batch(8)


def test_weights_of_one_give_the_plain_energys_step_bit_for_bit(mlp):
  model, params, data = mlp
  state = dict(params=params)
  plain = jax.jit(_rule(model).grads)(state, data, None)
  ones = jax.jit(_rule(model, energy_weights=(1.0, 1.0, 1.0)).grads)(state, data, None)
  assert jax.tree.all(jax.tree.map(np.array_equal, plain, ones))


def test_a_weight_scales_its_layers_term_and_only_that_blocks_gradient(mlp):
  """W_0 enters F through z_1's error term alone: w_1 = 3 triples dF/dW_0, w_1 = 0 zeroes it; blocks
  above are unchanged (the activities held fixed); the energy is sum_l w_l e_l + output."""
  model, params, (x, y) = mlp
  hidden = [z + 0.1 * jnp.cos(z) for z in model.forward(params, x)[:-1]]     # off the feedforward pass
  output = ll.pc.nudged_loss(ll.losses.loss_fn('mse'), y, 1.0)

  @jax.jit
  def grads(weights):
    return [ll.pc.weight_grads(model, params, hidden, x, output, 1.0, weights=w) for w in weights]

  (plain, f1), (tripled, f3), (dropped, f0) = grads([(1.0, 1.0, 1.0), (3.0, 1.0, 1.0), (0.0, 1.0, 1.0)])
  for key in ('kernel', 'bias'):
    np.testing.assert_allclose(tripled['layers'][0][key][...], 3 * plain['layers'][0][key][...], rtol=1e-5)
    assert not np.any(dropped['layers'][0][key][...])
    for l in (1, 2, 3):
      np.testing.assert_array_equal(tripled['layers'][l][key][...], plain['layers'][l][key][...])
  e_1 = jnp.mean(ll.pc.half_squared_norm(model.predict(params, [x])[0] - hidden[0], False))
  np.testing.assert_allclose([f3 - f1, f1 - f0], [2 * e_1, e_1], rtol=1e-4)


def test_skipping_blocks_below_the_error_wave_stays_exact_with_weights(mlp):
  """From the feedforward pass (the wave skips blocks) and from an init equal to it (every block
  evaluated), weighted inference reaches the same activities; the weights change them."""
  model, params, (x, y) = mlp
  pc = _rule(model, energy_weights=(0.5, 2.0, 3.0))
  feedforward, output = pc.clamp(params, x, y, 1.0)
  skipped, _ = pc.infer(params, x, output, feedforward)
  full, _ = pc.infer(params, x, output, feedforward, init=feedforward[:-1])
  plain, _ = _rule(model).infer(params, x, output, feedforward)
  for s, f in zip(skipped, full):
    np.testing.assert_allclose(s, f, rtol=1e-5, atol=1e-6)
  assert not np.allclose(skipped[-1], plain[-1])


def test_a_stacked_entry_weights_each_of_its_layers():
  """resmlp's (K, B, N) entry: the weighted energy is the per-layer sum of w_l 1/2 ||e_l||^2."""
  model = testing.tiny_model('resmlp')
  x, y = testing.batch(4)
  weights = (0.5, 1.0, 2.0, 4.0)                       # z_1, then the stack's three layers

  @jax.jit
  def both(params):
    hidden = [z + 0.1 * jnp.cos(z) for z in model.forward(params, x)[:-1]]     # off the feedforward pass
    output = ll.pc.nudged_loss(ll.losses.loss_fn('mse'), y, 1.0)
    mus = model.predict(params, [x, *hidden])
    errors = [mus[0] - hidden[0], *(mus[1] - hidden[1])]  # per layer (B, N)
    want = sum(w * ll.pc.half_squared_norm(e, False) for w, e in zip(weights, errors)) + output(mus[-1])
    return ll.pc.energy(model, params, hidden, x, output, weights=weights), want

  np.testing.assert_allclose(*both(jax.jit(model.init)(jax.random.key(0))), rtol=1e-5)


def test_energy_weights_mistakes_are_one_line_each():
  model = testing.tiny_model('mlp')
  with pytest.raises(ll.UserError, match='energy_weights has 1 weights; this model has 2 hidden layers'):
    _rule(model, energy_weights=(1.0,))
  with pytest.raises(ll.UserError, match='numbers >= 0'):
    _rule(model, energy_weights=(1.0, -1.0))
  with pytest.raises(ll.UserError, match='closed_form'):
    _rule(testing.tiny_model('mlp', activation='linear'), energy_weights=(1.0, 1.0), activity_solver='closed_form')
  with pytest.raises(ll.UserError, match='does not take energy_weights'):
    testing.make_rule('ipc', model, energy_weights=(1.0, 1.0))
