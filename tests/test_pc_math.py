"""Properties of the PC energy and its gradients."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import batch, energy, infer, make_rule, plain_pc_inference, tiny_mlp


@pytest.mark.parametrize('loss', ['mse', 'ce'])
def test_feedforward_init_zeroes_hidden_errors_and_energy_is_output_loss(loss):
  model, params = tiny_mlp()
  pc = make_rule('pc', model, loss=loss)
  x, y = batch()
  zs = model.forward(params, x)
  mus = model.predict(params, [x, *zs[:-1]])
  for z, mu in zip(zs[:-1], mus[:-1]):
    np.testing.assert_allclose(z, mu, atol=1e-6)
  np.testing.assert_allclose(energy(pc, params, zs[:-1], x, y), pc.loss(zs[-1], y), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('momentum', [0.0, 0.9])
@pytest.mark.parametrize('steps', [1, 2, 6])
def test_skipping_blocks_below_the_error_wave_is_exact(momentum, steps):
  """infer() predicts only the entries the errors have reached; plain steps agree."""
  model, params = tiny_mlp(widths=(16, 16, 16, 16))
  pc = make_rule('pc', model, inference_steps=steps, activity_lr=0.2, activity_momentum=momentum)
  x, y = batch()
  got, _ = infer(pc, params, x, y)
  want = plain_pc_inference(pc, params, x, y)
  for g, w in zip(got, want):
    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
  moved = [float(jnp.max(jnp.abs(g - z))) for g, z in zip(got, model.forward(params, x))]
  assert (np.array(moved) > 1e-4).sum() == min(steps, 4)    # the wave: one entry per step


def test_inference_lowers_the_energy():
  model, params = tiny_mlp()
  pc = make_rule('pc', model, inference_steps=20, activity_lr=0.1)
  x, y = batch()
  hidden, output = infer(pc, params, x, y)
  assert jnp.sum(energy(pc, params, hidden, x, y)) < 0.9 * jnp.sum(pc.loss(output, y))


def _cosine(a, b):
  a, b = np.ravel(a), np.ravel(b)
  return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize('loss', ['mse', 'ce'])
def test_nudged_pc_weight_gradients_match_backprop(loss):
  """With the output nudged by a small beta, dF/dW / beta at equilibrium -> dL/dW."""
  model, params = tiny_mlp()
  x, y = batch()
  bp = make_rule('bp', model, loss=loss)
  pc = make_rule('pc', model, loss=loss, beta=1e-3, inference_steps=200, activity_lr=0.1)
  bp_grads = jax.grad(lambda p: jnp.mean(bp.loss(model.output(p, x), y)))(params)
  pc_grads, _ = pc.grads(dict(params=params), (x, y), None)
  pairs = list(zip(jax.tree.leaves(bp_grads), jax.tree.leaves(pc_grads)))
  assert len(pairs) == 6        # 3 layers x (kernel, bias)
  for g_bp, g_pc in pairs:
    assert _cosine(g_bp, g_pc) > 0.99


def test_large_beta_pc_gradients_differ_from_backprop():
  """The property above is not trivial: clamping the output hard moves away from BP."""
  model, params = tiny_mlp()
  x, y = batch()
  bp = make_rule('bp', model, loss='mse')
  pc = make_rule('pc', model, loss='mse', beta=50.0, inference_steps=200, activity_lr=0.01)
  bp_grads = jax.grad(lambda p: jnp.mean(bp.loss(model.output(p, x), y)))(params)
  pc_grads, _ = pc.grads(dict(params=params), (x, y), None)
  cosines = [_cosine(a, b) for a, b in zip(jax.tree.leaves(bp_grads), jax.tree.leaves(pc_grads))]
  assert min(cosines) < 0.99
