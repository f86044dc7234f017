"""Hybrid PC: the amortiser starts as the network and learns to guess lower-energy activities."""
import jax
import jax.numpy as jnp
import numpy as np
from helpers import batch, make_rule, tiny_mlp

import local_learning as ll


def test_the_amortised_guess_lowers_the_energy_before_inference_as_it_trains():
  """The network's weights held still, the energy at the amortiser's guess starts at the
  feedforward pass's (the amortiser is a copy) and falls below it: the guess learns the
  label's pull on the activities, which the feedforward pass lacks."""
  model, _ = tiny_mlp()
  x, y = batch(n=64)
  hpc = make_rule('hpc', model, num_steps=100)
  step = jax.jit(hpc.train_step)
  state = hpc.init(jax.random.key(0))
  frozen = dict(params=state['params'], opt_state=state['opt_state'])
  guess, feedforward = [], []
  for _ in range(60):
    new_state, metrics = step(state, (x, y), None)
    state = dict(new_state, **frozen)
    guess.append(float(metrics['guess_energy']))
    feedforward.append(float(metrics['loss']))      # mse, beta = 1: the energy at the feedforward pass
  np.testing.assert_allclose(guess[0], feedforward[0], rtol=1e-6)
  assert guess[-1] < 0.8 * feedforward[-1]
  assert all(np.diff(guess[::10]) < 0)
  trained, _ = step(state, (x, y), None)     # trained alongside: both networks move; the network is evaluated
  for name in ('params', 'amortiser'):
    assert any(np.any(a != b) for a, b in zip(jax.tree.leaves(state[name]), jax.tree.leaves(trained[name])))
  assert hpc.params(trained) is trained['params']



def test_hpc_weight_updates_are_pcs_from_the_guess_and_the_amortisers_regression():
  """Under SGD of rate 1: the network moves by -dF/dW at inference started from the amortiser's guess
  (not from the feedforward pass), the amortiser by -grad of sum_l 1/2 ||a_l(guess_{l-1}) - z_l||^2 + loss
  (batch mean), z the settled activities."""
  model, params = tiny_mlp()
  x, y = batch(n=64)
  sgd = ll.optim.default_config(name='sgd', learning_rate=1.0, weight_decay=0.0)
  hpc = make_rule('hpc', model, optimizer=sgd)
  amortiser = model.init(jax.random.key(5))
  state = dict(hpc.init(jax.random.key(0)), params=params, amortiser=amortiser)
  new, _ = jax.jit(hpc.train_step)(state, (x, y), None)
  guess = model.forward(amortiser, x)[:-1]
  settled = hpc.settle(params, x, y, 1.0, init=guess)
  want, _ = ll.pc.weight_grads(model, params, settled.hidden, x, settled.output, 1.0)
  moved = jax.tree.map(lambda a, b: a - b, params, new['params'])
  flat = lambda t: np.concatenate([np.ravel(a) for a in jax.tree.leaves(t)])
  np.testing.assert_allclose(flat(moved), flat(want), rtol=1e-4, atol=1e-6)
  from_feedforward = hpc.grads(state, (x, y), None)[0]
  assert np.max(np.abs(flat(moved) - flat(from_feedforward))) > 1e-3

  def regression(a):
    inputs = [x, *guess]
    mus = [model.linear(a, l, model.phi(a, l, z)) for l, z in enumerate(inputs)]
    return jnp.mean(sum(0.5 * jnp.sum(jnp.square(mu - z), axis=-1) for mu, z in zip(mus, settled.hidden))
                    + hpc.loss(mus[-1], y))

  want = jax.grad(regression)(amortiser)
  np.testing.assert_allclose(flat(jax.tree.map(lambda a, b: a - b, amortiser, new['amortiser'])), flat(want),
                             rtol=1e-4, atol=1e-6)
