"""Nudged PC: the EP estimators' bias against BP (O(beta) one-sided, O(beta^2) centred),
PCX's interpolated target, and beta's schedule."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import batch, make_rule, tiny_mlp

import local_learning as ll

BETAS = (0.2, 0.1, 0.05, 0.025)


def _flat(tree):
  return np.concatenate([np.ravel(a) for a in jax.tree.leaves(tree)])


def test_centred_nudging_approaches_backprop_as_beta_squared_and_one_sided_as_beta():
  model, params = tiny_mlp()
  x, y = batch()
  steps = dict(inference_steps=100, activity_lr=0.3, estimator='ep')
  pn, nn, cn = (make_rule(name, model, beta=sign * BETAS[0], **steps) for name, sign in
                (('pn', 1), ('nn', -1), ('cn', 1)))
  bp = _flat(jax.grad(lambda p: jnp.mean(pn.loss(model.output(p, x), y)))(params))
  one_sided = jax.jit(lambda beta: _tree_flat(pn.estimate(params, x, y, beta)[0]))
  estimates = {'pn': [], 'nn': [], 'cn': []}
  for beta in BETAS:
    up, down = np.asarray(one_sided(beta)), np.asarray(one_sided(-beta))
    estimates['pn'].append(up)
    estimates['nn'].append(down)
    estimates['cn'].append(0.5 * (up + down))          # (g(beta) - g(-beta)) / (2 beta)
  slopes = {name: np.polyfit(np.log(BETAS), np.log([np.linalg.norm(g - bp) / np.linalg.norm(bp) for g in gs]), 1)[0]
            for name, gs in estimates.items()}
  assert 0.8 < slopes['pn'] < 1.2 and 0.8 < slopes['nn'] < 1.2
  assert 1.7 < slopes['cn'] < 2.3
  # the rules compute these estimates: nn one inference at -beta, cn both phases
  state = lambda rule: dict(rule.init(jax.random.key(0)), params=params)
  np.testing.assert_allclose(_flat(jax.jit(nn.grads)(state(nn), (x, y), None)[0]), estimates['nn'][0], rtol=1e-5,
                             atol=1e-7)
  np.testing.assert_allclose(_flat(jax.jit(cn.grads)(state(cn), (x, y), None)[0]), estimates['cn'][0], rtol=1e-5,
                             atol=1e-7)


def _tree_flat(tree):
  return jnp.concatenate([jnp.ravel(a) for a in jax.tree.leaves(tree)])


def test_pcx_target_pulls_the_output_as_beta_times_the_loss_at_the_feedforward_state():
  """PCX's fixed target and EP's beta * loss agree on the first step, and are the same term at beta = 1."""
  _, y = batch()
  u, mu = jax.random.normal(jax.random.key(4), (2, len(y), 10))

  @functools.partial(jax.jit, static_argnums=0)
  def terms(loss, beta):
    """{term: (its gradient at the feedforward output u, its value at another output mu)}."""
    return {name: (jax.grad(lambda m: jnp.sum(term(m)))(u), term(mu)) for name, term in (
        ('target', ll.pc.interpolated_target(loss, y, beta, u)),
        ('nudged', ll.pc.nudged_loss(ll.classification.loss_fn(loss), y, beta)))}

  for loss in ('mse', 'ce'):
    for beta in (0.3, -0.3, 1.0):
      got = terms(loss, beta)
      np.testing.assert_allclose(got['target'][0], got['nudged'][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got['target'][1], got['nudged'][1], rtol=1e-5, atol=1e-6)   # beta = 1


def test_beta_follows_its_schedule_and_cn_draws_a_sign_per_phase():
  model, _ = tiny_mlp()
  nn = make_rule('nn', model, num_steps=100, beta=-0.2, beta_increment=-0.02, beta_phases=25)
  state = nn.init(jax.random.key(0))
  for step, want in ((0, -0.2), (3, -0.2), (4, -0.22), (99, -0.68)):
    np.testing.assert_allclose(nn.beta(dict(state, step=jnp.int32(step))), want, rtol=1e-6)
  cn = make_rule('cn', model, num_steps=100, beta=0.55, beta_phases=25)
  state = cn.init(jax.random.key(0))
  betas = np.array([float(cn.beta(dict(state, step=jnp.int32(s)))) for s in range(100)])
  np.testing.assert_allclose(np.abs(betas), 0.55, rtol=1e-6)
  np.testing.assert_array_equal(np.sign(betas), np.repeat(np.asarray(state['signs']), 4))
  assert 0 < (betas > 0).sum() < 100
  capped = make_rule('pn', model, num_steps=100, beta=0.9, beta_increment=0.1, beta_phases=4)
  assert float(capped.beta(dict(capped.init(jax.random.key(0)), step=jnp.int32(99)))) == 1.0


@pytest.mark.parametrize('rule, fields, message', [
    ('nn', dict(beta=0.5), 'nn needs beta < 0'),
    ('pn', dict(beta=-0.5), 'pn needs beta > 0'),
    ('pn', dict(estimator='pcy'), "unknown estimator 'pcy'"),
    ('nn', dict(beta=-0.1, beta_increment=0.1, beta_phases=3), 'must keep its sign'),
    ('cn', dict(beta_phases=0), 'beta_phases must be an integer >= 1'),
    ('pc', dict(activity_solver='rk4'), "unknown activity_solver 'rk4'"),
    ('pc', dict(activity_solver='heun', activity_momentum=0.5), 'activity_momentum applies to'),
    ('ipc', dict(activity_solver='adaptive'), 'activity_solver gd, euler or heun'),
    ('ipc', dict(schedule='async'), "unknown ipc schedule 'async'"),
])
def test_bad_hyperparameters_of_the_pc_variants_are_one_clear_line(rule, fields, message):
  model, _ = tiny_mlp()
  with pytest.raises(ll.UserError) as error:
    make_rule(rule, model, **fields)
  assert message in str(error.value) and '\n' not in str(error.value)
