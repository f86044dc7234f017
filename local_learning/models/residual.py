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

Activities come as entries [z_1 (B, N), Z_1, ..., Z_G, z_L (B, C)]: the H-1
residual layers z_2..z_H are G consecutive stacked entries (`groups`, default 1;
each (K_g, B, N), sizes as equal as they go; stacks = (0, K_1, ..., K_G, 0), see
layered.py), their kernels slices of the one parameter W_hidden. `forward` is one
`lax.scan` over W_hidden and `predict` one batched product per group, so neither
the graph nor the compile time grows with depth. The groups are a layout, not
a change of the network: the same layers, weights and values for every G.
Two reasons to split: a batched product is one kernel, and XLA:CPU runs
independent kernels on more than one thread once more than 8 are ready at a
time (README, Speed at depth), and PC's inference skips whole entries below
its error wave (local_learning.pc.solvers).

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
from typing import cast

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from local_learning import parallel, validate
from local_learning.models import activations, parameterisation
from local_learning.models.layered import LayeredModel, with_feedback

PARAMS = ('mupc', 'mup', 'sp', 'mup_noskip')     # models/parameterisation.py's table


class ResidualMLP(LayeredModel):
  """in_features: D = prod(input shape); width N; depth H >= 2 hidden layers; out: C."""
  defaults = dict(depth=8, width=128, activation='relu', param='mupc', output_multiplier=1.0, groups=1)
  optional = ('groups',)

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    return cls(math.prod(input_shape), config.width, config.depth, num_outputs, config.activation,
               config.param, config.output_multiplier, config.get('groups', 1), rngs=rngs)

  @classmethod
  def problems(cls, config):
    out = validate.int_problems(config, ('width',), 1, 'config.model.')
    out += validate.int_problems(config, ('depth',), 2, 'config.model.')
    if 'groups' in config:
      out += validate.int_problems(config, ('groups',), 1, 'config.model.')
      if not out and config.groups > config.depth - 1:
        out.append(f'config.model.groups={config.groups} exceeds the {config.depth - 1} stacked hidden layers of '
                   f'depth {config.depth}; use at most depth - 1')
    if config.param not in PARAMS:
      out.append(f'unknown parameterisation {config.param!r}; choose one of {", ".join(PARAMS)}')
    return out

  def __init__(self, in_features, width, depth, out_features, activation, param='mupc',
               output_multiplier=1.0, groups=1, *, rngs):
    num_weights = depth + 1
    self.w_in = nnx.Param(parameterisation.kernel(rngs.params(), param, 'input', (in_features, width)))
    self.w_hidden = nnx.Param(parameterisation.kernel(rngs.params(), param, 'hidden', (depth - 1, width, width)))
    self.w_out = nnx.Param(parameterisation.kernel(rngs.params(), param, 'output', (width, out_features)))
    self.a_in = parameterisation.multiplier(param, 'input', in_features, num_weights)
    self.a_hid = parameterisation.multiplier(param, 'hidden', width, num_weights)
    self.a_out = parameterisation.multiplier(param, 'output', width, num_weights, output_multiplier)
    self.skip_coefficient = parameterisation.SKIPS[param]
    self.act = activations.get(activation)
    self.bounds = tuple(int(b) for b in np.linspace(0, depth - 1, groups + 1).round())
    self.groups = groups
    self.num_layers = groups + 2
    self.stacks = (0, *np.diff(self.bounds).tolist(), 0)

  def phi(self, l, z):
    return z.reshape(z.shape[0], -1) if l == 0 else self.act(z)

  def kernel(self, l):
    if l == 0:
      return self.w_in[...]
    return self.w_out[...] if l > self.groups else self.w_hidden[self.bounds[l - 1]:self.bounds[l]]

  def apply(self, l, h, kernel):
    """The scaled products; a stacked entry's (K, B, N) inputs times its (K, N, M) kernels."""
    if l == 0:
      return self.a_in * (h @ kernel)
    if l > self.groups:
      return self.a_out * (h @ kernel)
    return self.a_hid * jnp.einsum('kbn,knm->kbm', h, kernel)

  def skip(self, l):
    return self.skip_coefficient if 0 < l <= self.groups else 0.0

  def embed(self, x, feedback=None):
    """z_1 (B, N) from x (B, ...)."""
    return self.a_in * with_feedback(_matmul, self.w_in[...], feedback, self.phi(0, x))

  def residual(self, stack, first, kernel):
    """A group's layers from the layers below them, all at once: (K, B, N), the layer below (B, N),
    the group's kernels (K, N, N) -> (K, B, N)."""
    weights = parallel.split_layers(self.a_hid * kernel)
    return residual_layers(self.act, self.skip_coefficient, parallel.split_layers(stack), first, weights)

  def readout(self, z, feedback=None, stacked=False):
    """z_L (B, C) from z_H (B, N), or from the stack (K, B, N) whose last layer is z_H."""
    h = self.act(z)[-1] if stacked else self.act(z)
    return self.a_out * with_feedback(_matmul, self.w_out[...], feedback, h)

  def forward(self, x, feedback=None):
    feedback = feedback or [None] * self.num_layers
    z_1 = self.embed(x, feedback[0])

    def layer(z, weights):
      w, b = weights
      z = self.skip_coefficient * z + with_feedback(_matmul, w, b, self.act(z))
      return z, z

    # The scaled weights and their products as `residual` forms them, so that the
    # errors of the forward pass are exactly zero (tests/test_models.py).
    hidden = feedback[1:-1]
    # Either all None (no feedback) or all arrays.
    feedback_hidden = None if hidden[0] is None else self.a_hid * jnp.concatenate(cast(list[jax.Array], hidden))
    z_h, stack = jax.lax.scan(layer, z_1, (self.a_hid * self.w_hidden[...], feedback_hidden))
    groups = [stack[a:b] for a, b in zip(self.bounds[:-1], self.bounds[1:])]
    return [z_1, *groups, self.readout(z_h, feedback[-1])]

  def predict(self, inputs, first=0):
    """inputs [x, z_1, Z_1, ..., Z_G][first:] -> [mu_1, mu_Z_1, ..., mu_Z_G, mu_L][first:]."""
    z = dict(zip(range(first - 1, self.num_layers - 1), inputs))     # -1: x, 0: z_1, g: Z_g
    kernels = split(self.w_hidden[...], self.bounds)
    return [self._predict_entry(l, z, kernels) for l in range(first, self.num_layers)]

  def _predict_entry(self, l, z, kernels):
    """mu of entry l from the entries z {-1: x, 0: z_1, g: Z_g}; kernels: the groups' slices of W_hidden."""
    if l == 0:
      return self.embed(z[-1])
    if l > self.groups:
      return self.readout(z[l - 1], stacked=True)
    return self.residual(z[l], z[l - 1][-1] if l > 1 else z[0], kernels[l - 1])


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def residual_layers(act, skip, stack, first, w):
  """skip * prev + act(prev) @ w for every layer k, with prev_k = stack_{k-1} and prev_0 = first.

  stack (K, B, N), first (B, N), w (K, N, M) -> (K, B, M).
  """
  return _products(act, skip, stack, first, w)[0]


