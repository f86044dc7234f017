"""Layered models: each block is the documented map, and predict applies the blocks independently."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

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


def test_vgg_blocks_are_convolutions_of_the_pooled_activated_layer_below_then_a_linear_head():
  model, params = _model(dict(name='vgg', channels=(4, 8), activation='relu'), (12, 12, 3))
  pool = lambda h: jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), 'SAME')

  def conv_block(i, phi):
    kernel, bias = _value(params['convs'][i]['kernel']), _value(params['convs'][i]['bias'])

    def block(z):
      h = jax.lax.conv_general_dilated(phi(z), kernel, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
      return h + bias
    return block

  head_w, head_b = _value(params['head']['kernel']), _value(params['head']['bias'])
  blocks = [conv_block(0, lambda x: x), conv_block(1, lambda z: pool(jax.nn.relu(z))),
            lambda z: pool(jax.nn.relu(z)).reshape(len(z), -1) @ head_w + head_b]
  keys = jax.random.split(jax.random.key(2), 3)
  x = jax.random.normal(keys[0], (5, 12, 12, 3))
  inputs = [x, jax.random.normal(keys[1], (5, 12, 12, 4)), jax.random.normal(keys[2], (5, 6, 6, 8))]
  _check(model, params, x, inputs, blocks)


def test_rescnn_blocks_are_the_limits_papers_stage_convs_residual_blocks_and_readout():
  model, params = _model(dict(name='rescnn', width=4, blocks=1, activation='tanh', param='mupc',
                              output_multiplier=1.0), (12, 12, 1))
  pool = lambda h: jax.lax.reduce_window(h, 0.0, jax.lax.add, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID') / 4
  a_stage = lambda c_in: 1 / np.sqrt(9 * c_in)
  a_res = 5 / 3 / np.sqrt(9 * 4 * 7)          # tanh's gain / sqrt(N k^2 L), L = 7 weight layers

  def conv(i, a, phi, skip):
    kernel = _value(params['convs'][i]['kernel'])
    conv_ = lambda h: jax.lax.conv_general_dilated(h, kernel, (1, 1), 'SAME',
                                                   dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    return lambda z: a * conv_(phi(z)) + (z if skip else 0)

  head = _value(params['head']['kernel'])
  blocks = [conv(0, a_stage(1), lambda x: x, False), conv(1, a_res, jnp.tanh, True),
            conv(2, a_stage(4), pool, False), conv(3, a_res, jnp.tanh, True),
            conv(4, a_stage(4), pool, False), conv(5, a_res, jnp.tanh, True),
            lambda z: pool(z).reshape(len(z), -1) @ head / 4]          # readout 1/fan-in, fan-in 1 * 1 * 4
  keys = jax.random.split(jax.random.key(2), 7)
  x = jax.random.normal(keys[0], (5, 12, 12, 1))
  shapes = [(5, 12, 12, 4)] * 2 + [(5, 6, 6, 4)] * 2 + [(5, 3, 3, 4)] * 2
  _check(model, params, x, [x] + [jax.random.normal(k, s) for k, s in zip(keys[1:], shapes)], blocks)
  assert model.skips == (0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0)


MODELS = {
    'mlp': (dict(name='mlp', widths=(32, 16), activation='tanh'), (8, 8, 1)),
    'vgg': (dict(name='vgg', channels=(4, 8), activation='relu'), (12, 12, 3)),
    'resmlp': (dict(name='resmlp', depth=4, width=16, activation='tanh', param='mupc', output_multiplier=1.0),
               (8, 8, 1)),
}


def _inputs(model, params, x):
  """[x, z_1, ...] off the forward pass (random), and each block's input as its pieces see it."""
  zs = model.forward(params, x)
  keys = jax.random.split(jax.random.key(7), len(zs))
  inputs = [x] + [jax.random.normal(k, z.shape) for k, z in zip(keys, zs[:-1])]
  seen = list(inputs)
  for l in range(model.num_layers):
    if model.stack_size(l):      # layer k of a stack reads layer k-1, the first the entry below;
      seen[l] = jnp.concatenate([inputs[l][None], inputs[l + 1][:-1]])
      seen[l + 1] = inputs[l + 1][-1]      # the block above reads its last layer
  return inputs, seen


