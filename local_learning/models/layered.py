"""The layered-model interface every rule trains through.

A model is a sequence of L blocks; block l predicts layer l from layer l-1
(z_0 = x is the input):
  forward(x)              -> [z_1, ..., z_L]                 the composed network
  predict(inputs, first)  -> [mu_{first+1}, ..., mu_L]       from inputs [z_first, ..., z_{L-1}]
`predict` treats every block independently (layer-parallel): it is where
predictive coding spends its time. `first` lets a rule skip blocks whose
input is clamped, e.g. the first block while x is fixed.

Stacked entries: a run of K equal layers may come as ONE list entry, their
activities stacked on a leading axis (K, B, ...), so that rules run one scan
or one batched einsum over them instead of K Python-level layers (compile
time and per-op overhead then do not grow with depth). `stacks[l]` is K for
such an entry and 0 for a plain (B, ...) entry; the lists above are then
lists of entries, `num_layers` their number. A stacked entry's prediction
may read its own layers shifted by one (layer k from layer k-1) as well as
the entry before it.
"""
import dataclasses
from typing import Any, Callable

from flax import nnx


class LayeredModel(nnx.Module):
  """Base class of layered NNX models.

  Subclasses set `num_layers` and define `block(l, z)` (0-based l: predicts
  layer l+1 from layer l), or override `forward`/`predict` with batched code;
  a model with stacked entries also sets `stacks` (see the module docstring).
  For the registry (models/__init__.py): `defaults`, the config fields, and
  `from_config`; `problems` checks the model's own fields.
  """
  num_layers: int
  stacks: tuple = ()
  defaults: dict = {}
  loops_well: bool = True     # False: XLA:CPU runs its train step slower inside a loop (one step per call)

  @classmethod
  def from_config(cls, config, input_shape, num_outputs, rngs):
    raise NotImplementedError

  @classmethod
  def problems(cls, config):
    """Mistakes in config.model beyond the shared checks, one line each."""
    del config
    return []

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
  """A pure view of a LayeredModel: its methods with the parameters passed in.

  Rules keep parameters (an nnx.State pytree) in their state and call these
  methods inside jitted steps. `init(rng)` builds fresh parameters and is pure,
  so the trainer can vmap it over seeds. Models hold nnx.Param variables only.
  """
  graphdef: Any
  num_layers: int
  build: Callable[[nnx.Rngs], LayeredModel]
  stacks: tuple = ()     # per entry: K if it stacks K equal layers (K, B, ...), else 0
  loops_well: bool = True

  @classmethod
  def create(cls, build):
    """build: nnx.Rngs -> LayeredModel; called abstractly here to get the graph."""
    abstract = nnx.eval_shape(lambda: build(nnx.Rngs(0)))
    graphdef, _ = nnx.split(abstract, nnx.Param)
    return cls(graphdef, abstract.num_layers, build, tuple(abstract.stacks), abstract.loops_well)

  def stack_size(self, l):
    """K if entry l stacks K equal layers on axis 0, else 0."""
    return self.stacks[l] if self.stacks else 0

  @property
  def depth(self):
    """The number of layers z_1..z_L, counting every layer of a stack."""
    return sum(self.stack_size(l) or 1 for l in range(self.num_layers))

  def init(self, rng):
    """Fresh parameters from a PRNG key."""
    return nnx.state(self.build(nnx.Rngs(rng)), nnx.Param)

  def forward(self, params, x):
    """[z_1, ..., z_L] for a batch x."""
    return nnx.merge(self.graphdef, params).forward(x)

  def output(self, params, x):
    """The network's output z_L (logits for classification)."""
    return self.forward(params, x)[-1]

  def predict(self, params, inputs, first=0):
    """[mu_{first+1}, ..., mu_L] from [z_first, ..., z_{L-1}]."""
    return nnx.merge(self.graphdef, params).predict(inputs, first)