def _products(act, skip, stack, first, w):
  """(the layers, the products' inputs a (K, B, N))."""
  # act before the shift: XLA writes the product's input in one pass, and reads the
  # shifted stack only inside the output's fusion.
  a = _shift_down(act(stack), act(first))
  return skip * _shift_down(stack, first) + jnp.einsum('kbn,knm->kbm', a, w), a


def _residual_layers_fwd(act, skip, stack, first, w):
  # Symbolic zeros: only the cotangents a caller differentiates are formed (inference
  # needs the activities', the weight update the weights'), so no product is traced
  # and left for XLA to remove.
  out, a = _products(act, skip, stack.value, first.value, w.value)
  # The barrier keeps XLA from folding the transpose back into the product.
  w_t = jax.lax.optimization_barrier(jnp.swapaxes(w.value, 1, 2)) if stack.perturbed or first.perturbed else None
  return out, (stack.value, first.value, a if w.perturbed else None, w_t)


def _residual_layers_bwd(act, skip, residuals, g):
  stack, first, a, w_t = residuals
  g_w = None if a is None else jnp.einsum('kbn,kbm->knm', a, g)
  if w_t is None:
    return None, None, g_w
  g_a = jnp.einsum('kbm,kmn->kbn', g, w_t)
  # Layer k reads stack_{k-1}: stack_k's gradient comes from layer k+1, first's from layer 0.
  g_stack = skip * _move(g, -1) + jax.vjp(act, stack)[1](_move(g_a, -1))[0]
  g_first = skip * g[0] + jax.vjp(act, first)[1](g_a[0])[0]
  return g_stack, g_first, g_w


residual_layers.defvjp(_residual_layers_fwd, _residual_layers_bwd, symbolic_zeros=True)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def split(w, bounds):
  """[w[a:b] for consecutive bounds a, b]: w (K, ...) cut along its first axis.

  Its gradient is one concatenation; JAX's, of the slices, would write a padded
  copy of w per piece and add them up.
  """
  return [w[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


split.defvjp(lambda w, bounds: (split(w, bounds), None),
             lambda bounds, _, pieces: (jnp.concatenate(pieces),))


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
