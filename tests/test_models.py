"""Layered models: each block is the documented map, and predict applies the blocks independently."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from local_learning import models


def _model(cfg, shape):
  model = models.functional(ml_collections.ConfigDict(cfg), shape, 10)
  return model, model.init(jax.random.key(0))


def _value(param):
  return np.asarray(param[...])


def _check(model, params, x, inputs, blocks):
  """forward(x) composes `blocks`; predict(inputs) applies block l to inputs[l] alone."""
  zs = jax.jit(model.forward)(params, x)
  want, z = [], x
  for block in blocks:
    z = block(z)
    want.append(z)
  for got, expected in zip(zs, want, strict=True):
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
  mus = jax.jit(model.predict)(params, inputs)
  for mu, block, z in zip(mus, blocks, inputs, strict=True):
    np.testing.assert_allclose(mu, block(z), rtol=1e-4, atol=1e-5)
  tail = jax.jit(model.predict, static_argnums=2)(params, inputs[1:], 1)
  for mu, mu_tail in zip(mus[1:], tail, strict=True):
    np.testing.assert_allclose(mu, mu_tail, rtol=1e-6)


def test_mlp_blocks_are_affine_maps_of_the_activated_layer_below():
  model, params = _model(dict(name='mlp', widths=(32, 16), activation='gelu'), (8, 8, 1))
  (w0, b0), (w1, b1), (w2, b2) = [(_value(params['layers'][i]['kernel']), _value(params['layers'][i]['bias']))
                                  for i in range(3)]
  blocks = [lambda x: x.reshape(len(x), -1) @ w0 + b0,
            lambda z: jax.nn.gelu(z) @ w1 + b1,
            lambda z: jax.nn.gelu(z) @ w2 + b2]
  keys = jax.random.split(jax.random.key(1), 3)
  x = jax.random.normal(keys[0], (5, 8, 8, 1))
  inputs = [x, jax.random.normal(keys[1], (5, 32)), jax.random.normal(keys[2], (5, 16))]   # not a forward pass
  _check(model, params, x, inputs, blocks)


def test_vgg_blocks_are_pooled_activated_convolutions_then_a_linear_head():
  model, params = _model(dict(name='vgg', channels=(4, 8), activation='relu'), (12, 12, 3))

  def conv_block(i):
    kernel, bias = _value(params['convs'][i]['kernel']), _value(params['convs'][i]['bias'])

    def block(z):
      h = jax.lax.conv_general_dilated(z, kernel, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
      return jax.lax.reduce_window(jax.nn.relu(h + bias), -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                   'SAME')
    return block

  head_w, head_b = _value(params['head']['kernel']), _value(params['head']['bias'])
  blocks = [conv_block(0), conv_block(1), lambda z: z.reshape(len(z), -1) @ head_w + head_b]
  keys = jax.random.split(jax.random.key(2), 3)
  x = jax.random.normal(keys[0], (5, 12, 12, 3))
  inputs = [x, jax.random.normal(keys[1], (5, 6, 6, 4)), jax.random.normal(keys[2], (5, 3, 3, 8))]
  _check(model, params, x, inputs, blocks)
