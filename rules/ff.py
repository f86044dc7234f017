"""Forward-Forward (Hinton, 2022), with the label embedding, negatives and layer loss of loeweX's reference.

Positive data is the input with its true label written as a one-hot over its
first C entries (flattened; on MNIST the first 10 pixels of the top row, as
loeweX does), negative data the same input with a wrong label drawn
uniformly, fresh at every step. Each hidden block l trains on its own loss,
its input a constant (no gradient crosses blocks): the input is normalised by
its root mean square, h / (sqrt(mean(h^2)) + 1e-8), the block's goodness is
G_l = sum act(z_l)^2 (act = phi_{l+1}; the threshold is the block's width, so
that a mean square of 1 is neutral), and the loss is the logistic loss of
G_l - width, positive for positive data and negative for negative, averaged
over both (loeweX: BCEWithLogits). The model's output block is not used: its
parameters keep their initial values.

Prediction (rule.output, as Hinton): every label is embedded in turn and the
scores are the goodness summed over the hidden blocks, but the first when
there are two or more. loeweX predicts with a linear classifier on the
normalised activities of a neutral-label input (all C entries 0.1) instead.
"""
import jax
import jax.numpy as jnp

import local_learning as ll


@ll.register
class FF(ll.GradientRule):
  """Forward-Forward: per-block goodness of positive vs negative (label-embedded) data."""
  name = 'ff'
  family = 'forward-only'
  description = 'Forward-Forward: layer-local goodness of positive vs negative data (Hinton 2022)'

  @classmethod
  def default_config(cls):
    config = super().default_config()
    del config.loss         # goodness, not an output loss
    return config

  @classmethod
  def search_space(cls):
    """ll.GradientRule's optimizer space; loeweX's Forward-Forward code publishes no sweep, so our choice."""
    return super().search_space()

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    if any(model.stacks) or any(model.skips) or model.num_layers < 2:
      raise ll.UserError('ff needs a model with at least one hidden block and no stacked layers or skips')
    self.classes = model.kernel_shapes[-1][-1]

  def embed(self, x, labels):
    """x (B, ...) flattened, its first C entries replaced by the one-hot labels (B,)."""
    flat = x.reshape(len(x), -1)
    return flat.at[:, :self.classes].set(jax.nn.one_hot(labels, self.classes, dtype=flat.dtype))

  def goodness(self, params, x, train=False):
    """[G_l (B,) for each hidden block]; with train, each block's input is a constant."""
    out, h = [], self.model.phi(params, 0, x)
    for l in range(self.model.num_layers - 1):
      h = h / (jnp.sqrt(jnp.mean(jnp.square(h), axis=-1, keepdims=True)) + 1e-8)
      h = self.model.phi(params, l + 1, self.model.linear(params, l, jax.lax.stop_gradient(h) if train else h))
      out.append(jnp.sum(jnp.square(h), axis=-1))
    return out

  def grads(self, state, batch, rng):
    x, y = batch
    wrong = (y + jax.random.randint(rng, y.shape, 1, self.classes)) % self.classes
    data = jnp.concatenate([self.embed(x, y), self.embed(x, wrong)])
    sign = jnp.concatenate([jnp.ones(len(x)), -jnp.ones(len(x))])

    def loss(params):
      widths = [shape[-1] for shape in self.model.kernel_shapes[:-1]]
      return sum(jnp.mean(jax.nn.softplus(-sign * (g - width)))
                 for g, width in zip(self.goodness(params, data, train=True), widths))

    value, grads = jax.value_and_grad(loss)(state['params'])
    return grads, dict(loss=value)

  def output(self, state, x):
    params, first = self.params(state), int(self.model.num_layers > 2)
    per_label = jax.vmap(lambda c: sum(self.goodness(params, self.embed(x, jnp.full(len(x), c)))[first:]))
    return per_label(jnp.arange(self.classes)).T
