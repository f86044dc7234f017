"""Hybrid PC: the amortiser starts as the network and learns to guess lower-energy activities."""
import jax
import numpy as np
from helpers import batch, make_rule, tiny_mlp


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

