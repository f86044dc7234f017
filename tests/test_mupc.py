"""The residual MLP under Depth-muP and the mupc rule: properties of the math."""
import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from helpers import energy, infer, make_rule, plain_pc_inference

from configs import depth as depth_config
from local_learning import models, train
from local_learning.models import activations, residual


def resmlp(depth, param, width=32, in_shape=(8, 8, 1), activation='relu'):
  cfg = ml_collections.ConfigDict(dict(name='resmlp', depth=depth, width=width, activation=activation,
                                       param=param, output_multiplier=1.0))
  model = models.functional(cfg, in_shape, 10)
  return model, model.init(jax.random.key(0))


def _rms(a):
  return float(jnp.sqrt(jnp.mean(jnp.square(a))))


def test_depth_mup_keeps_activations_order_one_as_depth_grows_and_sp_does_not():
  x = jax.random.normal(jax.random.key(1), (32, 8, 8, 1))
  last_hidden = {}
  for param in ('mupc', 'sp'):
    for depth in (8, 32, 128):
      model, params = resmlp(depth, param, width=64)
      stack = model.forward(params, x)[1]
      last_hidden[param, depth] = _rms(stack[-1])
  for depth in (8, 32, 128):
    assert 0.5 < last_hidden['mupc', depth] < 2.0
  assert last_hidden['mupc', 128] / last_hidden['mupc', 8] < 1.5
  assert last_hidden['sp', 128] / last_hidden['sp', 8] > 1e3


