"""Residual MLP with stacked equal hidden blocks, under a choice of parameterisation.

H hidden layers of width N, input dimension D (x flattened), L = H + 1 weight layers:
  z_1 = a_in  x W_in                            W_in  (D, N)
  z_l = z_{l-1} + a_hid phi(z_{l-1}) W_l        l = 2..H; W_hidden (H-1, N, N), one array
  z_L = a_out phi(z_H) W_out                    W_out (N, C): the output (logits)
No biases. `param` picks the weights' init and the scalings a (the table in
models/parameterisation.py):
  'mupc'        Depth-muP, as in muPC (Innocenti, Achour & Buckley, NeurIPS 2025):
                W ~ N(0, 1); a_in = 1/sqrt(D), a_hid = 1/sqrt(N L), a_out = 1/N
  'mup'         muP in width only: as 'mupc' with a_hid = 1/sqrt(N)
  'sp'          standard: W ~ U(+-1/sqrt(fan_in)) (equinox's default, as JPC), every
                a = 1, plain skips; the 'standard PC' ResNet that muPC is compared with
  'mup_noskip'  muP without skips: z_l = phi(z_{l-1}) W_l / sqrt(N), else as 'mup'
a_out is further multiplied by `output_multiplier` (1 / gamma_0 of the limits paper).

In layered.py's convention: phi_0 flattens, phi_l = act; the linear maps are the
scaled products (a W), without biases; the stacked entry's skip is 1 (0 for
'mup_noskip') and its linear map multiplies each layer by its own kernel.

Activities come as three entries [z_1 (B, N), Z (H-1, B, N), z_L (B, C)]: the H-1
residual layers z_2..z_H are one stacked entry (stacks = (0, H-1, 0), see
layered.py). `forward` is one `lax.scan` over W_hidden and `predict` one batched
product over all hidden layers, so neither the graph nor the compile time grows
with depth.

`predict` is written for speed, since PC spends its time in it
(benchmarks/mupc_speed.py measures it):
  * `residual_layers` has its gradient written out. The gradient of the
    product with respect to its input multiplies by a transposed copy of the
    weights, which XLA makes once, outside the inference loop; XLA:CPU
    multiplies by W^T in place at a fraction of the plain product's speed.
    The activation's derivative is taken at the stack itself, so the shifted
    stack is never written out.
  * The stacked layers are split over the 'layers' axis of the ambient mesh
    if it has one (parallel.split_layers; the trainer's config.layer_parallel).
    Layer k reads layer k-1 through a pad, which XLA partitions by passing one
    boundary layer to the next device.
"""
import functools
import math

import jax
import jax.numpy as jnp
from flax import nnx

from local_learning import parallel, validate
from local_learning.models import activations, parameterisation
from local_learning.models.layered import LayeredModel, with_feedback

PARAMS = ('mupc', 'mup', 'sp', 'mup_noskip')     # models/parameterisation.py's table


