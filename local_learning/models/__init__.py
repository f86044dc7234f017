"""Layered models by name: `default_config(name)` and `build(config, ...)`."""
import math

import ml_collections

from local_learning.errors import UserError
from local_learning.models.cnn import VGG
from local_learning.models.layered import FunctionalModel, LayeredModel
from local_learning.models.mlp import MLP
from local_learning.models.residual import ResidualMLP

_DEFAULTS = {
    'mlp': dict(widths=(128, 128, 128), activation='relu'),
    'vgg': dict(channels=(128, 256, 512, 512), activation='relu'),
    'resmlp': dict(depth=8, width=128, activation='relu', param='mupc', output_multiplier=1.0),
}


def names():
  return sorted(_DEFAULTS)


def default_config(name):
  """The model section of a config: name plus that model's fields."""
  if name not in _DEFAULTS:
    raise UserError(f'unknown model {name!r}; known models: {", ".join(names())}')
  return ml_collections.ConfigDict(dict(name=name, **_DEFAULTS[name]))


def functional(config, input_shape, num_outputs):
  """The FunctionalModel of `config` for inputs of `input_shape` (no batch axis)."""
  return FunctionalModel.create(lambda rngs: build(config, input_shape, num_outputs, rngs))


def build(config, input_shape, num_outputs, rngs):
  """A LayeredModel for inputs of `input_shape` (no batch axis)."""
  if config.name == 'mlp':
    return MLP(math.prod(input_shape), tuple(config.widths), num_outputs, config.activation, rngs=rngs)
  if config.name == 'vgg':
    if len(input_shape) != 3:
      raise UserError(f'model vgg needs image inputs (H, W, C); this dataset gives shape {input_shape}')
    return VGG(tuple(input_shape), tuple(config.channels), num_outputs, config.activation, rngs=rngs)
  if config.name == 'resmlp':
    return ResidualMLP(math.prod(input_shape), config.width, config.depth, num_outputs, config.activation,
                       config.param, config.output_multiplier, rngs=rngs)
  raise UserError(f'unknown model {config.name!r}; known models: {", ".join(names())}')


__all__ = ['FunctionalModel', 'LayeredModel', 'MLP', 'ResidualMLP', 'VGG', 'build', 'default_config', 'functional', 'names']
