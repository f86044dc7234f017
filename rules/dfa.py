"""Direct feedback alignment (Nøkland, 2016): the output error sent to every hidden layer directly.

With e = dL/dz_L (the batch-mean loss's gradient w.r.t. the output), the
activity of every hidden layer gets delta_l = phi_l'(z_l) * B_l^T e, where B_l
is a fixed random kernel of block l's kind whose outputs are the C classes
(dense (n_l, C); conv (k, k, c_l, C), the error broadcast over every position
of the block's output, as BioTorch does); the pooling and flattening of phi_l
are backpropagated. No error travels from layer to layer. Each weight's update
is its true local gradient given its block's delta, so the output block is
trained exactly as by backprop, and the last hidden layer gets what feedback
alignment gives it. B_l are drawn xavier-uniform (BioTorch's default), fixed.
"""
import jax
import jax.numpy as jnp

import local_learning as ll


@ll.register
class DFA(ll.GradientRule):
  """Direct feedback alignment: fixed random projections of the output error."""
  name = 'dfa'
  family = 'feedback alignment'
  description = 'direct feedback alignment: the output error projected to each layer (Nokland 2016)'

  @classmethod
  def search_space(cls):
    """BP's space (ll.GradientRule's): the same optimizer; Nokland (2016) publishes no sweep, so our choice."""
    return super().search_space()

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    if any(model.stacks):
      raise ll.UserError('dfa needs a model without stacked layers (mlp or vgg)')

  def buffers(self, rng):
    shapes = self.model.kernel_shapes
    keys = jax.random.split(rng, len(shapes))
    classes = shapes[-1][-1]
    return dict(feedback=[jax.nn.initializers.xavier_uniform()(keys[l], shape[:-1] + (classes,))
                          for l, shape in enumerate(shapes) if l > 0])

  def grads(self, state, batch, rng):
    del rng
    x, y = batch
    params, model = state['params'], self.model
    zs = model.forward(params, x)
    loss, e = jax.value_and_grad(lambda out: jnp.mean(self.loss(out, y)))(zs[-1])
    deltas = []
    for l, (z, kernel) in enumerate(zip(zs[:-1], state['feedback']), start=1):   # block l reads z = z_l
      h, phi_vjp = jax.vjp(lambda z, l=l: model.phi(params, l, z), z)
      out = model.linear(params, l, h, kernel)    # for its shape; XLA drops the product
      e_out = jnp.broadcast_to(e.reshape(e.shape[0], *[1] * (len(out.shape) - 2), -1), out.shape)
      deltas.append(phi_vjp(model.transpose(params, l, h, e_out, kernel))[0])
    grads = jax.vjp(lambda p: model.predict(p, [x, *zs[:-1]]), params)[1]([*deltas, e])[0]
    return grads, dict(loss=loss)