class ResidualMLP(LayeredModel):
  """in_features: D = prod(input shape); width N; depth H >= 2 hidden layers; out: C."""
  defaults = dict(depth=8, width=128, activation='relu', param='mupc', output_multiplier=1.0)

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    return cls(math.prod(input_shape), config.width, config.depth, num_outputs, config.activation,
               config.param, config.output_multiplier, rngs=rngs)

  @classmethod
  def problems(cls, config):
    out = validate.int_problems(config, ('width',), 1, 'config.model.')
    out += validate.int_problems(config, ('depth',), 2, 'config.model.')
    if config.param not in PARAMS:
      out.append(f'unknown parameterisation {config.param!r}; choose one of {", ".join(PARAMS)}')
    return out

  def __init__(self, in_features, width, depth, out_features, activation, param='mupc',
               output_multiplier=1.0, *, rngs):
    num_weights = depth + 1
    self.w_in = nnx.Param(parameterisation.kernel(rngs.params(), param, 'input', (in_features, width)))
    self.w_hidden = nnx.Param(parameterisation.kernel(rngs.params(), param, 'hidden', (depth - 1, width, width)))
    self.w_out = nnx.Param(parameterisation.kernel(rngs.params(), param, 'output', (width, out_features)))
    self.a_in = parameterisation.multiplier(param, 'input', in_features, num_weights)
    self.a_hid = parameterisation.multiplier(param, 'hidden', width, num_weights)
    self.a_out = parameterisation.multiplier(param, 'output', width, num_weights, output_multiplier)
    self.skip_coefficient = parameterisation.SKIPS[param]
    self.act = activations.get(activation)
    self.num_layers = 3
    self.stacks = (0, depth - 1, 0)

  def phi(self, l, z):
    return z.reshape(z.shape[0], -1) if l == 0 else self.act(z)

  def kernel(self, l):
    return (self.w_in, self.w_hidden, self.w_out)[l][...]

  def apply(self, l, h, kernel):
    """The scaled products; the stacked entry's (K, B, N) inputs times its (K, N, M) kernels."""
    if l == 1:
      return self.a_hid * jnp.einsum('kbn,knm->kbm', h, kernel)
    return (self.a_in, None, self.a_out)[l] * (h @ kernel)

  def skip(self, l):
    return self.skip_coefficient if l == 1 else 0.0

  def embed(self, x, feedback=None):
    """z_1 (B, N) from x (B, ...)."""
    return self.a_in * with_feedback(_matmul, self.w_in[...], feedback, self.phi(0, x))

  def residual(self, stack, first):
    """The stack's layers from the layers below them, all at once: (K, B, N), z_1 (B, N) -> (K, B, N)."""
    weights = parallel.split_layers(self.a_hid * self.w_hidden[...])
    return residual_layers(self.act, self.skip_coefficient, parallel.split_layers(stack), first, weights)

  def readout(self, z, feedback=None, stacked=False):
    """z_L (B, C) from z_H (B, N), or from the stack (K, B, N) whose last layer is z_H."""
    h = self.act(z)[-1] if stacked else self.act(z)
    return self.a_out * with_feedback(_matmul, self.w_out[...], feedback, h)

  def forward(self, x, feedback=None):
    feedback = feedback or [None] * 3
    z_1 = self.embed(x, feedback[0])

    def layer(z, weights):
      w, b = weights
      z = self.skip_coefficient * z + with_feedback(_matmul, w, b, self.act(z))
      return z, z

    # The scaled weights and their products as `residual` forms them, so that the
    # errors of the forward pass are exactly zero (tests/test_models.py).
    feedback_hidden = None if feedback[1] is None else self.a_hid * feedback[1]
    z_h, stack = jax.lax.scan(layer, z_1, (self.a_hid * self.w_hidden[...], feedback_hidden))
    return [z_1, stack, self.readout(z_h, feedback[2])]

  def predict(self, inputs, first=0):
    """inputs [x, z_1, Z][first:] -> [mu_1, mu_Z, mu_L][first:]."""
    z = dict(zip(range(first - 1, 2), inputs))     # -1: x, 0: z_1, 1: Z
    blocks = (lambda: self.embed(z[-1]),
              lambda: self.residual(z[1], z[0]),
              lambda: self.readout(z[1], stacked=True))
    return [blocks[l]() for l in range(first, 3)]


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def residual_layers(act, skip, stack, first, w):
  """skip * prev + act(prev) @ w for every layer k, with prev_k = stack_{k-1} and prev_0 = first.

  stack (K, B, N), first (B, N), w (K, N, M) -> (K, B, M).
  """
  return _residual_layers_fwd(act, skip, stack, first, w)[0]


def _residual_layers_fwd(act, skip, stack, first, w):
  # act before the shift: XLA writes the product's input in one pass, and reads the
  # shifted stack only inside the output's fusion.
  a = _shift_down(act(stack), act(first))
  # The barrier keeps XLA from folding the transpose back into the product.
  w_t = jax.lax.optimization_barrier(jnp.swapaxes(w, 1, 2))
  return skip * _shift_down(stack, first) + jnp.einsum('kbn,knm->kbm', a, w), (stack, first, a, w_t)


def _residual_layers_bwd(act, skip, residuals, g):
  stack, first, a, w_t = residuals
  g_a = jnp.einsum('kbm,kmn->kbn', g, w_t)
  # Layer k reads stack_{k-1}: stack_k's gradient comes from layer k+1, first's from layer 0.
  g_stack = skip * _move(g, -1) + jax.vjp(act, stack)[1](_move(g_a, -1))[0]
  g_first = skip * g[0] + jax.vjp(act, first)[1](g_a[0])[0]
  return g_stack, g_first, jnp.einsum('kbn,kbm->knm', a, g)


residual_layers.defvjp(_residual_layers_fwd, _residual_layers_bwd)


def _shift_down(stack, first):
  """[first, stack_0, ..., stack_{K-2}] (K, B, N); the stack moves by a pad, which XLA
  partitions over the 'layers' axis by passing one boundary layer to the next device."""
  is_first = jax.lax.broadcasted_iota(jnp.int32, stack.shape, 0) == 0
  return jnp.where(is_first, first[None], _move(stack, 1))


def _move(stack, by):
  """The stack moved `by` layers along axis 0, zeros entering: a pad."""
  return jax.lax.pad(stack, 0.0, [(by, -by, 0)] + [(0, 0, 0)] * (stack.ndim - 1))


def _matmul(h, w):
  return h @ w
