"""Bidirectional PC: PC when the top-down energy is off; inference lowers the joint energy;
the top-down network learns to generate the input from the label; local weight updates."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import batch, make_rule, tiny_mlp

import local_learning as ll


def test_with_the_top_down_energy_off_bpc_updates_the_weights_as_pc_does():
  """gen_weight = 0 leaves PC's energy: the same inference (every block evaluated instead of the
  error wave) and the same weight step, from the same initial weights."""
  model, _ = tiny_mlp()
  x, y = batch()
  settings = dict(loss='mse', inference_steps=4, activity_lr=0.2, activity_momentum=0.5)
  pc = make_rule('pc', model, **settings)
  bpc = make_rule('bpc', model, gen_weight=0.0, **settings)
  pc_state, pc_metrics = jax.jit(pc.train_step)(pc.init(jax.random.key(0)), (x, y), None)
  bpc_state, bpc_metrics = jax.jit(bpc.train_step)(bpc.init(jax.random.key(0)), (x, y), None)
  for a, b in zip(jax.tree.leaves(pc_state['params']), jax.tree.leaves(bpc_state['params'])):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(pc_metrics['energy'], bpc_metrics['energy'], rtol=1e-5)


def test_inference_lowers_the_joint_energy_step_by_step():
  """From the feedforward pass, the energy after T steps (the step's metric, at the weights
  before the update) falls with T while both parts pull on the activities."""
  model, _ = tiny_mlp()
  x, y = batch()
  energies = []
  for steps in (0, 1, 3, 9):
    bpc = make_rule('bpc', model, loss='mse', gen_weight=0.5, inference_steps=steps, activity_lr=0.1)
    energies.append(float(jax.jit(bpc.train_step)(bpc.init(jax.random.key(0)), (x, y), None)[1]['energy']))
  assert all(np.diff(energies) < 0), energies
  assert energies[-1] < 0.85 * energies[0], energies


def test_the_top_down_network_learns_to_generate_each_class_from_its_label():
  """Inputs are class prototypes plus small noise; with one-hot labels at the top, the best
  top-down prediction of an input is its class's prototype: training brings generate(label)
  to it while the bottom-up network learns to classify."""
  model, _ = tiny_mlp()
  _, y = batch(n=64)
  prototypes = jax.random.normal(jax.random.key(5), (10, 8, 8, 1))
  x = prototypes[y] + 0.1 * jax.random.normal(jax.random.key(6), (64, 8, 8, 1))
  config = make_rule('bpc', model, loss='mse', gen_weight=1.0).config
  config.optimizer.learning_rate = 1e-2
  bpc = type(make_rule('bpc', model))(model, config, num_steps=150)
  step = jax.jit(bpc.train_step)
  state = bpc.init(jax.random.key(0))
  distance = lambda state: float(jnp.mean(jnp.square(bpc.generate(state, jnp.arange(10)) - prototypes.reshape(10, -1))))
  start = distance(state)
  losses = []
  for _ in range(150):
    state, metrics = step(state, (x, y), None)
    losses.append(float(metrics['generation_loss']))
  assert distance(state) < 0.05 * start
  assert losses[-1] < 0.1 * losses[0]
  assert jnp.mean(jnp.argmax(bpc.output(state, x), -1) == y) == 1.0


def test_each_weight_learns_from_its_own_error_only():
  """dF/dG_l = -gen_weight h_{l+1}^T e_l / B, with e_l = z_l - g_l(z_{l+1}) the top-down error
  it makes: a Hebbian product of its input and its error, nothing else."""
  model, params = tiny_mlp()
  x, y = batch()
  bpc = make_rule('bpc', model, loss='mse', gen_weight=0.3)
  generative = bpc.init(jax.random.key(0))['generative']
  hidden = [z + 0.1 * jax.random.normal(jax.random.key(l), z.shape)
            for l, z in enumerate(model.forward(params, x)[:-1])]
  label = jax.nn.one_hot(y, 10)
  output = bpc.output_term(y, None, 1.0)
  grads = jax.grad(lambda g: jnp.mean(bpc.energy(params, g, hidden, x, label, output)))(generative)
  below = [x.reshape(len(x), -1), *hidden]
  above = [jnp.tanh(z) for z in hidden] + [label]
  for g, grad, z, h in zip(generative, grads, below, above):
    error = z - (h @ g['kernel'] + g['bias'])
    np.testing.assert_allclose(grad['kernel'], -0.3 * h.T @ error / len(x), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('name', ['vgg', 'resmlp'])
def test_models_without_a_dense_mirror_are_refused(name):
  with pytest.raises(ll.UserError, match='bpc needs the mlp model'):
    make_rule('bpc', ll.testing.tiny_model(name))
