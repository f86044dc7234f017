"""VGG-style CNN as a layered model (as in the PC benchmark literature), in layered.py's convention.

Conv block l < L-1: z_{l+1} = conv3x3_l(phi_l(z_l)) + b_l, with phi_0 the identity
and phi_l = maxpool2x2(act) for l > 0; the head: z_L = W flatten(maxpool2x2(act(z_{L-1}))) + b.
A conv block's activity is the convolution's output at full resolution; its
pooling belongs to the next block, so every linear map is a plain convolution
or dense layer. VGG-5: channels (128, 256, 512, 512) + one linear.
"""
import jax
from flax import nnx

from local_learning.errors import UserError
from local_learning.models import activations
from local_learning.models.layered import LayeredModel


class VGG(LayeredModel):
  """input_shape: (H, W, C); channels: one conv block each; out: classes."""
  defaults = dict(channels=(128, 256, 512, 512), activation='relu')
  loops_well = False      # XLA:CPU runs these convolutions several times slower in a loop (benchmarks/steps_per_call.py)

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    if len(input_shape) != 3:
      raise UserError(f'model vgg needs image inputs (H, W, C); this dataset gives shape {input_shape}')
    return cls(input_shape, tuple(config.channels), num_outputs, config.activation, rngs=rngs)

  def __init__(self, input_shape, channels, out_features, activation, *, rngs):
    height, width, in_channels = input_shape
    convs = []
    for c in channels:
      convs.append(nnx.Conv(in_channels, c, kernel_size=(3, 3), padding='SAME', rngs=rngs))
      in_channels = c
      height, width = -(-height // 2), -(-width // 2)   # 'SAME' pooling rounds up
    self.convs = nnx.List(convs)
    self.head = nnx.Linear(height * width * in_channels, out_features, rngs=rngs)
    self.num_layers = len(convs) + 1
    self.act = activations.get(activation)

  def _layer(self, l):
    return self.convs[l] if l < len(self.convs) else self.head

  def phi(self, l, z):
    h = z if l == 0 else nnx.max_pool(self.act(z), window_shape=(2, 2), strides=(2, 2), padding='SAME')
    return h.reshape(h.shape[0], -1) if l == len(self.convs) else h

  def kernel(self, l):
    return self._layer(l).kernel[...]

  def apply(self, l, h, kernel):
    if l == len(self.convs):
      return h @ kernel
    return jax.lax.conv_general_dilated(h, kernel, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))

  def bias(self, l):
    return self._layer(l).bias[...]
