"""The Rule contract: what every learning rule provides.

A rule is one class, registered with `@local_learning.register`:

  name, tasks, description       what it is and which tasks it supports
  family                         the group tables and plots show it in: one of FAMILIES
                                 ('other' by default)
  follows_gradient               True if its update estimates the output loss's gradient
                                 (testing.check_learns then checks a positive cosine with bp's)
  default_config()               its hyperparameters (ConfigDict), merged into config.rule
  problems(config)               its constraints on them: every mistake, one line each (default
                                 none); the trainer's check lists them with the config's others
  search_space()                 {dotted field of config.rule: ll.space distribution}: what a
                                 tuned table tunes (local_learning.space); empty by default
  Rule(model, config, num_steps) binds the static parts: the model's pure functions,
                                 hyperparameters, the total number of training steps; raises
                                 UserError for problems(config), and for what only the model
                                 shows (e.g. a model without a hidden layer)
  init(rng)                      -> state, a pytree (params, optimizer states, buffers)
  train_step(state, batch, rng)  -> (state, metrics): pure and jittable; metrics is a
                                 dict of scalars, the trainer averages them per round
  params(state)                  -> the model parameters (checked for divergence)
  output(state, x)               classification: scores (B, C) whose argmax is the
                                 prediction; by default the model's output z_L under
                                 params(state). A rule whose prediction is not one
                                 feedforward pass (equilibrium propagation's free
                                 phase, Forward-Forward's goodness per label) says so here

Evaluation belongs to the trainer, the same for every rule: it takes the argmax
of `output` and computes the test accuracy; no rule grades itself. A
classification rule receives a `FunctionalModel` and batches `(x, y)`: x (B, ...)
float32, y (B,) int32 labels. The model contract (activities are pre-activations;
block l is z_{l+1} = linear_l(phi_l(z_l)) + skip_l z_l; forward with feedback
matrices; each block's phi, linear map and its transpose) is documented in
local_learning/models/layered.py. A rule that only estimates weight gradients
subclasses `GradientRule` and writes `grads`. Separation rules subclass
`ll.SeparationRule` (tasks/separation.py). `local_learning.testing.check_rule`
runs a rule through this contract.
"""
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax import core as jax_core

from local_learning import losses, optim, space
from local_learning.arrays import Array, Batch, Inputs, Key, Metrics, Params, Scalar, Scores, State
from local_learning.errors import UserError
from local_learning.models.layered import FunctionalModel

# Rule.family's values, in the order tables and plots group rules by (other last).
FAMILIES = ('backprop', 'PC family', 'feedback alignment', 'energy-based', 'forward-only', 'separation', 'other')


class Rule:
  """Base class of learning rules; see the module docstring for the contract."""
  name: str = ''
  tasks: tuple[str, ...] = ('classification',)
  description: str = ''
  family: str = 'other'
  follows_gradient: bool = False    # True: its update estimates the loss's gradient (testing.check_learns checks it)

  def __init__(self, model: Any, config: ml_collections.ConfigDict, num_steps: int):
    """model: a FunctionalModel (classification) or a SeparationModel (separation). A config with
    traced values (tuning lanes, local_learning.trial_lanes) is not checked here: each lane's
    concrete config was."""
    traced = any(isinstance(v, jax_core.Tracer) for v in jax.tree.leaves(config.to_dict()))
    if not traced and (problems := type(self).problems(config)):
      raise UserError('\n'.join(problems))
    self.model = model
    self.config = config
    self.num_steps = num_steps

  @classmethod
  def default_config(cls) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict()

  @classmethod
  def problems(cls, config: ml_collections.ConfigDict) -> list[str]:
    """Every mistake in config (this rule's section, defaults merged), one line each; [] if none."""
    del config
    return []

  @classmethod
  def search_space(cls) -> dict[str, space.Dist]:
    """{dotted field of config.rule: ll.space distribution}; nothing to tune by default."""
    return {}

  def init(self, rng: Key) -> State:
    raise NotImplementedError

  def train_step(self, state: State, batch: Any, rng: Key | None) -> tuple[State, Metrics]:
    raise NotImplementedError

  def params(self, state: State) -> Params:
    return state['params']

  def output(self, state: State, x: Inputs) -> Scores:
    """Scores (B, C) for a batch x (B, ...); the trainer predicts their argmax."""
    return self.model.output(self.params(state), x)


