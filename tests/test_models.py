"""Layered models: predict is forward's blocks applied independently."""
import jax
import ml_collections
import numpy as np
import pytest

from local_learning import models


@pytest.mark.parametrize('cfg, shape', [
    (dict(name='mlp', widths=(32, 16), activation='gelu'), (8, 8, 1)),
    (dict(name='vgg', channels=(4, 8, 8), activation='relu'), (12, 12, 3)),
])
def test_predict_at_the_forward_pass_reproduces_it(cfg, shape):
  model = models.functional(ml_collections.ConfigDict(cfg), shape, 10)
  params = model.init(jax.random.key(0))
  x = jax.random.normal(jax.random.key(0), (5, *shape))
  zs = jax.jit(model.forward)(params, x)
  assert zs[-1].shape == (5, 10) and len(zs) == model.num_layers
  mus = jax.jit(model.predict)(params, [x, *zs[:-1]])
  for z, mu in zip(zs, mus):
    np.testing.assert_allclose(z, mu, rtol=1e-5, atol=1e-5)
  tail = jax.jit(model.predict, static_argnums=2)(params, zs[:-1], 1)
  for mu, mu_tail in zip(mus[1:], tail):
    np.testing.assert_allclose(mu, mu_tail, rtol=1e-5, atol=1e-5)
