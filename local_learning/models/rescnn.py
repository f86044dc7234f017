"""The limits paper's residual CNN (JPC experiments/limits_paper/cnn/model.py `ResNet`, after
Bordelon et al. 2023, arXiv 2309.16620) as a layered model, in layered.py's convention.

Three stages of N channels; each is a 3x3 stage convolution followed by
`blocks` residual blocks, and every stage but the first reads the previous
one's output average-pooled 2x2 (stride 2); a dense readout reads the last
stage pooled and flattened. No biases. With L = 3 (1 + blocks) + 1 weight
layers (the reference's depth, n_res_blocks + 4):
  stage conv   z' = a_s conv(pool(z))           (the first: a_s conv(x); no activation, as the reference)
  residual     z' = z + a_r conv(act(z))        skip 1
  readout      z_L = a_o W flatten(pool(z))     the output (logits)
`param` (models/parameterisation.py's table, the width being N): 'sp'
(U(+-1/sqrt(fan-in)), equinox's default, every a = 1), 'mup' and 'mupc'
(N(0, 1) kernels; a_s = 1/sqrt(C_in k^2), the table's input row; a_r the
hidden row, 1/sqrt(N k^2) for mup and 1/sqrt(N k^2 L) for mupc, times the
activation's gain as the reference (PyTorch's calculate_gain: tanh 5/3, relu
sqrt 2); a_o = 1/(its fan-in) times `output_multiplier`).

Differences from the reference: its pooling layers are activities of their
own (a free pooled activity with an error), here pooling belongs to the next
block's phi as in vgg; pooling floors odd sizes (28 -> 14 -> 7 -> 3) as the
reference's.
"""
import math

from flax import nnx

from local_learning import validate
from local_learning.errors import UserError
from local_learning.models import activations, cnn, parameterisation
from local_learning.models.layered import LayeredModel, unpool

PARAMS = ('sp', 'mup', 'mupc')
GAINS = {'linear': 1.0, 'tanh': 5 / 3, 'relu': math.sqrt(2.0)}     # torch.nn.init.calculate_gain


class ResCNN(LayeredModel):
  """input_shape: (H, W, C); width: channels N; blocks: residual blocks per stage; out: classes."""
  defaults = dict(width=16, blocks=1, activation='tanh', param='mupc', output_multiplier=1.0)
  loops_well = False      # convolutions, as vgg

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    if len(input_shape) != 3:
      raise UserError(f'model rescnn needs image inputs (H, W, C); this dataset gives shape {input_shape}')
    return cls(input_shape, config.width, config.blocks, num_outputs, config.activation, config.param,
               config.output_multiplier, rngs=rngs)

  @classmethod
  def problems(cls, config):
    out = validate.int_problems(config, ('width', 'blocks'), 1, 'config.model.')
    if config.param not in PARAMS:
      out.append(f'unknown parameterisation {config.param!r} for model rescnn; choose one of {", ".join(PARAMS)}')
    return out

  def __init__(self, input_shape, width, blocks, out_features, activation, param='mupc', output_multiplier=1.0,
               *, rngs):
    height, side, channels = input_shape
    self.residual = ((False,) + (True,) * blocks) * 3 + (False,)
    num_weights = len(self.residual)
    convs, multipliers = [], []
    for residual in self.residual[:-1]:
      kind = 'hidden' if residual else 'input'
      convs.append(nnx.Conv(channels, width, kernel_size=(3, 3), padding='SAME', use_bias=False, rngs=rngs,
                            kernel_init=_init(param, kind)))
      gain = GAINS.get(activation, 1.0) if residual and param != 'sp' else 1.0
      multipliers.append(gain * parameterisation.multiplier(param, kind, 9 * channels, num_weights))
      if not residual and len(convs) > 1:
        height, side = height // 2, side // 2
      channels = width
    fan_in = (height // 2) * (side // 2) * width
    self.convs = nnx.List(convs)
    self.head = nnx.Linear(fan_in, out_features, use_bias=False, rngs=rngs, kernel_init=_init(param, 'output'))
    self.multipliers = tuple(multipliers) + (
        parameterisation.multiplier(param, 'output', fan_in, num_weights, output_multiplier),)
    self.num_layers = num_weights
    self.act = activations.get(activation)

  def phi(self, l, z):
    if self.residual[l]:
      return self.act(z)
    if l == 0:
      return z
    h = nnx.avg_pool(z, window_shape=(2, 2), strides=(2, 2), padding='VALID')
    return h.reshape(h.shape[0], -1) if l == len(self.convs) else h

  def unphi(self, l, h, z_shape):
    """phi's transpose, act as the identity: average pooling's transpose (a quarter to each pixel)."""
    return h.reshape(z_shape) if self.residual[l] or l == 0 else unpool(h, z_shape, 0.25, ceil=False)

  def kernel(self, l):
    return (self.convs[l] if l < len(self.convs) else self.head).kernel[...]

  def apply(self, l, h, kernel):
    return cnn.scaled_product(h, kernel, self.multipliers[l])

  def skip(self, l):
    return 1.0 if self.residual[l] else 0.0


def _init(param, kind):
  return lambda key, shape, dtype: parameterisation.kernel(key, param, kind, shape, math.prod(shape[:-1]))
