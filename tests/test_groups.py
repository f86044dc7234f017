"""resmlp's groups are a layout of the same network, and PC's error wave skips whole groups exactly."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import local_learning as ll
from local_learning import testing
from local_learning.models import residual
from local_learning.pc import solvers

DEPTH = 7       # 6 stacked hidden layers


def _model(groups):
  return testing.tiny_model('resmlp', depth=DEPTH, groups=groups, activation='relu')


def test_groups_split_the_stack_into_consecutive_entries():
  model = _model(3)
  assert model.stacks == (0, 2, 2, 2, 0)
  assert model.skips == (0.0, 1.0, 1.0, 1.0, 0.0)
  params = model.init(jax.random.key(0))
  np.testing.assert_array_equal(jnp.concatenate(model.kernels(params)[1:-1]), params['w_hidden'][...])


@pytest.mark.parametrize('rule', ['mupc', 'bp'])
def test_the_gradients_do_not_depend_on_the_grouping(rule):
  x, y = testing.batch()
  grads = {}
  for groups in (1, 3):
    model = _model(groups)
    params = model.init(jax.random.key(0))
    zs = model.forward(params, x)
    assert len(zs) == groups + 2 and sum(z.shape[0] for z in zs[1:-1]) == DEPTH - 1
    trained = testing.make_rule(rule, model, inference_steps=DEPTH, activity_lr=0.3) if rule == 'mupc' else \
        testing.make_rule(rule, model)
    grads[groups] = jax.jit(trained.grads)(dict(params=params), (x, y), None)[0]
  # The lowest layers' gradients are at float32's rounding level of the largest: compare on that scale.
  scale = max(float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(grads[1]))
  for a, b in zip(jax.tree.leaves(grads[1]), jax.tree.leaves(grads[3])):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize('name, momentum', [('gd', 0.0), ('gd', 0.9), ('heun', 0.0)])
def test_skipping_groups_below_the_error_wave_is_exact(name, momentum):
  """With groups of 2 layers, only the layers the wave reached move, and they move as without skipping."""
  model = _model(3)
  params = model.init(jax.random.key(0))
  x, y = testing.batch()
  feedforward = model.forward(params, x)
  output = ll.pc.nudged_loss(ll.classification.loss_fn('mse'), y, 1.0)
  sizes = [model.stack_size(l) or 1 for l in range(model.num_layers - 1)]
  assert sizes == [1, 2, 2, 2]
  full = lambda h, _: jax.grad(lambda h: jnp.sum(ll.pc.energy(model, params, h, x, output)))(h)
  for steps in ((1, 2) if name == 'heun' else (1, 3)):
    solver = ll.pc.ActivitySolver(name, steps, 0.2, momentum)
    plain, _ = jax.jit(lambda h: solver.run(full, h))(feedforward[:-1])
    skipped, _ = jax.jit(lambda: ll.pc.infer(model, params, x, output, solver, feedforward))()
    for a, b in zip(skipped, plain):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    layers = lambda hidden: [h for entry, size in zip(hidden, sizes) for h in (entry if size > 1 else [entry])]
    moved = [float(jnp.max(jnp.abs(a - b))) for a, b in zip(layers(skipped), layers(feedforward[:-1]))]
    reached = min(solver.stages * steps, len(moved))
    assert [m > 1e-6 for m in moved] == [False] * (len(moved) - reached) + [True] * reached


def test_the_wave_holds_an_entry_until_an_error_inside_it_moves():
  assert solvers.wave_bottoms([1] * 5, 6) == [4, 3, 2, 1, 0, 0]        # one entry per step, as before
  assert solvers.wave_bottoms([1] * 5, 3, stages=2) == [3, 1, 0]
  assert solvers.wave_bottoms([1, 4, 3], 7) == [2, 1, 1, 1, 0, 0, 0]   # a stack: held until its errors move


def test_more_groups_than_stacked_layers_is_a_mistake():
  fields = dict(depth=4, width=8, activation='relu', param='mupc', output_multiplier=1.0, groups=4)
  problems = residual.ResidualMLP.problems(ml_collections.ConfigDict(fields))
  assert problems == ['config.model.groups=4 exceeds the 3 stacked hidden layers of depth 4; use at most depth - 1']


def test_depth_configs_choose_valid_groups_at_every_depth():
  from configs import depth as depth_config  # pylint: disable=import-outside-toplevel
  for depth in range(2, 257):
    config = depth_config.get_config(f'depth={depth},dataset=digits')
    assert residual.ResidualMLP.problems(config.model) == [], depth
  assert [depth_config.stack_groups(h) for h in (8, 16, 32, 64, 127, 128)] == [1, 5, 11, 16, 16, 8]
