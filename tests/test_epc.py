"""Error-optimised PC: the states it rebuilds from errors, its first step, and its minimum (PC's)."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from helpers import batch, make_rule, tiny_mlp

import local_learning as ll
from local_learning import models


def _resmlp():
  cfg = ml_collections.ConfigDict(dict(name='resmlp', depth=5, width=16, activation='tanh', param='sp',
                                       output_multiplier=1.0))
  model = models.functional(cfg, (8, 8, 1), 10)
  return model, model.init(jax.random.key(0))


def _flat(tree):
  return np.concatenate([np.ravel(a) for a in jax.tree.leaves(tree)])


def test_states_carry_exactly_the_given_errors_in_a_stacked_network():
  """z = states(e) has PC errors mu(z) - z = -e in every layer, stacked ones included."""
  model, params = _resmlp()
  x, _ = batch(n=4)

  @jax.jit
  def check(x):
    feedforward = model.forward(params, x)
    keys = jax.random.split(jax.random.key(3), len(feedforward) - 1)
    errors = [0.1 * jax.random.normal(k, z.shape) for k, z in zip(keys, feedforward[:-1])]
    hidden = ll.pc.states(model, params, errors, feedforward[0])
    zero = ll.pc.states(model, params, [jnp.zeros_like(e) for e in errors], feedforward[0])
    mus = model.predict(params, [x, *hidden])
    return [mu - z for z, mu in zip(hidden, mus)], errors, zero, feedforward

  found, errors, zero, feedforward = check(x)
  for got, e in zip(found, errors):
    np.testing.assert_allclose(got, -e, atol=2e-5)
  for z, f in zip(zero, feedforward):
    np.testing.assert_allclose(z, f, atol=1e-5)


def test_the_first_error_gradient_is_backprop_at_every_layer():
  """dE/de_l at e = 0 is the output loss's gradient with respect to z_l through the layers above."""
  model, params = tiny_mlp(widths=(16, 16, 16))
  x, y = batch()
  loss = ll.classification.loss_fn('ce')
  output = ll.pc.nudged_loss(loss, y, 1.0)
  feedforward = model.forward(params, x)
  got = jax.jit(jax.grad(lambda e: jnp.sum(ll.pc.error_energy(model, params, e, output, feedforward[0]))))(
      [jnp.zeros_like(z) for z in feedforward[:-1]])

  def loss_from(l, z):
    for k in range(l + 1, len(feedforward)):
      z = model.predict(params, [z], first=k)[0]
    return jnp.sum(loss(z, y))

  for l, g in enumerate(got):
    want = jax.jit(jax.grad(lambda z, l=l: loss_from(l, z)))(feedforward[l])
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-7)
    assert float(jnp.max(jnp.abs(g))) > 1e-4     # the signal reaches every layer in one evaluation


def test_epc_and_pc_reach_the_same_minimum_and_weight_gradient():
  model, params = tiny_mlp()
  x, y = batch()
  results = {}
  for rule in ('pc', 'epc'):
    r = make_rule(rule, model, loss='ce', inference_steps=400, activity_lr=0.2)
    results[rule] = jax.jit(r.grads)(dict(params=params), (x, y), None)
  (g_pc, m_pc), (g_epc, m_epc) = results['pc'], results['epc']
  np.testing.assert_allclose(m_epc['energy'], m_pc['energy'], rtol=1e-5)
  np.testing.assert_allclose(_flat(g_epc), _flat(g_pc), atol=1e-6 * np.abs(_flat(g_pc)).max() * 10)
  assert m_pc['energy'] < 0.95 * m_pc['loss']     # inference moved: the minimum is not the start


def test_inference_is_the_reference_loop_plain_sgd_on_the_batch_summed_energy():
  """With the gd solver, epc's errors after T steps are those of the reference's loop
  (cgoemaere/error_based_PC pc_e.py: torch.optim.SGD on the errors, lr e_lr, from e = 0,
  on the energy summed over the batch): e <- e - lr dE/de, T times."""
  model, params = tiny_mlp(widths=(16, 16, 16))
  x, y = batch()
  rule = make_rule('epc', model, loss='ce', inference_steps=12, activity_lr=0.3)
  feedforward = model.forward(params, x)
  output = rule.output_term(y, feedforward[-1], 1.0)
  got, _ = jax.jit(lambda: ll.pc.infer_errors(model, params, output, rule.solver(x.shape[0]), feedforward))()
  grad = jax.jit(jax.grad(lambda e: jnp.sum(ll.pc.error_energy(model, params, e, output, feedforward[0]))))
  want = [jnp.zeros_like(z) for z in feedforward[:-1]]
  for _ in range(12):
    want = [e - 0.3 * g for e, g in zip(want, grad(want))]
  np.testing.assert_allclose(_flat(got), _flat(want), rtol=1e-5, atol=1e-6)
  assert np.abs(_flat(want)).max() > 1e-3      # the errors moved


def test_post_activation_epc_is_the_references_formulation():
  """With activities='post', epc's states after T steps are the reference's (cgoemaere/error_based_PC
  pc_e.py): s_l = gelu(W_l s_{l-1} + b_l) + e_l from s_0 = x, the output W s_{L-1} + b without an error,
  E = 1/2 sum_l ||e_l||^2 + the output loss summed over the batch, T steps of plain SGD on e from 0."""
  model, params = tiny_mlp(widths=(16, 16, 16), activation='gelu_exact')
  x, y = batch()
  rule = make_rule('epc', model, loss='sigmoid_mse', inference_steps=12, activity_lr=0.3, activities='post')
  feedforward = rule.model.forward(params, x)
  output = rule.output_term(y, feedforward[-1], 1.0)
  got, _ = jax.jit(lambda: rule.infer(params, x, output, feedforward))()

  gelu = lambda a: jax.nn.gelu(a, approximate=False)

  def states(errors):
    s, out = x.reshape(len(x), -1), []
    for l, e in enumerate(errors):
      s = gelu(model.linear(params, l, s)) + e
      out.append(s)
    return out

  def energy(errors):
    top = model.linear(params, len(errors), states(errors)[-1])
    loss = 0.5 * jnp.sum(jnp.square(jax.nn.sigmoid(top) - jax.nn.one_hot(y, 10)))
    return 0.5 * sum(jnp.sum(e * e) for e in errors) + loss

  grad = jax.jit(jax.grad(energy))
  errors = [jnp.zeros((len(x), 16)) for _ in range(3)]
  for _ in range(12):
    errors = [e - 0.3 * g for e, g in zip(errors, grad(errors))]
  np.testing.assert_allclose(_flat(got), _flat(states(errors)), rtol=1e-5, atol=1e-6)
  assert np.abs(_flat(errors)).max() > 1e-3      # the errors moved
