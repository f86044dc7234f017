"""PCX's post-activation energy (activities='post', local_learning.pc.post_activation)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import batch, energy, infer, make_rule, plain_pc_inference, tiny_mlp

import local_learning as ll
from local_learning import testing
from local_learning.errors import UserError


def written_energy(params, hidden, x, y, act):
  """The post-activation energy of a dense MLP written out (B,): sum_l 1/2 ||h_l - act(h_{l-1} W + b)||^2 +
  1/2 ||h_{L-1} W + b - onehot(y)||^2, h_0 = x flattened."""
  layers = [params['layers'][i] for i in range(len(hidden) + 1)]
  below = [x.reshape(x.shape[0], -1), *hidden]
  total = sum(0.5 * jnp.sum(jnp.square(h - act(b @ p['kernel'][...] + p['bias'][...])), axis=-1)
              for h, b, p in zip(hidden, below, layers))
  out = below[-1] @ layers[-1]['kernel'][...] + layers[-1]['bias'][...]
  return total + 0.5 * jnp.sum(jnp.square(out - jax.nn.one_hot(y, out.shape[-1])), axis=-1)


def test_with_the_identity_activation_it_is_the_pre_activation_energy_and_step():
  model, params = tiny_mlp(activation='linear')
  pre, post = (make_rule('pc', model, loss='mse', activities=a, inference_steps=3) for a in ('pre', 'post'))
  x, y = batch()
  hidden = [z + 0.3 * jax.random.normal(jax.random.key(l), z.shape) for l, z in enumerate(model.forward(params, x))]
  np.testing.assert_allclose(energy(post, params, hidden[:-1], x, y), energy(pre, params, hidden[:-1], x, y),
                             rtol=1e-6)
  (g_pre, _), (g_post, _) = (jax.jit(r.grads)(dict(params=params), (x, y), None) for r in (pre, post))
  for a, b in zip(jax.tree.leaves(g_pre), jax.tree.leaves(g_post)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_energy_and_gradients_are_those_of_the_written_energy():
  model, params = tiny_mlp(activation='tanh')
  post = make_rule('pc', model, loss='mse', activities='post')
  x, y = batch()
  hidden = [jnp.tanh(z) + 0.2 * jax.random.normal(jax.random.key(l), z.shape)
            for l, z in enumerate(model.forward(params, x)[:-1])]
  want = written_energy(params, hidden, x, y, jnp.tanh)
  np.testing.assert_allclose(energy(post, params, hidden, x, y), want, rtol=1e-6)
  total = lambda p, h: jnp.sum(written_energy(p, h, x, y, jnp.tanh))
  output = post.output_term(y, model.output(params, x), 1.0)
  got = ll.pc.activity_grad(post.model, params, x, output, post.model.forward(params, x))(hidden, 0)
  for g, w in zip(got, jax.grad(total, argnums=1)(params, hidden)):
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
  grads, _ = ll.pc.weight_grads(post.model, params, hidden, x, output, 1.0)
  want = jax.grad(lambda p: total(p, hidden) / x.shape[0])(params)
  for g, w in zip(jax.tree.leaves(grads), jax.tree.leaves(want)):
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_the_feedforward_pass_is_post_activation_and_has_zero_hidden_errors():
  model, params = tiny_mlp(activation='tanh')
  post = make_rule('pc', model, activities='post')
  x, _ = batch()
  zs, hs = model.forward(params, x), post.model.forward(params, x)
  for z, h in zip(zs[:-1], hs[:-1]):
    np.testing.assert_allclose(h, jnp.tanh(z), rtol=1e-6)
  np.testing.assert_array_equal(hs[-1], zs[-1])
  for h, mu in zip(hs[:-1], post.model.predict(params, [x, *hs[:-1]])):
    np.testing.assert_allclose(h, mu, atol=1e-6)


@pytest.mark.parametrize('name,steps', [('mlp', 1), ('mlp', 3), ('vgg', 2)])
def test_skipping_blocks_below_the_error_wave_stays_exact(name, steps):
  model = testing.tiny_model(name, (8, 8, 1), 10, **({'widths': (16, 16, 16)} if name == 'mlp' else {}))
  params = model.init(jax.random.key(0))
  post = make_rule('pc', model, activities='post', inference_steps=steps, activity_lr=0.2, activity_momentum=0.5)
  x, y = batch(8)
  got = jax.jit(lambda p, x, y: infer(post, p, x, y)[0])(params, x, y)
  for g, w in zip(got, jax.jit(lambda p, x, y: plain_pc_inference(post, p, x, y))(params, x, y)):
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_rules_and_models_it_does_not_fit_are_refused():
  with pytest.raises(UserError, match='plain blocks'):
    make_rule('pc', testing.tiny_model('resmlp'), activities='post')
  with pytest.raises(UserError, match="bpc's energy reads"):
    make_rule('bpc', tiny_mlp()[0], activities='post')
  with pytest.raises(UserError, match="activities must be 'pre' or 'post'"):
    make_rule('pc', tiny_mlp()[0], activities='after')