@pytest.mark.parametrize('name', list(MODELS))
def test_each_block_is_its_linear_map_of_phi_plus_skip(name):
  model, params = _model(*MODELS[name])
  x = jax.random.normal(jax.random.key(1), (3, *MODELS[name][1]))
  inputs, seen = _inputs(model, params, x)

  @jax.jit
  def both(params, inputs, seen):
    pieces = [model.linear(params, l, model.phi(params, l, z)) for l, z in enumerate(seen)]
    return model.predict(params, inputs), [p + s * z if s else p for p, s, z in zip(pieces, model.skips, seen)]

  for mu, want in zip(*both(params, inputs, seen), strict=True):
    np.testing.assert_allclose(mu, want, rtol=1e-5, atol=1e-5)
  assert model.skips == ((0.0, 1.0, 0.0) if name == 'resmlp' else (0.0,) * model.num_layers)
  assert sorted(k.shape for k in model.kernels(params)) == sorted(
      np.shape(leaf) for leaf in jax.tree.leaves(params) if np.ndim(leaf) >= 2)
  assert model.kernel_shapes == tuple(k.shape for k in model.kernels(params))


@pytest.mark.parametrize('name', list(MODELS))
def test_transpose_is_the_adjoint_of_the_linear_map_with_any_kernel(name):
  """<linear(h), d> = <h, transpose(d)>, for the block's kernel (bias off) and a DFA-shaped substitute."""
  model, params = _model(*MODELS[name])
  x = jax.random.normal(jax.random.key(1), (3, *MODELS[name][1]))
  _, seen = _inputs(model, params, x)

  @jax.jit
  def pairs(params, seen):
    out = []
    for l, kernel in enumerate(model.kernels(params)):
      h = model.phi(params, l, seen[l])
      for k in (kernel, jax.random.normal(jax.random.key(l), kernel.shape[:-1] + (10,))):
        y = model.linear(params, l, h, k)
        d = jax.random.normal(jax.random.key(10 + l), y.shape)
        out.append((jnp.vdot(y, d), jnp.vdot(h, model.transpose(params, l, h, d, None if k is kernel else k))))
    return out

  for left, right in pairs(params, seen):
    np.testing.assert_allclose(left, right, rtol=1e-4)


