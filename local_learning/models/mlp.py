"""Multilayer perceptron as a layered model.

Block 1: mu_1 = W_1 x + b_1 (x flattened); block l > 1: mu_l = W_l phi(z_{l-1}) + b_l.
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

  def block(self, l, z):
    if l == 0:
      return self.layers[0](z.reshape(z.shape[0], -1))
    return self.layers[l](self.act(z))
