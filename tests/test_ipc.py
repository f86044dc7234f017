"""Incremental PC: with weights held still it is PC's inference; its first weight step."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from helpers import batch, make_rule, plain_pc_inference, tiny_mlp

import local_learning as ll

SGD = ll.optim.default_config(name='sgd', learning_rate=1.0, weight_decay=0.0)    # update = -gradient


def _flat(tree):
  return np.concatenate([np.ravel(a) for a in jax.tree.leaves(tree)])


@pytest.mark.parametrize('schedule', ['simultaneous', 'sequential'])
def test_ipc_with_a_zero_weight_rate_performs_pcs_inference(schedule):
  model, params = tiny_mlp(widths=(16, 16, 16))
  x, y = batch()
  ipc = make_rule('ipc', model, schedule=schedule, inference_steps=5, activity_lr=0.2, activity_momentum=0.5)
  ipc.tx = optax.set_to_zero()
  hidden, new_params, _, _ = jax.jit(ipc.learn)(params, ipc.tx.init(params), x, y)
  pc = make_rule('pc', model, inference_steps=5, activity_lr=0.2, activity_momentum=0.5)
  for got, want in zip(hidden, plain_pc_inference(pc, params, x, y)):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(_flat(new_params), _flat(params))


def test_one_sequential_step_is_one_step_of_pc():
  """T = 1: one activity step, then the weight step at the new activities, as PC's update."""
  model, params = tiny_mlp()
  x, y = batch()
  ipc = make_rule('ipc', model, schedule='sequential', inference_steps=1, activity_lr=0.3, optimizer=SGD)
  pc = make_rule('pc', model, inference_steps=1, activity_lr=0.3, optimizer=SGD)
  _, new_params, _, _ = jax.jit(ipc.learn)(params, ipc.tx.init(params), x, y)
  pc_grads, _ = jax.jit(pc.grads)(dict(params=params), (x, y), None)
  np.testing.assert_allclose(_flat(params) - _flat(new_params), _flat(pc_grads), rtol=1e-5, atol=1e-7)


def test_the_first_simultaneous_step_learns_only_the_output_block():
  """At the feedforward state every hidden error is zero: the first weight step is BP's for the
  output block and nothing for the blocks below (PCX's iPC schedule)."""
  model, params = tiny_mlp()
  x, y = batch()
  ipc = make_rule('ipc', model, inference_steps=1, activity_lr=0.3, optimizer=SGD)
  _, new_params, _, _ = jax.jit(ipc.learn)(params, ipc.tx.init(params), x, y)
  step = [np.ravel(a - b) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(new_params))]
  bp = jax.grad(lambda p: jnp.mean(ipc.loss(model.output(p, x), y)))(params)
  moved = [i for i, s in enumerate(step) if np.any(s != 0)]
  assert len(moved) == 2     # the output block's kernel and bias
  for i in moved:
    np.testing.assert_allclose(step[i], np.ravel(jax.tree.leaves(bp)[i]), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('schedule', ['simultaneous', 'sequential'])
def test_a_weight_step_follows_each_of_the_t_inference_steps(schedule):
  """T = 3 under SGD of rate 0.05: ipc's batch is, written out, 3 rounds of one gd activity step on F at the
  current weights and one weight step of -0.05 dF/dW (at the old activities, or the new ones if sequential)."""
  model, params = tiny_mlp()
  x, y = batch()
  lr, activity_lr = 0.05, 0.2
  sgd = ll.optim.default_config(name='sgd', learning_rate=lr, weight_decay=0.0)
  ipc = make_rule('ipc', model, schedule=schedule, inference_steps=3, activity_lr=activity_lr, optimizer=sgd)
  _, got, _, _ = jax.jit(ipc.learn)(params, ipc.tx.init(params), x, y)
  feedforward = model.forward(params, x)
  output = ll.pc.nudged_loss(ipc.loss, y, 1.0)
  hidden, want = list(feedforward[:-1]), params
  for _ in range(3):
    grad = jax.grad(lambda h: jnp.sum(ll.pc.energy(model, want, h, x, output)))(hidden)
    moved = [h - activity_lr * g for h, g in zip(hidden, grad)]
    weight_grad, _ = ll.pc.weight_grads(model, want, moved if schedule == 'sequential' else hidden, x, output, 1.0)
    want = jax.tree.map(lambda p, g: p - lr * g, want, weight_grad)
    hidden = moved
  np.testing.assert_allclose(_flat(got), _flat(want), rtol=1e-5, atol=1e-6)
  once = jax.tree.map(lambda p, g: p - 3 * lr * g, params,
                      ll.pc.weight_grads(model, params, hidden, x, output, 1.0)[0])
  assert np.max(np.abs(_flat(got) - _flat(once))) > 1e-4      # not one step of T times the rate at the end
