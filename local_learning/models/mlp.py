"""Multilayer perceptron as a layered model (layered.py's convention).

Block 0: z_1 = a_0 W_0 x + b_0 (x flattened); block l > 0: z_{l+1} = a_l W_l phi(z_l) + b_l.
Activities z_l are pre-activations; the last one is the output (logits). `param`
picks W's init and the multipliers a (models/parameterisation.py): 'flax' (the
default: flax's init, with biases b, every a = 1), 'orthogonal' (ePC's deep
MLPs: orthogonal W with gain sqrt(2), zero biases), 'sp' (U(+-1/sqrt(fan_in))) or
'mup' (muP in width), these two without biases as in JPC's networks;
`output_multiplier` scales the output layer's a (1 / gamma_0).
"""
import math

from flax import nnx

from local_learning.models import activations, parameterisation
from local_learning.models.layered import LayeredModel

PARAMS = ('flax', 'orthogonal', 'sp', 'mup')


class MLP(LayeredModel):
  """widths: hidden widths; in_features = prod(input shape); out: classes."""
  defaults = dict(widths=(128, 128, 128), activation='relu', param='flax', output_multiplier=1.0)

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    return cls(math.prod(input_shape), tuple(config.widths), num_outputs, config.activation,
               config.get('param', 'flax'), config.get('output_multiplier', 1.0), rngs=rngs)

  @classmethod
  def problems(cls, config):
    if config.param not in PARAMS:
      return [f'unknown parameterisation {config.param!r} for model mlp; choose one of {", ".join(PARAMS)}']
    return []

  def __init__(self, in_features, widths, out_features, activation, param='flax', output_multiplier=1.0, *, rngs):
    sizes = [in_features, *widths, out_features]
    kinds = ['input'] + ['hidden'] * (len(widths) - 1) + ['output']
    self.layers = nnx.List([_linear(a, b, param, kind, rngs) for a, b, kind in zip(sizes[:-1], sizes[1:], kinds)])
    self.multipliers = tuple(parameterisation.multiplier(param, kind, a, len(kinds), output_multiplier)
                             for a, kind in zip(sizes[:-1], kinds))
    self.num_layers = len(self.layers)
    self.act = activations.get(activation)

  def phi(self, l, z):
    return z.reshape(z.shape[0], -1) if l == 0 else self.act(z)

  def kernel(self, l):
    return self.layers[l].kernel[...]

  def apply(self, l, h, kernel):
    a = self.multipliers[l]
    return h @ kernel if a == 1.0 else a * (h @ kernel)

  def bias(self, l):
    bias = self.layers[l].bias
    return None if bias is None else bias[...]


def _linear(fan_in, fan_out, param, kind, rngs):
  if param == 'flax':
    return nnx.Linear(fan_in, fan_out, rngs=rngs)
  return nnx.Linear(fan_in, fan_out, use_bias=param == 'orthogonal', rngs=rngs,
                    kernel_init=lambda key, shape, dtype: parameterisation.kernel(key, param, kind, shape))
