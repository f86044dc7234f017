"""Feedback alignment and its relatives: each rule's update against its closed form and against backprop."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import local_learning as ll
from local_learning import testing
from local_learning.rules import brsf

X, Y = testing.batch(16)


def _grads(rule, state, rng=jax.random.key(3)):
  grads, metrics = jax.jit(rule.grads)(state, (X, Y), rng)
  assert np.isfinite(metrics['loss'])
  return grads


def _leaves(tree):
  return [np.asarray(a) for a in jax.tree.leaves(tree)]


def _assert_same(a, b, rtol=1e-5):
  for u, v in zip(_leaves(a), _leaves(b), strict=True):
    np.testing.assert_allclose(u, v, rtol=rtol, atol=1e-7)


def _bp(model, state):
  return _grads(testing.make_rule('bp', model), state)


def _feedback(name, rule, state, rng=jax.random.key(3)):
  """The matrices that take W_l's place in the rule's backward pass, blocks 1..L-1."""
  kernels = rule.model.kernels(state['params'])[1:]
  if name in ('fa', 'dfa'):
    return state['feedback']
  if name == 'usf':
    return [np.sqrt(2 / sum(k.shape)) * jnp.sign(k) for k in kernels]
  magnitudes = state['magnitudes'] if name == 'frsf' else rule.magnitudes(state, rng)
  return [m * jnp.sign(k) for m, k in zip(magnitudes, kernels)]


@pytest.mark.parametrize('name', ['fa', 'dfa', 'usf', 'brsf', 'frsf'])
def test_one_hidden_layer_update_is_its_closed_form(name):
  """delta_1 = phi'(z_1) * e B^T; dW_0 = x^T delta_1, dW_1 = h^T e (backprop's, the output block)."""
  model = testing.tiny_model(widths=(16,))
  rule = testing.make_rule(name, model)
  state = rule.init(jax.random.key(0))
  (w0, w1), b = model.kernels(state['params']), _feedback(name, rule, state)[0]
  assert b.shape == w1.shape and not np.allclose(b, w1)
  x = X.reshape(len(X), -1)
  z1 = x @ w0 + state['params']['layers'][0]['bias'][...]
  z2 = jnp.tanh(z1) @ w1 + state['params']['layers'][1]['bias'][...]
  e = jax.grad(lambda z: jnp.mean(rule.loss(z, Y)))(z2)
  delta = (e @ b.T) * (1 - jnp.tanh(z1) ** 2)
  got = _grads(rule, state)
  _assert_same(model.kernels(got), [x.T @ delta, jnp.tanh(z1).T @ e])
  _assert_same([got['layers'][i]['bias'][...] for i in (0, 1)], [delta.sum(0), e.sum(0)])


@pytest.mark.parametrize('model_name', ['mlp', 'vgg', 'resmlp'])
def test_fa_with_the_forward_weights_as_feedback_is_backprop(model_name):
  model = testing.tiny_model(model_name)
  fa = testing.make_rule('fa', model)
  state = fa.init(jax.random.key(0))
  assert [b.shape for b in state['feedback']] == [tuple(s) for s in model.kernel_shapes[1:]]
  _assert_same(_grads(fa, dict(state, feedback=model.kernels(state['params'])[1:])), _bp(model, state))
  fa_grads = model.kernels(_grads(fa, state))
  bp_grads = model.kernels(_bp(model, state))
  np.testing.assert_allclose(fa_grads[-1], bp_grads[-1], rtol=1e-5)    # the output block: backprop's
  assert not np.allclose(fa_grads[0], bp_grads[0], rtol=0.1)


class ExactBRSF(brsf.BRSF):
  """brSF whose 'random' magnitudes are |W|: its feedback is then W itself."""
  name = 'brsf_exact'

  def magnitudes(self, state, rng):
    return [jnp.abs(k) for k in self.model.kernels(state['params'])[1:]]


@pytest.mark.parametrize('model_name', ['mlp', 'vgg'])
def test_sign_symmetry_with_magnitudes_equal_to_the_weights_is_backprop(model_name):
  model = testing.tiny_model(model_name)
  frsf = testing.make_rule('frsf', model)
  state = frsf.init(jax.random.key(0))
  exact = [jnp.abs(k) for k in model.kernels(state['params'])[1:]]
  bp = _bp(model, state)
  _assert_same(_grads(frsf, dict(state, magnitudes=exact)), bp)
  _assert_same(_grads(testing.make_rule(ExactBRSF, model), state), bp)


def test_brsf_redraws_its_magnitudes_every_step_and_frsf_keeps_them():
  model = testing.tiny_model()
  rule = testing.make_rule('brsf', model)
  state = rule.init(jax.random.key(0))
  first, second = rule.magnitudes(state, jax.random.key(1)), rule.magnitudes(state, jax.random.key(2))
  bound = np.sqrt(6 / sum(model.kernel_shapes[1]))                    # xavier-uniform: U(0, bound) in magnitude
  assert 0 <= np.min(first[0]) and np.max(first[0]) <= bound and np.mean(first[0]) > 0.4 * bound
  assert not np.allclose(first[0], second[0])
  one, two = (model.kernels(_grads(rule, state, jax.random.key(k)))[0] for k in (1, 2))
  assert not np.allclose(one, two)
  frsf = testing.make_rule('frsf', model)
  state = frsf.init(jax.random.key(0))
  _assert_same(_grads(frsf, state, jax.random.key(1)), _grads(frsf, state, jax.random.key(2)), rtol=0)


def test_dfa_sends_the_output_error_to_every_hidden_layer_directly():
  """Two hidden layers: delta_l = phi'(z_l) * e B_l^T for both, nothing through W_2."""
  model = testing.tiny_model(widths=(16, 12))
  dfa = testing.make_rule('dfa', model)
  state = dfa.init(jax.random.key(0))
  params, (b1, b2) = state['params'], state['feedback']
  assert b1.shape == (16, 10) and b2.shape == (12, 10)
  zs = model.forward(params, X)
  e = jax.grad(lambda z: jnp.mean(dfa.loss(z, Y)))(zs[-1])
  deltas = [(e @ b.T) * (1 - jnp.tanh(z) ** 2) for b, z in zip((b1, b2), zs[:-1])]
  inputs = [X.reshape(len(X), -1), jnp.tanh(zs[0]), jnp.tanh(zs[1])]
  _assert_same(model.kernels(_grads(dfa, state)), [h.T @ d for h, d in zip(inputs, [*deltas, e])])


