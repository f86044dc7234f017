"""Search spaces: the hyperparameters a rule declares for tuning, as small typed distributions.

A rule's `search_space()` (beside `default_config`) returns {path: distribution},
each path a dotted field of config.rule ('optimizer.learning_rate', 'beta'):

  ll.space.LogUniform(1e-4, 1e-2)     a float, uniform in log space
  ll.space.Uniform(0.0, 0.95)         a float
  ll.space.Int(4, 12)                 an integer in [low, high] (log=True: log scale)
  ll.space.Choice(('sum', 'mean'))    one of the options

The model's shape (width, depth) is the table's, never the rule's to tune.
Nothing here depends on Optuna: `local_learning.tuning` maps these to Optuna's
distributions, `local_learning.testing.check_rule` samples them with NumPy.
"""
import dataclasses
import hashlib
import json
import math
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class LogUniform:
  low: float
  high: float

  def __post_init__(self):
    if not 0 < self.low < self.high:
      raise ValueError(f'LogUniform needs 0 < low < high, got {self.low}, {self.high}')

  def sample(self, rng):
    return float(np.exp(rng.uniform(math.log(self.low), math.log(self.high))))

  def midpoint(self):
    return math.sqrt(self.low * self.high)


@dataclasses.dataclass(frozen=True)
class Uniform:
  low: float
  high: float

  def __post_init__(self):
    if not self.low < self.high:
      raise ValueError(f'Uniform needs low < high, got {self.low}, {self.high}')

  def sample(self, rng):
    return float(rng.uniform(self.low, self.high))

  def midpoint(self):
    return (self.low + self.high) / 2


@dataclasses.dataclass(frozen=True)
class Int:
  low: int
  high: int
  log: bool = False

  def __post_init__(self):
    if not (isinstance(self.low, int) and isinstance(self.high, int) and self.low < self.high
            and (self.low > 0 or not self.log)):
      raise ValueError(f'Int needs integers low < high (low > 0 on a log scale), got {self.low}, {self.high}')

  def sample(self, rng):
    if self.log:
      return int(round(math.exp(rng.uniform(math.log(self.low), math.log(self.high)))))
    return int(rng.integers(self.low, self.high + 1))

  def midpoint(self):
    return int(round(math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2))


@dataclasses.dataclass(frozen=True)
class Choice:
  options: tuple

  def __post_init__(self):
    if len(self.options) < 2:
      raise ValueError(f'Choice needs at least two options, got {self.options}')

  def sample(self, rng):
    return self.options[int(rng.integers(len(self.options)))]

  def midpoint(self):
    return self.options[len(self.options) // 2]


Dist = LogUniform | Uniform | Int | Choice


def sample(space, rng):
  """{path: a value drawn from its distribution} with a np.random.Generator."""
  return {path: dist.sample(rng) for path, dist in sorted(space.items())}


def midpoint(space):
  """{path: the distribution's middle (geometric on a log scale)}."""
  return {path: dist.midpoint() for path, dist in sorted(space.items())}


def apply(config, point):
  """Sets config.rule-relative fields: `config` is a rule's ConfigDict, point {dotted path: value}.
  A path that config lacks is a KeyError; a value of the wrong type a TypeError (ConfigDict's)."""
  for path, value in point.items():
    *parents, leaf = path.split('.')
    node = config
    for name in parents:
      node = node[name]
    if leaf not in node:
      raise KeyError(f'no field {path!r}')
    node[leaf] = value
  return config


def contains(dist, value):
  """Whether value is a point of dist (within its bounds, or one of its options)."""
  if isinstance(dist, Choice):
    return value in dist.options
  return isinstance(value, (int, float)) and not isinstance(value, bool) and dist.low <= value <= dist.high


def values(config, space):
  """{path: config's value} for the paths of space that config holds inside their distribution."""
  out = {}
  for path, dist in space.items():
    node = config
    for name in path.split('.'):
      node = node[name] if name in node else None
      if node is None:
        break
    if node is not None and contains(dist, node):
      out[path] = node
  return out


def digest(space):
  """SHA-256 of a space (its paths, kinds and bounds): a tuned table's manifest records it."""
  text = json.dumps({path: [type(dist).__name__, _fields(dist)] for path, dist in sorted(space.items())},
                    sort_keys=True)
  return hashlib.sha256(text.encode()).hexdigest()


def describe(dist):
  """'log-uniform [0.0001, 0.01]', 'int [4, 12]', ... for tables and --help."""
  if isinstance(dist, Choice):
    return f'one of {", ".join(map(str, dist.options))}'
  kind = {LogUniform: 'log-uniform', Uniform: 'uniform', Int: 'int (log)' if getattr(dist, 'log', False) else 'int'}
  return f'{kind[type(dist)]} [{dist.low:g}, {dist.high:g}]'


def _fields(dist) -> Any:
  return {f.name: list(v) if isinstance(v := getattr(dist, f.name), tuple) else v for f in dataclasses.fields(dist)}
