"""Forward-Forward: goodness rises on positive and falls on negative data; prediction by goodness per label."""
import jax
import jax.numpy as jnp
import numpy as np

from local_learning import testing


def _problem():
  """64 noisy copies of 10 random class prototypes (8x8)."""
  kp, kn, ky = jax.random.split(jax.random.key(5), 3)
  y = jax.random.randint(ky, (64,), 0, 10)
  return jax.random.normal(kp, (10, 8, 8, 1))[y] + 0.5 * jax.random.normal(kn, (64, 8, 8, 1)), y


def test_ff_goodness_rises_on_positive_and_falls_on_negative_data():
  model = testing.tiny_model(widths=(32, 32), activation='relu')
  ff = testing.make_rule('ff', model, optimizer=dict(name='adam', learning_rate=3e-3, weight_decay=0.0,
                                                     momentum=0.0, schedule='constant', warmup_steps=0))
  x, y = _problem()
  wrong = (y + 1 + jnp.arange(len(y)) % 9) % 10
  goodness = lambda state, labels: np.array([g.mean() for g in ff.goodness(state['params'], ff.embed(x, labels))])
  step = jax.jit(ff.train_step)
  state = ff.init(jax.random.key(0))
  seen = []
  for i in range(300):
    state, _ = step(state, (x, y), jax.random.key(i))
    if i in (49, 299):
      seen.append((goodness(state, y), goodness(state, wrong)))
  (pos_early, neg_early), (pos, neg) = seen
  assert np.all(pos > pos_early) and np.all(neg < neg_early)
  assert np.all(pos > 32) and np.all(neg < 32)        # either side of the threshold, the width
  assert np.mean(np.argmax(ff.output(state, x), axis=-1) == y) > 0.6


def test_ff_scores_are_the_goodness_of_each_embedded_label_without_the_first_block():
  model = testing.tiny_model(widths=(16, 16, 16), activation='relu')
  ff = testing.make_rule('ff', model)
  state = ff.init(jax.random.key(0))
  x, _ = testing.batch(4)
  embedded = ff.embed(x, jnp.full(4, 3))
  assert np.all(embedded[:, :10] == jax.nn.one_hot(3, 10)) and np.all(embedded[:, 10:] == x.reshape(4, -1)[:, 10:])
  want = sum(ff.goodness(state['params'], embedded)[1:])
  np.testing.assert_allclose(ff.output(state, x)[:, 3], want, rtol=1e-5)


def test_ff_updates_never_cross_blocks():
  """Each block's update is the gradient of its own loss alone, its input a constant: the same as summing
  single-block gradients with the inputs computed outside the differentiated function."""
  model = testing.tiny_model(widths=(16, 16, 16), activation='relu')
  ff = testing.make_rule('ff', model)
  state, rng = ff.init(jax.random.key(0)), jax.random.key(7)
  params = state['params']
  x, y = testing.batch(16)
  grads, _ = ff.grads(state, (x, y), rng)
  wrong = (y + jax.random.randint(rng, y.shape, 1, 10)) % 10
  data = jnp.concatenate([ff.embed(x, y), ff.embed(x, wrong)])
  sign = jnp.concatenate([jnp.ones(len(x)), -jnp.ones(len(x))])
  h, want = np.asarray(model.phi(params, 0, data)), jax.tree.map(jnp.zeros_like, params)
  for l, shape in enumerate(model.kernel_shapes[:-1]):
    h = h / (np.sqrt(np.mean(np.square(h), axis=-1, keepdims=True)) + 1e-8)
    block = lambda p, h=h, l=l, width=shape[-1]: jnp.mean(jax.nn.softplus(
        -sign * (jnp.sum(jnp.square(model.phi(p, l + 1, model.linear(p, l, h))), axis=-1) - width)))
    want = jax.tree.map(jnp.add, want, jax.grad(block)(params))
    h = np.asarray(model.phi(params, l + 1, model.linear(params, l, h)))
  for got, expected in zip(jax.tree.leaves(grads), jax.tree.leaves(want), strict=True):
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