def test_dfa_on_a_cnn_trains_the_output_block_as_backprop():
  model = testing.tiny_model('vgg')
  dfa = testing.make_rule('dfa', model)
  state = dfa.init(jax.random.key(0))
  assert [b.shape for b in state['feedback']] == [(3, 3, 4, 10), (32, 10)]
  got, bp = model.kernels(_grads(dfa, state)), model.kernels(_bp(model, state))
  np.testing.assert_allclose(got[-1], bp[-1], rtol=1e-5)
  assert got[0].shape == bp[0].shape and not np.allclose(got[0], bp[0], rtol=0.1)


def test_dfa_refuses_a_model_with_stacked_layers():
  with pytest.raises(ll.UserError, match='dfa needs a model without stacked layers'):
    testing.make_rule('dfa', testing.tiny_model('resmlp'))


def test_usf_brsf_frsf_scale_a_conv_feedback_by_its_fans_with_the_kernel_area():
  """A conv kernel (k, k, C_in, C_out): usf's B = sqrt(2 / ((C_in + C_out) k^2)) sign(W), brsf's and frsf's
  magnitudes U(0, sqrt(6 / ((C_in + C_out) k^2))), as PyTorch counts a conv's fans (BioTorch's scale)."""
  model = testing.tiny_model('vgg')
  usf = testing.make_rule('usf', model)
  state = usf.init(jax.random.key(0))
  kernels = model.kernels(state['params'])
  conv = [l for l, k in enumerate(kernels) if l > 0 and k.ndim == 4]
  assert conv
  fans = lambda k: (k.shape[-2] + k.shape[-1]) * k.shape[0] * k.shape[1] if k.ndim == 4 else sum(k.shape[-2:])
  feedback = [np.sqrt(2 / fans(k)) * jnp.sign(k) for k in kernels[1:]]
  _assert_same(_grads(usf, state), _grads(testing.make_rule('fa', model), dict(state, feedback=feedback)))
  for name in ('brsf', 'frsf'):
    rule = testing.make_rule(name, model)
    state = rule.init(jax.random.key(0))
    magnitudes = state['magnitudes'] if name == 'frsf' else rule.magnitudes(state, jax.random.key(1))
    for l in conv:
      m, bound = np.asarray(magnitudes[l - 1]), np.sqrt(6 / fans(kernels[l]))
      assert np.min(m) >= 0 and 0.9 * bound < np.max(m) <= bound


@pytest.mark.parametrize('name', ['usf', 'brsf', 'frsf'])
@pytest.mark.parametrize('model_name,param', [('mlp', 'mup'), ('resmlp', 'mupc')])
def test_sign_symmetric_feedback_under_mup_and_mupc(name, model_name, param):
  """Under a parameterisation with multipliers a_l (mup: 1/sqrt(n); mupc's hidden layers 1/sqrt(n L)), B_l
  keeps the xavier scale of W_l's shape (it does not follow W's N(0, 1) init) and takes W_l's place inside
  the block's map: the error goes down as a_l (delta B_l^T), the update of W_l is a_l phi(z_l)^T delta."""
  model = testing.tiny_model(model_name, param=param)
  rule = testing.make_rule(name, model)
  state = rule.init(jax.random.key(0))
  params, rng = state['params'], jax.random.key(3)
  kernels = model.kernels(params)
  if name == 'usf':
    feedback = [np.sqrt(2 / sum(k.shape[-2:])) * jnp.sign(k) for k in kernels[1:]]
  else:
    magnitudes = state['magnitudes'] if name == 'frsf' else rule.magnitudes(state, rng)
    feedback = [m * jnp.sign(k) for m, k in zip(magnitudes, kernels[1:])]
    bound = np.sqrt(6 / sum(kernels[1].shape[-2:]))
    assert 0.9 * bound < np.max(magnitudes[0]) <= bound
  l = len(kernels) - 1                                      # the output block: a_L = 1/N under mup and mupc
  h = model.phi(params, l, model.forward(params, X)[l - 1])
  n = kernels[l].shape[-2]
  np.testing.assert_allclose(model.linear(params, l, h, feedback[l - 1]), (h @ feedback[l - 1]) / n, rtol=1e-5,
                             atol=1e-7)
  if param == 'mupc':                                       # a hidden (stacked) entry: 1/sqrt(n L)
    stacked = next(i for i in range(1, l) if model.stack_size(i))
    k = kernels[stacked][0]
    depth = sum(max(model.stack_size(i), 1) for i in range(len(kernels)))
    z = jax.random.normal(jax.random.key(5), (model.stack_size(stacked), len(X), k.shape[0]))
    got = model.linear(params, stacked, z, feedback[stacked - 1])
    np.testing.assert_allclose(got[0], z[0] @ feedback[stacked - 1][0] / np.sqrt(k.shape[0] * depth), rtol=1e-5,
                               atol=1e-7)
  _assert_same(_grads(rule, state, rng), _grads(testing.make_rule('fa', model), dict(state, feedback=feedback)))