class GradientRule(Rule):
  """A rule that estimates the weights' gradient; the base applies it with config.optimizer.

  Subclasses write `grads(state, batch, rng) -> (grads like state['params'],
  metrics)` and, for state of their own that is not trained (e.g. fixed
  feedback matrices), `buffers(rng) -> dict`, stored in the state beside params
  and opt_state (drawn from a key of their own, so they are independent of the
  weights). State that is trained beside the weights (e.g. target
  propagation's learned inverses, an amortiser) comes from
  `auxiliary(rng, params) -> {name: pytree}`: each is stored as state[name]
  with its optimizer's state state[name + '_opt_state'] (`auxiliary_optimizer(name)`,
  by default the weights' config.optimizer), and `apply_auxiliary(state, name,
  grads)` takes one step of it (in a train_step the rule overrides).
  Their default_config extends this one's: `optimizer`, and `loss` ('ce' or
  'mse'; a rule without an output loss deletes it), built as `self.loss`,
  fn(outputs (B, C), labels (B,)) -> (B,).
  """

  model: FunctionalModel
  loss: losses.Loss

  @classmethod
  def default_config(cls) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(dict(optimizer=optim.default_config(), loss='ce'))

  @classmethod
  def problems(cls, config: ml_collections.ConfigDict) -> list[str]:
    out = super().problems(config)
    if 'loss' in config and config.loss not in losses.LOSSES:
      out.append(f'unknown loss {config.loss!r}; choose one of {", ".join(losses.LOSSES)}')
    return out

  @classmethod
  def search_space(cls) -> dict[str, space.Dist]:
    """The weight optimizer's rate and weight decay. Rate: our choice, a decade either side of the default
    1e-3 (PCX's hypertune configs, e.g. liukidar/pcx examples/pc_decoder/pc_mnist_adamw_hypertune.yaml,
    search AdamW's 3e-5..1e-3 for 25-epoch runs; short runs want the upper decade too). Weight decay:
    PCX's range there, log-uniform 1e-5..1e-2."""
    return {'optimizer.learning_rate': space.LogUniform(1e-4, 1e-2),
            'optimizer.weight_decay': space.LogUniform(1e-5, 1e-2)}

  def __init__(self, model: FunctionalModel, config: ml_collections.ConfigDict, num_steps: int):
    super().__init__(model, config, num_steps)
    self.tx = optim.build(config.optimizer, num_steps)
    if 'loss' in config:     # a rule without an output loss has no self.loss
      self.loss = losses.loss_fn(config.loss)

  def init(self, rng: Key) -> State:
    params = self.model.init(rng)
    state = dict(params=params, opt_state=self.tx.init(params), **self.buffers(jax.random.fold_in(rng, 1)))
    for name, tree in self.auxiliary(jax.random.fold_in(rng, 2), params).items():
      state.update({name: tree, f'{name}_opt_state': self.auxiliary_optimizer(name).init(tree)})
    return state

  def buffers(self, rng: Key) -> dict[str, Any]:
    """State that is not trained (e.g. fixed feedback matrices): {name: pytree}; none by default."""
    del rng
    return {}

  def auxiliary(self, rng: Key, params: Params) -> dict[str, Any]:
    """State trained beside the weights, each with an optimizer of its own: {name: pytree}, from a key
    of its own and the fresh params (e.g. a copy of them); none by default."""
    del rng, params
    return {}

  def auxiliary_optimizer(self, name: str) -> optax.GradientTransformation:
    """The optimizer of auxiliary state `name`: the weights' (self.tx) unless overridden, e.g. with
    optim.build(self.config.inverse_optimizer, self.num_steps) for a config section of its own."""
    del name
    return self.tx

  def apply_auxiliary(self, state: State, name: str, grads: Any) -> State:
    """state with one step of auxiliary_optimizer(name) on state[name] along grads (shaped like it)."""
    tx, opt_state = self.auxiliary_optimizer(name), state[f'{name}_opt_state']
    updates, opt_state = tx.update(grads, opt_state, state[name])
    return dict(state, **{name: optax.apply_updates(state[name], updates), f'{name}_opt_state': opt_state})

  def grads(self, state: State, batch: Batch, rng: Key | None) -> tuple[Params, Metrics]:
    raise NotImplementedError

  def loss_grads(self, params: Params, batch: Batch, feedback: Sequence[Array | None] | None = None
                 ) -> tuple[Scalar, Params]:
    """(the batch-mean loss of the output, its gradient w.r.t. params): backpropagation, or, with
    feedback (model.forward's), each block's error sent down through feedback[l] in place of W_l."""
    x, y = batch
    return jax.value_and_grad(lambda p: jnp.mean(self.loss(self.model.forward(p, x, feedback)[-1], y)))(params)

  def apply_grads(self, grads: Params, opt_state: Any, params: Params) -> tuple[Params, Any]:
    """One step of the rule's optimizer on params (any pytree grads, opt_state match) -> (params, opt_state)."""
    updates, opt_state = self.tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  def train_step(self, state: State, batch: Batch, rng: Key | None) -> tuple[State, Metrics]:
    grads, metrics = self.grads(state, batch, rng)
    params, opt_state = self.apply_grads(grads, state['opt_state'], state['params'])
    return dict(state, params=params, opt_state=opt_state), metrics
