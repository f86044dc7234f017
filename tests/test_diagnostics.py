"""bp_alignment: a rule's update direction against BP's gradient at the same weights."""
import json

import jax
import numpy as np
import pytest

import local_learning as ll
from local_learning import diagnostics, testing


@pytest.fixture(scope='module')
def model():
  return testing.tiny_model('mlp')


def _alignment(name, model, state_fn=None, **overrides):
  rule = testing.make_rule(name, model, **overrides)
  state = rule.init(jax.random.key(0))
  if state_fn:
    state = state_fn(rule, state)
  return jax.jit(lambda s: diagnostics.bp_alignment(rule, s, testing.batch()))(state)


def test_bp_against_itself_is_exactly_one(model):
  out = _alignment('bp', model)
  np.testing.assert_allclose(out['cosine'], 1.0, atol=1e-6)
  np.testing.assert_allclose(out['norm_ratio'], 1.0, atol=1e-6)
  assert set(out['per_layer']) == {f'layers/{l}/{p}' for l in range(3) for p in ('kernel', 'bias')}
  assert 'energy_loss_ratio' not in out


def test_fa_with_feedback_equal_to_w_is_bp(model):
  same = lambda rule, state: dict(state, feedback=rule.model.kernels(state['params'])[1:])
  out = _alignment('fa', model, same)
  np.testing.assert_allclose(out['cosine'], 1.0, atol=1e-6)
  np.testing.assert_allclose(out['norm_ratio'], 1.0, atol=1e-5)
  random = _alignment('fa', model)                    # random feedback: the output layer still agrees
  assert random['cosine'] < 0.99
  np.testing.assert_allclose(random['per_layer']['layers/2/kernel']['cosine'], 1.0, atol=1e-6)


def test_pc_with_a_vanishing_nudge_approaches_bp(model):
  """dF/dW / beta at the nudged equilibrium -> dL/dW as beta -> 0 (EP's estimator); clamped
  (beta = 1) it is not BP's, and inference lowers the energy below the feedforward loss."""
  errors = []
  for beta in (1.0, 0.05, 0.005):
    out = _alignment('pc', model, beta=beta, inference_steps=60, activity_lr=0.2)
    errors.append(1.0 - float(out['cosine']))
    assert 0.0 < out['energy_loss_ratio'] < beta    # the feedforward state has F = beta * L
  assert errors[0] > 0.05 and errors[0] > errors[1] > errors[2]
  assert errors[2] < 1e-3


def _direction(rule, state):
  return diagnostics.rule_direction(rule, state, testing.batch(), jax.random.key(2))[0]


def _flat(tree):
  return np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(tree)])


def _relative_difference(a, b):
  a, b = _flat(a), _flat(b)
  return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize('name,overrides', [
    ('ipc', {}),
    ('hpc', {}),                          # params: the amortiser, trained by its regression, not PC
    ('bpc', dict(gen_weight=1.0)),
])
def test_a_rule_with_its_own_step_is_measured_by_that_step(model, name, overrides):
  """ipc and bpc inherit PCRule.grads (plain pc's direction), hpc's is its amortiser's; their direction is
  their own step's, -(theta' - theta) / eta under SGD of rate eta, and it is not pc's."""
  rule = testing.make_rule(name, model, **overrides)
  state = rule.init(jax.random.key(0))
  direction = _direction(rule, state)
  pc_direction = ll.pc.PCRule.grads(rule, state, testing.batch(), jax.random.key(2))[0]
  assert _relative_difference(direction, pc_direction) > 0.05
  sgd = dict(rule.config.optimizer.to_dict(), name='sgd', weight_decay=0.0, momentum=0.0, schedule='constant')
  stepper = testing.make_rule(name, model, optimizer=sgd, **overrides)
  moved = stepper.train_step(dict(stepper.init(jax.random.key(0)), **{k: v for k, v in state.items()
                                                                      if not k.endswith('opt_state')}),
                             testing.batch(), jax.random.key(2))[0]
  step = jax.tree.map(lambda old, new: (old - new) / sgd['learning_rate'], state['params'], moved['params'])
  assert _relative_difference(direction, step) < 1e-2
  out = jax.jit(lambda s: diagnostics.bp_alignment(rule, s, testing.batch()))(state)
  assert -1.0 <= float(out['cosine']) <= 1.0


def test_ep_is_compared_with_bp_at_its_free_fixed_point():
  """BP's gradient for ep is taken through its free phase, to the fixed point it predicts from: EP's
  estimate tends to it as beta -> 0 (relaxed to convergence), not to the feedforward network's gradient."""
  model = testing.tiny_model('mlp', activation='hard_sigmoid')
  converged = dict(beta=0.001, free_steps=200, nudged_steps=100)
  rule = testing.make_rule('ep', model, **converged)
  state = rule.init(jax.random.key(0))
  x, y = testing.batch()
  feedforward = jax.grad(lambda p: np.mean(rule.loss(rule.model.output(p, x), y)))(state['params'])
  direction = _direction(rule, state)
  a, b = _flat(direction), _flat(feedforward)
  assert np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)) < 0.5
  assert float(_alignment('ep', model, **converged)['cosine']) > 0.999


def test_trainer_logs_alignment_every_k_epochs(tmp_path):
  """Full-batch training on a fixed batch (train_examples = batch_size), the cosine logged
  every 2 epochs and after the last; older runs read the new fields' defaults."""
  from configs import default as default_config
  from local_learning import train, workdir
  config = default_config.get_config('rule=pc')
  config.model.widths = (16,)
  config.num_epochs, config.batch_size, config.train_examples, config.test_examples = 3, 32, 32, 50
  config.diagnostics.bp_alignment_every = 2
  config.checkpoint_every, config.checkpoint_seconds = 0, 0.0
  train.train_and_evaluate(config, str(tmp_path))
  lines = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert [('bp_cosine' in line) for line in lines] == [False, True, True]
  assert 0.0 < lines[-1]['bp_cosine'] <= 1.0 and 0.0 < lines[-1]['energy_loss_ratio'] < 1.0
  assert 'bp_cosine/layers/1/kernel' in lines[-1]
  defaults = default_config.get_config('rule=pc').to_dict()
  for field in ('train_examples', 'test_examples', 'diagnostics'):    # an older run (without them) had these values
    assert workdir.ADDED_FIELDS[field] == defaults[field]
