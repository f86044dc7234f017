"""VGG-style CNN as a layered model (as in the PC benchmark literature).

Block l < L: mu_l = maxpool(phi(conv3x3(z_{l-1}))); the last block is linear
on the flattened features. VGG-5: channels (128, 256, 512, 512) + one linear.
"""
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

  def block(self, l, z):
    if l < len(self.convs):
      h = self.act(self.convs[l](z))
      return nnx.max_pool(h, window_shape=(2, 2), strides=(2, 2), padding='SAME')
    return self.head(z.reshape(z.shape[0], -1))