@pytest.mark.parametrize('param', ['mupc', 'sp', 'mup_noskip'])
def test_batched_predict_equals_the_layer_by_layer_computation(param):
  depth, width = 6, 16
  model, params = resmlp(depth, param, width=width, activation='tanh')
  keys = jax.random.split(jax.random.key(2), 3)
  x = jax.random.normal(keys[0], (5, 8, 8, 1))
  z_1 = jax.random.normal(keys[1], (5, width))                   # arbitrary, not a forward pass
  stack = jax.random.normal(keys[2], (depth - 1, 5, width))
  w_in, w_hidden, w_out = (np.asarray(params[k][...]) for k in ('w_in', 'w_hidden', 'w_out'))
  a_in, a_hid, a_out, skip = {
      'mupc': (1 / 8, 1 / np.sqrt(width * (depth + 1)), 1 / width, 1.0),
      'sp': (1.0, 1.0, 1.0, 1.0),
      'mup_noskip': (1 / 8, 1 / np.sqrt(width), 1 / width, 0.0)}[param]
  layers = [z_1, *stack]
  want = [a_in * x.reshape(5, -1) @ w_in]
  want += [skip * layers[k] + a_hid * np.tanh(layers[k]) @ w_hidden[k] for k in range(depth - 1)]
  want += [a_out * np.tanh(layers[-1]) @ w_out]

  mu_1, mu_stack, mu_out = model.predict(params, [x, z_1, stack])
  np.testing.assert_allclose(mu_1, want[0], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(mu_stack, np.stack(want[1:-1]), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(mu_out, want[-1], rtol=1e-5, atol=1e-5)
  tail = model.predict(params, [z_1, stack], first=1)
  np.testing.assert_allclose(tail[0], mu_stack, rtol=1e-6)
  np.testing.assert_allclose(tail[1], mu_out, rtol=1e-6)


def test_forward_is_the_fixed_point_of_predict():
  model, params = resmlp(5, 'mupc')
  x = jax.random.normal(jax.random.key(3), (4, 8, 8, 1))
  zs = model.forward(params, x)
  assert model.stacks == (0, 4, 0) and model.depth == 6
  assert [z.shape for z in zs] == [(4, 32), (4, 4, 32), (4, 10)]
  for z, mu in zip(zs, model.predict(params, [x, *zs[:-1]])):
    np.testing.assert_allclose(z, mu, rtol=1e-5, atol=1e-5)


def test_pc_energy_of_a_stack_sums_its_layers_per_sample():
  depth = 5
  model, params = resmlp(depth, 'mupc')
  pc = make_rule('mupc', model)
  keys = jax.random.split(jax.random.key(4), 4)
  x, y = jax.random.normal(keys[0], (3, 8, 8, 1)), jnp.array([1, 2, 3])
  hidden = [jax.random.normal(keys[1], (3, 32)), jax.random.normal(keys[2], (depth - 1, 3, 32))]
  mus = model.predict(params, [x, *hidden])
  per_layer = [hidden[0] - mus[0], *(hidden[1] - mus[1])]
  want = sum(0.5 * np.sum(np.square(e), axis=-1) for e in per_layer) + pc.loss(mus[-1], y)
  np.testing.assert_allclose(energy(pc, params, hidden, x, y), want, rtol=1e-5)


def test_mupc_inference_with_the_error_wave_matches_plain_steps():
  model, params = resmlp(6, 'mupc')
  pc = make_rule('mupc', model, inference_steps=4)
  x, y = jax.random.normal(jax.random.key(5), (3, 8, 8, 1)), jnp.array([1, 2, 3])
  got, _ = infer(pc, params, x, y)
  for g, w in zip(got, plain_pc_inference(pc, params, x, y)):
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_mupc_defaults_to_one_inference_step_per_hidden_layer():
  model, _ = resmlp(12, 'mupc')
  assert make_rule('mupc', model).inference_steps == 12
  assert make_rule('mupc', model, inference_steps=3).inference_steps == 3


def _accuracies(rule, tmp_path):
  """Test accuracies of 3 seeds: depth 64, width 32, digits, 1 epoch of batch 64."""
  config = depth_config.get_config(f'rule={rule},depth=64,width=32,dataset=digits')
  config.num_epochs = 1
  config.num_seeds = 3
  config.model.groups = 1    # a layout (tests/test_groups.py); one group compiles fastest
  return np.array(train.train_and_evaluate(config, str(tmp_path / rule)).results['test_accuracy'])


def test_mupc_learns_a_deep_network_where_standard_pc_stays_near_chance(tmp_path):
  """At 64 relu layers standard PC fails even at the reference's best rates for that depth."""
  mupc, pc = _accuracies('mupc', tmp_path), _accuracies('pc', tmp_path)
  assert mupc.min() > 0.6           # 0.68-0.76 after this one epoch, 0.81-0.86 after two
  assert pc.max() < 0.3


@pytest.mark.parametrize('activation,skip', [('relu', 1.0), ('tanh', 1.0), ('tanh', 0.0)])
def test_residual_layers_gradient_equals_autodiff_of_the_plain_layers(activation, skip):
  act = activations.get(activation)
  keys = jax.random.split(jax.random.key(6), 4)
  stack, first = jax.random.normal(keys[0], (5, 3, 4)), jax.random.normal(keys[1], (3, 4))
  w, g = jax.random.normal(keys[2], (5, 4, 4)), jax.random.normal(keys[3], (5, 3, 4))

  def plain(stack, first, w):
    prev = jnp.concatenate([first[None], stack[:-1]])
    return skip * prev + jnp.einsum('kbn,knm->kbm', act(prev), w)

  out, vjp = jax.vjp(functools.partial(residual.residual_layers, act, skip), stack, first, w)
  want_out, want_vjp = jax.vjp(plain, stack, first, w)
  np.testing.assert_allclose(out, want_out, rtol=1e-6)
  for got, want in zip(vjp(g), want_vjp(g)):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('batch_size', [2, 6])
def test_mupc_activity_step_is_its_rate_on_the_batch_mean_energy(batch_size):
  """One inference step moves each sample by -(0.5 / B) dF_sample/dz: JPC's 0.5 on the mean energy."""
  model, params = resmlp(4, 'mupc')
  pc = make_rule('mupc', model, inference_steps=1)
  keys = jax.random.split(jax.random.key(7), 2)
  x, y = jax.random.normal(keys[0], (batch_size, 8, 8, 1)), jax.random.randint(keys[1], (batch_size,), 0, 10)
  start = model.forward(params, x)[:-1]
  moved, _ = infer(pc, params, x, y)
  per_sample = jax.grad(lambda h: jnp.sum(energy(pc, params, h, x, y)))(start)
  assert pc.solver(batch_size).lr == 0.5 / batch_size
  for z, m, g in zip(start, moved, per_sample):
    np.testing.assert_allclose(m - z, -0.5 / batch_size * g, rtol=1e-4, atol=1e-7)


def test_sp_weights_are_uniform_within_one_over_root_fan_in():
  """The reference's standard init (equinox Linear): U(+-1/sqrt(fan_in)), variance 1/(3 fan_in)."""
  _, params = resmlp(4, 'sp', width=64)
  for name, fan_in in (('w_in', 64), ('w_hidden', 64), ('w_out', 64)):
    w = np.asarray(params[name][...])
    assert np.abs(w).max() <= 1 / np.sqrt(fan_in)
    np.testing.assert_allclose(w.var(), 1 / (3 * fan_in), rtol=0.1)
