"""Residual MLP with stacked equal hidden blocks, under a choice of parameterisation.

H hidden layers of width N, input dimension D (x flattened), L = H + 1 weight layers:
  z_1 = a_in  x W_in                            W_in  (D, N)
  z_l = z_{l-1} + a_hid phi(z_{l-1}) W_l        l = 2..H; W_hidden (H-1, N, N), one array
  z_L = a_out phi(z_H) W_out                    W_out (N, C): the output (logits)
No biases. `param` picks the weights' init and the scalings a:
  'mupc'        Depth-muP, as in muPC (Innocenti, Achour & Buckley, NeurIPS 2025):
                W ~ N(0, 1); a_in = 1/sqrt(D), a_hid = 1/sqrt(N L), a_out = 1/N
  'sp'          standard: W ~ N(0, 1/fan_in) (LeCun), every a = 1, plain skips; the
                'standard PC' ResNet that muPC is compared with
  'mup_noskip'  muP without skips: z_l = phi(z_{l-1}) W_l / sqrt(N), else as 'mupc'
a_out is further multiplied by `output_multiplier`.

Activities come as three entries [z_1 (B, N), Z (H-1, B, N), z_L (B, C)]: the H-1
residual layers z_2..z_H are one stacked entry (stacks = (0, H-1, 0), see
layered.py). `forward` is one `lax.scan` over W_hidden and `predict` one batched
einsum over all hidden layers, so neither the graph nor the compile time grows
with depth.
"""
import math

import jax
import jax.numpy as jnp
from flax import nnx

from local_learning.errors import UserError
from local_learning.models import activations
from local_learning.models.layered import LayeredModel

PARAMS = ('mupc', 'sp', 'mup_noskip')


class ResidualMLP(LayeredModel):
  """in_features: D = prod(input shape); width N; depth H >= 2 hidden layers; out: C."""

  def __init__(self, in_features, width, depth, out_features, activation, param='mupc',
               output_multiplier=1.0, *, rngs):
    if param not in PARAMS:
      raise UserError(f'unknown parameterisation {param!r}; choose one of {", ".join(PARAMS)}')
    if depth < 2 or width < 1:
      raise UserError(f'model resmlp needs depth >= 2 hidden layers and width >= 1, got {depth}, {width}')
    num_weights = depth + 1
    sp = param == 'sp'
    self.w_in = nnx.Param(_normal(rngs, (in_features, width), sp))
    self.w_hidden = nnx.Param(_normal(rngs, (depth - 1, width, width), sp))
    self.w_out = nnx.Param(_normal(rngs, (width, out_features), sp))
    self.a_in = 1.0 if sp else 1 / math.sqrt(in_features)
    self.a_hid = 1.0 if sp else 1 / math.sqrt(width * (num_weights if param == 'mupc' else 1))
    self.a_out = (1.0 if sp else 1 / width) * output_multiplier
    self.skip = 0.0 if param == 'mup_noskip' else 1.0
    self.act = activations.get(activation)
    self.num_layers = 3
    self.stacks = (0, depth - 1, 0)

  def embed(self, x):
    """z_1 (B, N) from x (B, ...)."""
    return self.a_in * (x.reshape(x.shape[0], -1) @ self.w_in[...])

  def residual(self, prev):
    """Layers k+1 from layers k, all at once: (K, B, N) -> (K, B, N)."""
    return self.skip * prev + self.a_hid * jnp.einsum('kbn,knm->kbm', self.act(prev), self.w_hidden[...])

  def readout(self, z):
    """z_L (B, C) from z_H (B, N)."""
    return self.a_out * (self.act(z) @ self.w_out[...])

  def forward(self, x):
    z_1 = self.embed(x)

    def layer(z, w):
      z = self.skip * z + self.a_hid * (self.act(z) @ w)
      return z, z

    z_h, stack = jax.lax.scan(layer, z_1, self.w_hidden[...])
    return [z_1, stack, self.readout(z_h)]

  def predict(self, inputs, first=0):
    """inputs [x, z_1, Z][first:] -> [mu_1, mu_Z, mu_L][first:]."""
    z = dict(zip(range(first - 1, 2), inputs))     # -1: x, 0: z_1, 1: Z
    blocks = (lambda: self.embed(z[-1]),
              lambda: self.residual(jnp.concatenate([z[0][None], z[1][:-1]])),
              lambda: self.readout(z[1][-1]))
    return [blocks[l]() for l in range(first, 3)]


def _normal(rngs, shape, lecun):
  """N(0, 1) weights, or N(0, 1/fan_in) with fan_in = shape[-2] when `lecun`."""
  w = jax.random.normal(rngs.params(), shape, jnp.float32)
  return w / math.sqrt(shape[-2]) if lecun else w
