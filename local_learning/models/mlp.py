"""Multilayer perceptron as a layered model (layered.py's convention).

Block 0: z_1 = W_0 x + b_0 (x flattened); block l > 0: z_{l+1} = W_l phi(z_l) + b_l.
Activities z_l are pre-activations; the last one is the output (logits).
"""
import math

from flax import nnx

from local_learning.models import activations
from local_learning.models.layered import LayeredModel


class MLP(LayeredModel):
  """widths: hidden widths; in_features = prod(input shape); out: classes."""
  defaults = dict(widths=(128, 128, 128), activation='relu')

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    return cls(math.prod(input_shape), tuple(config.widths), num_outputs, config.activation, rngs=rngs)

  def __init__(self, in_features, widths, out_features, activation, *, rngs):
    sizes = [in_features, *widths, out_features]
    self.layers = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])
    self.num_layers = len(self.layers)
    self.act = activations.get(activation)

  def phi(self, l, z):
    return z.reshape(z.shape[0], -1) if l == 0 else self.act(z)

  def kernel(self, l):
    return self.layers[l].kernel[...]

  def apply(self, l, h, kernel):
    return h @ kernel

  def bias(self, l):
    return self.layers[l].bias[...]
