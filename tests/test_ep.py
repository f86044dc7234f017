"""Equilibrium propagation: the centred update approaches the gradient of the loss at the free fixed point."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import local_learning as ll
from local_learning import testing

BETAS = np.geomspace(2e-2, 1e-3, 5)


def _flat(tree):
  return jnp.concatenate([jnp.ravel(a) for a in jax.tree.leaves(tree)])


def test_ep_update_error_is_order_beta_squared_centred_and_order_beta_one_sided():
  """In float64 on a tiny 5-8-3 network (hard sigmoid), converged phases: the error of the EP update
  against dL/dtheta at the free fixed point (autodiff through the converged free phase) scales as
  beta^2 with +-beta nudging and as beta with one-sided nudging."""
  with jax.enable_x64(True):
    model = testing.tiny_model(input_shape=(5,), classes=3, widths=(8,), activation='hard_sigmoid')
    params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), model.init(jax.random.key(3)))
    x = jax.random.uniform(jax.random.key(103), (4, 5), jnp.float64)
    y = jnp.array([0, 1, 2, 0])
    rule = lambda centred: testing.make_rule('ep', model, centred=centred, free_steps=200, nudged_steps=200)
    ep = rule(True)
    _, drive, free = ep.free_phase(params, x)
    # Saturated and unsaturated units alike stay clear of the hard sigmoid's kinks over the betas tested.
    net = jax.grad(ep.primitive, argnums=1)(params, free, drive)
    assert min(float(jnp.min(jnp.minimum(jnp.abs(u), jnp.abs(u - 1)))) for u in net) > 0.05
    assert 0 < np.mean([np.mean((u > 0) & (u < 1)) for u in net]) < 1
    exact = _flat(jax.grad(lambda p: jnp.mean(ep.loss(ep.free_phase(p, x)[2][-1], y)))(params))
    slopes, errors = {}, {}
    for centred in (True, False):
      updates = jax.jit(jax.vmap(lambda b, ep=rule(centred): _flat(ep.update(params, x, y, b)[0])))(BETAS)
      errors[centred] = list(np.linalg.norm(updates - exact, axis=1) / np.linalg.norm(exact))
      slopes[centred] = np.polyfit(np.log(BETAS), np.log(errors[centred]), 1)[0]
  assert 1.8 < slopes[True] < 2.2, (slopes, errors)
  assert 0.8 < slopes[False] < 1.2, (slopes, errors)
  assert errors[True][-1] < 1e-4 < errors[False][-1]


def test_ep_predicts_with_the_free_phase_from_zero():
  model = testing.tiny_model(widths=(16,), activation='hard_sigmoid')
  ep = testing.make_rule('ep', model, free_steps=7)
  state = ep.init(jax.random.key(0))
  x, _ = testing.batch(4)
  s = [jnp.zeros((4, 16)), jnp.zeros((4, 10))]
  params = state['params']
  drive = model.linear(params, 0, model.phi(params, 0, x))
  for _ in range(7):     # synchronous: both layers from the previous states
    s = [jnp.clip(drive + model.transpose(params, 1, s[0], s[1]), 0, 1), jnp.clip(model.linear(params, 1, s[0]), 0, 1)]
  np.testing.assert_allclose(ep.output(state, x), s[1], rtol=1e-5, atol=1e-6)


def test_ep_refuses_models_and_settings_it_cannot_run():
  with pytest.raises(ll.UserError, match='ep needs a dense model'):
    testing.make_rule('ep', testing.tiny_model('vgg'))
  with pytest.raises(ll.UserError, match='ep needs beta > 0'):
    testing.make_rule('ep', testing.tiny_model(), beta=0.0)
