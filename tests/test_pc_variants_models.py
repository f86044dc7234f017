"""The PC variants with their own inference code train the residual MLP (stacked layers) and the
VGG model (the MLP: every other test; pn, nn, cn infer as pc does, tested on these models by test_mupc)."""
import jax
import ml_collections
import numpy as np
import pytest
from helpers import batch, make_rule

from local_learning import models

MODELS = {
    'resmlp': dict(name='resmlp', depth=4, width=16, activation='tanh', param='mupc', output_multiplier=1.0),
    'vgg': dict(name='vgg', channels=(4, 8), activation='relu'),
}


@pytest.mark.parametrize('model_name', sorted(MODELS))
@pytest.mark.parametrize('rule', ['ipc', 'epc'])
def test_a_train_step_moves_every_weight_and_stays_finite(rule, model_name):
  model = models.functional(ml_collections.ConfigDict(MODELS[model_name]), (8, 8, 1), 10)
  r = make_rule(rule, model, inference_steps=2)
  state = r.init(jax.random.key(0))
  new_state, metrics = jax.jit(r.train_step)(state, batch(n=8), jax.random.key(1))
  assert all(np.isfinite(float(v)) for v in metrics.values())
  for before, after in zip(jax.tree.leaves(r.params(state)), jax.tree.leaves(r.params(new_state))):
    assert np.all(np.isfinite(after)) and np.any(before != after)
