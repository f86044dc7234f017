"""The layered-model interface every rule trains through.

A model is a sequence of L blocks; block l predicts layer l from layer l-1
(z_0 = x is the input):
  forward(x)              -> [z_1, ..., z_L]                 the composed network
  predict(inputs, first)  -> [mu_{first+1}, ..., mu_L]       from inputs [z_first, ..., z_{L-1}]
`predict` treats every block independently (layer-parallel): it is where
predictive coding spends its time. `first` lets a rule skip blocks whose
input is clamped, e.g. the first block while x is fixed.
"""
import dataclasses
from typing import Any

from flax import nnx


class LayeredModel(nnx.Module):
  """Base class of layered NNX models.

  Subclasses set `num_layers` and define `block(l, z)` (0-based l: predicts
  layer l+1 from layer l), or override `forward`/`predict` with batched code.
  """
  num_layers: int

  def block(self, l, z):
    raise NotImplementedError

  def forward(self, x):
    zs = []
    for l in range(self.num_layers):
      x = self.block(l, x)
      zs.append(x)
    return zs

  def predict(self, inputs, first=0):
    return [self.block(l, z) for l, z in zip(range(first, self.num_layers), inputs)]


@dataclasses.dataclass(frozen=True)
class FunctionalModel:
  """A pure view of a LayeredModel: the same methods, parameters passed in.

  Rules hold `params` (an nnx.State pytree) in their state and call these
  methods inside jitted steps; the module graph is split once, here.
  """
  graphdef: Any
  params: Any            # the initial parameters
  num_layers: int

  @classmethod
  def of(cls, model: LayeredModel):
    graphdef, params = nnx.split(model, nnx.Param)
    return cls(graphdef, params, model.num_layers)

  def forward(self, params, x):
    """[z_1, ..., z_L] for a batch x."""
    return nnx.merge(self.graphdef, params).forward(x)

  def output(self, params, x):
    """The network's output z_L (logits for classification)."""
    return self.forward(params, x)[-1]

  def predict(self, params, inputs, first=0):
    """[mu_{first+1}, ..., mu_L] from [z_first, ..., z_{L-1}]."""
    return nnx.merge(self.graphdef, params).predict(inputs, first)
