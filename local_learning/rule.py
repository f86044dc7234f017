"""The Rule contract: what every learning rule provides.

A rule is one class, registered with `@local_learning.register`:

  name, tasks, description       what it is and which tasks it supports
  default_config()               its hyperparameters (ConfigDict), merged into config.rule
  Rule(model, config, num_steps) binds the static parts: the model's pure functions,
                                 hyperparameters, the total number of training steps
  init(rng)                      -> state, a pytree (params, optimizer states, buffers)
  train_step(state, batch, rng)  -> (state, metrics): pure and jittable; metrics is a
                                 dict of scalars, the trainer averages them per epoch
  params(state)                  -> the model parameters the trainer evaluates

Evaluation belongs to the trainer, the same for every rule. A classification
rule receives a `FunctionalModel` (forward / predict with explicit params) and
batches `(x, y)`: x (B, ...) float32, y (B,) int32 labels.

A separation rule (tasks=('separation',)) receives a `ll.separation.SeparationModel`
(n sources, m mixtures, the sources' domain). An online rule (`online = True`,
the default) gets one mixture x (m,) per train_step, the samples in order, and
num_steps = the number of samples; a batch rule (`online = False`) gets all
mixtures X (N, m) at every train_step, and num_steps = its config's `iterations`.
params(state) is the unmixing matrix W (n, m): the trainer scores the outputs W x.

An online separation rule may set `seeds_last = True`: its train_step then also
accepts a state and x whose every array carries a trailing seeds axis (K,)
(x (m, K); every leaf of init's state gets the axis appended; rng becomes K
keys) and returns metrics of shape (K,); init and params stay per seed.
Written with local_learning.lanes, one code serves both. The trainer then
steps the K seeds as SIMD lanes of one loop, where vmap would spend each
per-sample step moving the seeds axis around.
"""
import ml_collections


class Rule:
  """Base class of learning rules; see the module docstring for the contract."""
  name: str = ''
  tasks: tuple = ('classification',)
  description: str = ''
  online: bool = True      # separation: one train_step per sample (else one per pass over all)
  seeds_last: bool = False  # separation, online: train_step also runs on a trailing seeds axis

  def __init__(self, model, config, num_steps):
    self.model = model
    self.config = config
    self.num_steps = num_steps

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict()

  def init(self, rng):
    raise NotImplementedError

  def train_step(self, state, batch, rng):
    raise NotImplementedError

  def params(self, state):
    return state['params']
