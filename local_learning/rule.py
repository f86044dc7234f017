"""The Rule contract: what every learning rule provides.

A rule is one class, registered with `@local_learning.register`:

  name, tasks, description       what it is and which tasks it supports
  default_config()               its hyperparameters (ConfigDict), merged into config.rule
  Rule(model, config, num_steps) binds the static parts: the model's pure functions,
                                 hyperparameters, the total number of training steps
  init(rng)                      -> state, a pytree (params, optimizer states, buffers)
  train_step(state, batch, rng)  -> (state, metrics): pure and jittable; metrics is a
                                 dict of scalars, the trainer averages them per round
  params(state)                  -> the model parameters the trainer evaluates

Evaluation belongs to the trainer, the same for every rule. A classification
rule receives a `FunctionalModel` (forward / predict with explicit params) and
batches `(x, y)`: x (B, ...) float32, y (B,) int32 labels. A rule that only
estimates weight gradients subclasses `GradientRule` and writes `grads`.
Separation rules subclass `ll.SeparationRule` (tasks/separation.py).
"""
import jax
import ml_collections
import optax

from local_learning import optim


class Rule:
  """Base class of learning rules; see the module docstring for the contract."""
  name: str = ''
  tasks: tuple = ('classification',)
  description: str = ''

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


class GradientRule(Rule):
  """A rule that estimates the weights' gradient; the base applies it with config.optimizer.

  Subclasses write `grads(state, batch, rng) -> (grads like state['params'],
  metrics)` and, for state of their own (e.g. fixed feedback matrices),
  `buffers(rng) -> dict`, stored in the state beside params and opt_state.
  Their default_config extends this one's (it holds `optimizer`).
  """

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict(dict(optimizer=optim.default_config()))

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    self.tx = optim.build(config.optimizer, num_steps)

  def init(self, rng):
    params = self.model.init(rng)
    return dict(params=params, opt_state=self.tx.init(params), **self.buffers(jax.random.fold_in(rng, 1)))

  def buffers(self, rng):
    del rng
    return {}

  def grads(self, state, batch, rng):
    raise NotImplementedError

  def train_step(self, state, batch, rng):
    grads, metrics = self.grads(state, batch, rng)
    updates, opt_state = self.tx.update(grads, state['opt_state'], state['params'])
    return dict(state, params=optax.apply_updates(state['params'], updates), opt_state=opt_state), metrics
