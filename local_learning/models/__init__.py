"""Layered models by name: one registry of classes, each with its config defaults.

A model class has `defaults` (its config fields), `from_config(config,
input_shape, num_outputs, rngs)`, and may add `problems(config)` for its own
fields.
"""
import ml_collections

from local_learning.errors import UserError
from local_learning.models import activations
from local_learning.models.cnn import VGG
from local_learning.models.layered import FunctionalModel, LayeredModel
from local_learning.models.mlp import MLP
from local_learning.models.rescnn import ResCNN
from local_learning.models.residual import ResidualMLP

MODELS = {'mlp': MLP, 'vgg': VGG, 'resmlp': ResidualMLP, 'rescnn': ResCNN}


def names():
  return sorted(MODELS)


def default_config(name):
  """The model section of a config: name plus that model's fields."""
  if name not in MODELS:
    raise UserError(_unknown(name))
  return ml_collections.ConfigDict(dict(name=name, **MODELS[name].defaults))


def problems(config):
  """Every mistake in a config.model section, one line each."""
  if config.name not in MODELS:
    return [_unknown(config.name)]
  cls = MODELS[config.name]
  missing = sorted(set(cls.defaults) - set(config) - set(cls.optional))
  if missing:
    return [f'config.model lacks {", ".join(missing)} for model {config.name!r}; choose the model '
            f'with the config file argument (e.g. configs/default.py:model={config.name}), not by name alone']
  out = []
  for field in ('widths', 'channels'):
    if field in config and not all(isinstance(w, int) and w > 0 for w in config[field]):
      out.append(f'config.model.{field} must be positive integers, got {tuple(config[field])}')
  if config.activation not in activations.ACTIVATIONS:
    out.append(f'unknown activation {config.activation!r}; choose one of {", ".join(sorted(activations.ACTIVATIONS))}')
  return out + cls.problems(config)


def functional(config, input_shape, num_outputs):
  """The FunctionalModel of `config` for inputs of `input_shape` (no batch axis)."""
  cls = MODELS[config.name]
  return FunctionalModel.create(lambda rngs: cls.from_config(config, tuple(input_shape), num_outputs, rngs),
                                input_shape)


def _unknown(name):
  return f'unknown model {name!r}; known models: {", ".join(names())}'


__all__ = ['FunctionalModel', 'LayeredModel', 'MLP', 'MODELS', 'ResCNN', 'ResidualMLP', 'VGG', 'default_config',
           'functional', 'names', 'problems']
