"""Hybrid PC as Tschantz et al. and JPC's make_hpc_step: a generator (label -> image) whose inference the
amortiser (the model, image -> label) starts; both updates against hand-written formulas."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import batch, make_rule, tiny_mlp

import local_learning as ll

SGD = ll.optim.default_config(name='sgd', learning_rate=1.0, weight_decay=0.0)


def _flat(tree):
  return np.concatenate([np.ravel(a) for a in jax.tree.leaves(tree)])


def test_both_updates_are_the_hand_derived_gradients_from_the_amortised_guess():
  """T = 0: the generator's activities stay at the amortiser's guess, reversed (z_l = a_{L-l}); under SGD
  of rate 1 the generator moves by (1/B) h_l^T e_{l+1} (h_0 the label, h_l = tanh(z_l), e the errors,
  the last the image's) and the amortiser by -grad of JPC's hpc_energy_fn, sum_l ||z_{L-l} - f_l(a_{l-1})||^2
  + ||onehot - f_L(a_{L-1})||^2 (batch mean), written out here with numpy's formulas."""
  model, _ = tiny_mlp()
  x, y = batch(n=16)
  hpc = make_rule('hpc', model, optimizer=SGD, inference_steps=0)
  state = hpc.init(jax.random.key(0))
  new, _ = jax.jit(hpc.train_step)(state, (x, y), None)
  a = [np.asarray(v, np.float64) for v in model.forward(state['params'], x)]          # a_1 .. a_L
  image, label = np.asarray(x, np.float64).reshape(len(x), -1), np.eye(10)[np.asarray(y)]
  z = [label, *a[-2::-1], image]                                                      # z_0 .. z_L
  kernels = [np.asarray(g['kernel'], np.float64) for g in state['generator']]
  h = [z[0]] + [np.tanh(v) for v in z[1:-1]]
  errors = [z[l + 1] - h[l] @ kernels[l] for l in range(len(kernels))]
  for l, (old, moved) in enumerate(zip(kernels, new['generator'])):
    np.testing.assert_allclose(old - np.asarray(moved['kernel']), -h[l].T @ errors[l] / len(x), rtol=2e-4,
                               atol=1e-6)

  amortiser = state['params']

  def jpc_energy(p):
    inputs = [x.reshape(len(x), -1)] + [jnp.tanh(v) for v in model.forward(amortiser, x)[:-1]]
    targets = [*z[-2:0:-1], label]
    mus = [h @ k + b for h, k, b in zip(inputs, _kernels(p), _biases(p))]
    return sum(jnp.sum(jnp.square(t - mu)) for t, mu in zip(targets, mus)) / len(x)

  want = jax.grad(jpc_energy)(amortiser)
  np.testing.assert_allclose(_flat(jax.tree.map(jnp.subtract, amortiser, new['params'])), _flat(want),
                             rtol=2e-4, atol=1e-6)


def _kernels(params):
  return [params['layers'][l]['kernel'][...] for l in range(len(params['layers']))]


def _biases(params):
  return [params['layers'][l]['bias'][...] for l in range(len(params['layers']))]


@pytest.mark.parametrize('solver', ['gd', 'adaptive'])
def test_inference_from_the_generators_fixed_point_does_not_move(solver):
  """The generator's feedforward pass from a label, with the image its prediction, has zero energy and zero
  gradient: inference started there (as from a perfect amortised guess) stays there; from a perturbed
  start it lowers the energy."""
  model, _ = tiny_mlp()
  _, y = batch(n=8)
  hpc = make_rule('hpc', model, activity_solver=solver, inference_steps=20)
  state = hpc.init(jax.random.key(0))
  params, generator = state['params'], state['generator']
  label = jax.nn.one_hot(y, 10)
  zs = [label]
  for l in range(len(generator)):
    zs.append(hpc.block(params, generator, l, zs[-1]))
  hidden, image = zs[1:-1], zs[-1]
  energy = lambda hs: hpc.energy(params, generator, label, hs, image)
  assert float(jnp.max(energy(hidden))) == 0.0
  settled, _ = hpc.infer_generator(energy, hidden, hpc.solver(8))
  np.testing.assert_array_equal(_flat(settled), _flat(hidden))
  pushed = [v + 0.3 for v in hidden]
  settled, _ = hpc.infer_generator(energy, pushed, hpc.solver(8))
  assert float(jnp.mean(energy(settled))) < 0.5 * float(jnp.mean(energy(pushed)))


def test_predictions_amortised_is_the_models_output_and_hybrid_refines_it():
  """'amortised' is the amortiser's feedforward output; 'hybrid' infers the label from it with the image
  clamped, lowering the generator's energy below the guess's; 'generator' starts from N(0, 0.05^2)."""
  model, _ = tiny_mlp()
  x, _ = batch(n=8)
  rules = {p: make_rule('hpc', model, prediction=p, prediction_steps=30) for p in ('amortised', 'hybrid',
                                                                                  'generator')}
  state = rules['hybrid'].init(jax.random.key(0))
  guess = model.forward(state['params'], x)
  np.testing.assert_array_equal(rules['amortised'].output(state, x), guess[-1])
  hpc, params, generator = rules['hybrid'], state['params'], state['generator']
  image = x.reshape(len(x), -1)
  energy = lambda top, hidden: jnp.mean(hpc.energy(params, generator, top, hidden, image))
  label = hpc.output(state, x)
  assert label.shape == (8, 10) and not np.allclose(label, guess[-1])
  assert energy(label, guess[-2::-1]) < energy(guess[-1], guess[-2::-1])
  assert rules['generator'].output(state, x).shape == (8, 10)


def test_hpc_refuses_models_without_dense_blocks_and_unknown_predictions():
  with pytest.raises(ll.UserError, match='needs the mlp model'):
    make_rule('hpc', ll.testing.tiny_model('vgg'))
  with pytest.raises(ll.UserError, match='unknown prediction'):
    make_rule('hpc', tiny_mlp()[0], prediction='best')


def test_prediction_lowers_the_energy_where_a_fixed_activity_step_would_diverge():
  """A generator whose first kernel is 10x its initial scale puts the free label's curvature above 2 /
  activity_lr (0.1): plain gradient descent from the guess diverges, hybrid prediction stays finite and
  ends below the guess's energy."""
  model, _ = tiny_mlp()
  x, _ = batch(n=8)
  hpc = make_rule('hpc', model, prediction_steps=64)
  state = hpc.init(jax.random.key(0))
  generator = [dict(kernel=10 * state['generator'][0]['kernel']), *state['generator'][1:]]
  state = dict(state, generator=generator)
  params, image = state['params'], x.reshape(len(x), -1)
  guess = model.forward(params, x)
  start = [guess[-1], *guess[-2::-1]]
  energy = lambda zs: hpc.energy(params, generator, zs[0], zs[1:], image)
  plain, _ = hpc.infer_generator(energy, start, dataclasses.replace(hpc.solver(8), steps=64))
  assert not np.all(np.abs(np.asarray(plain[0])) < 1e6)
  label = jax.jit(hpc.output)(state, x)
  hidden = ll.pc.backtracking_descent(energy, start, 64, hpc.solver(8).lr)[0]
  np.testing.assert_allclose(label, hidden[0], rtol=1e-6)
  assert np.all(np.isfinite(label))
  assert np.all(np.asarray(energy(hidden)) < np.asarray(energy(start)))
