"""VGG-style CNN as a layered model (as in the PC benchmark literature), in layered.py's convention.

Conv block l < L-1: z_{l+1} = conv3x3_l(phi_l(z_l)) + b_l, with phi_0 the identity
and phi_l = maxpool2x2(act) for l > 0; the head: z_L = W flatten(maxpool2x2(act(z_{L-1}))) + b.
A conv block's activity is the convolution's output at full resolution; its
pooling belongs to the next block, so every linear map is a plain convolution
or dense layer. VGG-5: channels (128, 256, 512, 512) + one linear.

`param` (models/parameterisation.py's table, the width being the channels):
'flax' (the default: flax's Conv and Linear init, biases, no multipliers),
'sp' (U(+-1/sqrt(C_in k^2)), equinox's Conv2d default as in the limits paper's
CNN, no biases) or 'mup' (muP in the channels: N(0, 1) kernels, the first
conv times 1/sqrt(C_in k^2), hidden convs the same, the readout 1/(its fan-in),
no biases); `output_multiplier` scales the readout's (1 / gamma_0).
"""
import math

import jax
from flax import nnx

from local_learning.errors import UserError
from local_learning.models import activations, parameterisation
from local_learning.models.layered import LayeredModel, unpool

PARAMS = ('flax', 'sp', 'mup')


class VGG(LayeredModel):
  """input_shape: (H, W, C); channels: one conv block each; out: classes."""
  defaults = dict(channels=(128, 256, 512, 512), activation='relu', param='flax', output_multiplier=1.0)
  optional = ('param', 'output_multiplier')
  # XLA:CPU runs these convolutions several times slower in a loop (benchmarks/steps_per_call.py)
  loops_well = False

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    if len(input_shape) != 3:
      raise UserError(f'model vgg needs image inputs (H, W, C); this dataset gives shape {input_shape}')
    return cls(input_shape, tuple(config.channels), num_outputs, config.activation, config.get('param', 'flax'),
               config.get('output_multiplier', 1.0), rngs=rngs)

  @classmethod
  def problems(cls, config):
    param = config.get('param', 'flax')
    if param not in PARAMS:
      return [f'unknown parameterisation {param!r} for model vgg; choose one of {", ".join(PARAMS)}']
    return []

  def __init__(self, input_shape, channels, out_features, activation, param='flax', output_multiplier=1.0, *, rngs):
    height, width, in_channels = input_shape
    convs, fans = [], []
    for l, c in enumerate(channels):
      convs.append(_conv(in_channels, c, param, 'input' if l == 0 else 'hidden', rngs))
      fans.append(in_channels * 9)
      in_channels = c
      height, width = -(-height // 2), -(-width // 2)   # 'SAME' pooling rounds up
    self.convs = nnx.List(convs)
    fans.append(height * width * in_channels)
    self.head = _linear(fans[-1], out_features, param, rngs)
    self.num_layers = len(convs) + 1
    kinds = ['input'] + ['hidden'] * (len(convs) - 1) + ['output']
    self.multipliers = tuple(parameterisation.multiplier(param, kind, n, self.num_layers, output_multiplier)
                             for kind, n in zip(kinds, fans))
    self.act = activations.get(activation)

  def _layer(self, l):
    return self.convs[l] if l < len(self.convs) else self.head

  def phi(self, l, z):
    h = z if l == 0 else nnx.max_pool(self.act(z), window_shape=(2, 2), strides=(2, 2), padding='SAME')
    return h.reshape(h.shape[0], -1) if l == len(self.convs) else h

  def unphi(self, l, h, z_shape):
    """phi's transpose, act as the identity and max pooling as sum pooling (unpooling copies)."""
    return h.reshape(z_shape) if l == 0 else unpool(h, z_shape)

  def kernel(self, l):
    return self._layer(l).kernel[...]

  def apply(self, l, h, kernel):
    return scaled_product(h, kernel, self.multipliers[l])

  def bias(self, l):
    bias = self._layer(l).bias
    return None if bias is None else bias[...]


def scaled_product(h, kernel, multiplier):
  """multiplier * (h @ kernel) for a dense kernel (in, out), multiplier * conv(h, kernel) (3x3 SAME, NHWC) for a
  conv kernel (kh, kw, in, out): a CNN block's linear map without its bias."""
  if kernel.ndim == 2:
    out = h @ kernel
  else:
    out = jax.lax.conv_general_dilated(h, kernel, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  return out if multiplier == 1.0 else multiplier * out


def _conv(in_channels, out_channels, param, kind, rngs):
  if param == 'flax':
    return nnx.Conv(in_channels, out_channels, kernel_size=(3, 3), padding='SAME', rngs=rngs)
  init = lambda key, shape, dtype: parameterisation.kernel(key, param, kind, shape, math.prod(shape[:-1]))
  return nnx.Conv(in_channels, out_channels, kernel_size=(3, 3), padding='SAME', use_bias=False,
                  kernel_init=init, rngs=rngs)


def _linear(fan_in, out_features, param, rngs):
  if param == 'flax':
    return nnx.Linear(fan_in, out_features, rngs=rngs)
  init = lambda key, shape, dtype: parameterisation.kernel(key, param, 'output', shape)
  return nnx.Linear(fan_in, out_features, use_bias=False, kernel_init=init, rngs=rngs)