@pytest.mark.parametrize('name', list(MODELS))
def test_feedback_changes_the_gradient_below_each_block_and_nothing_else(name):
  """forward(feedback=W) is backprop; other feedback keeps the values and the output block's gradient."""
  model, params = _model(*MODELS[name])
  x = jax.random.normal(jax.random.key(1), (3, *MODELS[name][1]))
  kernels = model.kernels(params)
  random = [jax.random.normal(jax.random.key(i), k.shape) for i, k in enumerate(kernels)]

  @jax.jit
  def run(params, random):
    loss = lambda p, fb: jnp.sum(jnp.sin(model.forward(p, x, fb)[-1]))
    grads = [jax.grad(loss)(params, fb) for fb in (None, model.kernels(params), random)]
    return model.forward(params, x, random)[-1], model.output(params, x), grads

  out_fa, out, (bp, same, fa) = run(params, random)
  np.testing.assert_array_equal(out_fa, out)
  for a, b in zip(jax.tree.leaves(same), jax.tree.leaves(bp), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(model.kernels(fa)[-1], model.kernels(bp)[-1], rtol=1e-5)
  assert not np.allclose(model.kernels(fa)[0], model.kernels(bp)[0], rtol=1e-2)


FEEDFORWARD = {
    **{name: cfg for name, cfg in MODELS.items() if name != 'resmlp'},
    **{f'resmlp-{param}-{act}': (dict(name='resmlp', depth=8, width=32, activation=act, param=param,
                                      output_multiplier=1.0), (8, 8, 1))
       for param in ('mupc', 'sp', 'mup_noskip') for act in ('relu', 'tanh')},
}


@pytest.mark.parametrize('name', list(FEEDFORWARD))
def test_errors_after_the_forward_pass_are_exactly_zero(name):
  """predict(forward(x)) == forward(x) bit for bit (float32), as PC's error wave assumes."""
  model, params = _model(*FEEDFORWARD[name])
  x = jax.random.normal(jax.random.key(3), (16, *FEEDFORWARD[name][1]))

  @jax.jit
  def errors(params, x):
    zs = model.forward(params, x)
    return [z - mu for z, mu in zip(zs, model.predict(params, [x, *zs[:-1]]))]

  for e in errors(params, x):
    assert e.dtype == jnp.float32
    assert float(jnp.max(jnp.abs(e))) == 0.0


def _sum_pool(z, ceil):
  """2x2 stride-2 sum pooling, written independently of the models: 'SAME' (ceil) or 'VALID'."""
  return jax.lax.reduce_window(z, 0.0, jax.lax.add, (1, 2, 2, 1), (1, 2, 2, 1), 'SAME' if ceil else 'VALID')


FEEDBACK_MODELS = {   # odd image sizes: pooling rounds up (vgg) or down (rescnn); the shapes of z_1..z_L for B = 3
    # (a dense block's backward is its transpose, tested above, reshaped)
    'vgg': (MODELS['vgg'][0], (11, 11, 3), lambda l, z: z if l == 0 else _sum_pool(z, True).reshape(
        (len(z), -1) if l == 2 else _sum_pool(z, True).shape), [(3, 11, 11, 4), (3, 6, 6, 8), (3, 10)]),
    'rescnn': (dict(name='rescnn', width=4, blocks=1, activation='tanh', param='mupc', output_multiplier=1.0),
               (13, 13, 1), None, [(3, 13, 13, 4)] * 2 + [(3, 6, 6, 4)] * 2 + [(3, 3, 3, 4)] * 2 + [(3, 10)]),
}


@pytest.mark.parametrize('name', list(FEEDBACK_MODELS))
def test_backward_is_the_adjoint_of_the_linearised_block_and_needs_no_input(name):
  """<backward(l, d), z> = <d, K P_l(z) + skip z> for K = W_l and a substitute: P_l is phi_l with act the
  identity and pooling by sum (vgg) or average (rescnn, floor); backward is given d alone, and
  shapes(input_shape) are those of z_1..z_L."""
  cfg, shape, linearised, shapes = FEEDBACK_MODELS[name]
  model = models.functional(ml_collections.ConfigDict(cfg), shape, 10)
  params = jax.jit(model.init)(jax.random.key(0))
  assert model.shapes((3, *shape)) == shapes and model.shapes()[-1] == (1, 10)

  rng = np.random.default_rng(0)       # NumPy draws: threefry inside the program would triple its compile time
  draw = lambda shape: rng.standard_normal(shape).astype(np.float32)
  data = [(draw((3, *shape) if l == 0 else shapes[l - 1]), draw(shapes[l]), draw(model.kernel_shapes[l]))
          for l in range(model.num_layers)]

  @jax.jit
  def pairs(params, data):
    module, out = nnx.merge(model.graphdef, params), []
    for l, (z, d, substitute) in enumerate(data):
      if linearised is not None:
        h = linearised(l, z)
      elif module.residual[l] or l == 0:
        h = z
      else:
        h = _sum_pool(z, False) / 4
        h = h.reshape(len(h), -1) if l == model.num_layers - 1 else h
      for kernel in (None, substitute):   # W_l, and a substitute of its shape (an inverse's, a feedback matrix)
        forward = module.apply(l, h, module.kernel(l) if kernel is None else kernel)
        forward = forward + model.skips[l] * z if model.skips[l] else forward
        out.append((jnp.vdot(model.backward(params, l, d, kernel), z), jnp.vdot(d, forward)))
    return out

  for left, right in pairs(params, data):
    np.testing.assert_allclose(left, right, rtol=1e-4)
  assert np.allclose(model.activation(jnp.linspace(-2.0, 2.0, 5)),
                     (jnp.tanh if cfg['activation'] == 'tanh' else jax.nn.relu)(jnp.linspace(-2.0, 2.0, 5)))
