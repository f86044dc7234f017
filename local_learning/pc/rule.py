"""PCRule: the base of PC-family rules (pc, mupc and the variants in rules/)."""
from typing import NamedTuple, cast

import jax
import jax.numpy as jnp
import ml_collections

from local_learning import losses, rule
from local_learning.arrays import (
  Activities,
  Array,
  Batch,
  Inputs,
  Key,
  Labels,
  Metrics,
  OutputTerm,
  Params,
  Scalar,
  Scores,
  State,
)
from local_learning.errors import UserError
from local_learning.models.layered import FunctionalModel
from local_learning.pc import energies, equilibrium, inference, post_activation, solvers


class Settled(NamedTuple):
  """One batch's inference: the feedforward pass [z_1, ..., z_L], the output term, the settled
  hidden activities [z_1, ..., z_{L-1}] and the solver's steps."""
  feedforward: Activities
  output: OutputTerm
  hidden: Activities
  steps: Scalar


class PCRule(rule.GradientRule):
  """Inference from the feedforward pass, then the local weight update dF/dW / beta.

  Hyperparameters (default_config): loss ('mse' clamps the output to the target,
  'ce' makes the output term a cross-entropy), beta (< 1 nudges), inference_steps
  T, activity_lr and activity_energy (which energy activity_lr steps on:
  'sum', the energy summed over the batch, makes it a step per sample; 'mean',
  the batch-mean energy as in JPC, a step of activity_lr / B per sample for a
  batch of B, read from the batch when the step is traced), activity_momentum
  (gd only), activity_solver (gd, euler, heun, adaptive: see
  local_learning.pc.solvers) with activity_tol, activity_max_steps and
  activity_max_t1 for 'adaptive' (JPC's solve_inference), and the weight
  optimizer. activity_solver='closed_form' puts the activities at the energy's
  minimum directly (local_learning.pc.equilibrium): for linear networks and the
  mse output only, where inference run to convergence reaches the same point.
  energy_weights: () (every error term's weight 1), or w_1..w_{L-1}, a weight per hidden
  layer's error term w_l 1/2 ||z_l - mu_l||^2 (local_learning.pc.energies), in inference and in
  the weight gradient alike; the error-wave skipping and stacked entries stay as they are.
  activities: 'pre' (the default: the nodes are the model's pre-activations z_l, errors
  z_l - W phi(z_{l-1}) - b) or 'post' (PCX's nodes h_l = phi(z_l), errors h_l - phi(W h_{l-1} + b):
  local_learning.pc.post_activation; `self.model` is then that view of the model).

  A step is `estimate` = `settle` (`clamp`: feedforward pass -> output term; then `infer`) then
  `learn_from` (weight gradient dF/dW / beta -> `metrics`). A variant overrides only
  what its paper changes:
    solver(batch_size)                 the activity solver
    output_term(y, feedforward, beta)  the energy's output term (and quadratic_output, its
                                       (target, precision) for the closed form; beta_sign, the
                                       sign beta must have): nudging
    infer(params, x, output, feedforward, init, quadratic) -> (hidden, steps)
                                       inference, the closed form inside it: epc (over the errors)
    settle(..., init=guess)            where inference starts (an amortised guess, say)
    estimate / grads / train_step      the estimator (nudging's centred difference), or a step
                                       that interleaves or adds learning (ipc, bpc; hpc, whose
                                       generator is a network of its own, writes its own step)
    problems(config)                   the rule's constraints on its config
  A subclass whose inference is its own sets `closed_form = False`; one whose energy does not go
  through `infer` and `learn_from` (so does not honour energy_weights) sets `energy_weighted = False`.
  The solver's optax transform for gd is public: solver() may return
  dataclasses.replace(super().solver(batch_size), tx=optax.adam(...)) (pc.ActivitySolver).
  """
  beta_sign = 1
  closed_form = True
  energy_weighted = True
  follows_gradient = True     # at beta = 1 the update approximates backprop's gradient (testing.check_learns)
  post_activation = True      # False: a rule whose energy reads the model's pre-activations itself (bpc)

  @classmethod
  def default_config(cls) -> ml_collections.ConfigDict:
    config = super().default_config()
    config.update(dict(loss='mse', beta=1.0, inference_steps=8, activity_lr=0.1, activity_energy='sum',
                       activity_momentum=0.0, activity_solver='gd', activity_tol=1e-3, activity_max_steps=4096,
                       activity_max_t1=20.0, activities='pre'))
    config.energy_weights = ()
    return config

  @classmethod
  def problems(cls, config: ml_collections.ConfigDict) -> list[str]:
    out = super().problems(config)
    if config.inference_steps < 0 or config.activity_lr <= 0:
      out.append(f'{cls.name} needs inference_steps >= 0 and activity_lr > 0')
    if not config.beta * cls.beta_sign > 0:
      out.append(f'{cls.name} needs beta {">" if cls.beta_sign > 0 else "<"} 0, got {config.beta}')
    if config.activity_energy not in ('sum', 'mean'):
      out.append(f"{cls.name}: activity_energy must be 'sum' or 'mean', got {config.activity_energy!r}")
    out += [f'{cls.name}: {problem}' for problem in solvers.problems(config)]
    out += _energy_weight_problems(cls, config)
    if config.activities not in ('pre', 'post'):
      out.append(f"{cls.name}: activities must be 'pre' or 'post', got {config.activities!r}")
    elif config.activities == 'post' and not cls.post_activation:
      out.append(f"{cls.name}'s energy reads the model's pre-activations itself; activities='post' is for the "
                 "other PC rules; use activities='pre'")
    if config.activity_solver == solvers.CLOSED_FORM:
      fix = 'choose another activity_solver'
      if not cls.closed_form:
        out.append(f'{cls.name} runs inference its own way; activity_solver={solvers.CLOSED_FORM} is for pc, '
                   f'mupc and the nudging rules; {fix}')
      elif config.loss != 'mse':
        out.append(f'activity_solver={solvers.CLOSED_FORM} needs loss=mse (a quadratic energy), got {config.loss!r}')
    return out

  def __init__(self, model: FunctionalModel, config: ml_collections.ConfigDict, num_steps: int):
    """Checks the model (the config's own problems are the base's): at least one hidden layer, plain
    blocks for activities='post', and a linear one for the closed form."""
    if model.num_layers < 2:
      raise UserError(f'{self.name} needs a model with at least one hidden layer')
    if config.get('activities') == 'post':
      if problems := post_activation.problems(model):
        raise UserError(f'{self.name}: {problems[0]}')
      model = cast(FunctionalModel, post_activation.PostActivation(model))   # the same methods, after phi
    super().__init__(model, config, num_steps)
    self.loss = losses.loss_fn(config.loss)
    self.inference_steps = config.inference_steps
    weights = tuple(config.get('energy_weights', ()))
    if weights and len(weights) != model.depth - 1:
      raise UserError(f'{self.name}: energy_weights has {len(weights)} weights; this model has {model.depth - 1} '
                      'hidden layers, give one weight each (or none: every weight 1)')
    self.energy_weights = weights or None     # None: the plain energy, every weight 1
    if config.activity_solver == solvers.CLOSED_FORM:
      shape = model.kernel_shapes[0]
      probe = jax.random.normal(jax.random.key(0), (4, shape[0])) if len(shape) == 2 else None
      if probe is None or not equilibrium.is_affine(model, model.init(jax.random.key(0)), probe):
        raise UserError(f'activity_solver={solvers.CLOSED_FORM} needs a linear network (a dense model with '
                        'activation=linear): this model\'s forward pass is not affine; choose another activity_solver')

  def solver(self, batch_size: int) -> solvers.ActivitySolver:
    """The activity solver for a batch of batch_size samples; its step is per sample."""
    scale = batch_size if self.config.activity_energy == 'mean' else 1
    return solvers.from_config(self.config, self.inference_steps, self.config.activity_lr / scale)

  def output_term(self, y: Labels, feedforward: Scores, beta: float | Array) -> OutputTerm:
    """The output term fn(mu_L (B, C)) -> (B,) for labels y; feedforward: the forward pass's output."""
    del feedforward
    return energies.nudged_loss(self.loss, y, beta)

  def quadratic_output(self, y: Labels, feedforward: Scores, beta: float | Array) -> tuple[Scores, float | Array]:
    """(target (B, C), precision) of the output term when it is precision / 2 ||mu_L - target||^2."""
    del feedforward
    return jax.nn.one_hot(y, self.model.kernel_shapes[-1][-1]), beta

  def grads(self, state: State, batch: Batch, rng: Key | None) -> tuple[Params, Metrics]:
    del rng
    x, y = batch
    return self.estimate(state['params'], x, y, self.config.beta)

  def estimate(self, params: Params, x: Inputs, y: Labels, beta: float | Array) -> tuple[Params, Metrics]:
    """PC's weight gradient for one batch at nudging strength beta -> (grads, metrics)."""
    return self.learn_from(params, x, y, beta, self.settle(params, x, y, beta))

  def clamp(self, params: Params, x: Inputs, y: Labels, beta: float | Array) -> tuple[Activities, OutputTerm]:
    """(the feedforward pass [z_1, ..., z_L] from x, the output term for labels y at beta)."""
    feedforward = self.model.forward(params, x)
    return feedforward, self.output_term(y, feedforward[-1], beta)

  def settle(self, params: Params, x: Inputs, y: Labels, beta: float | Array,
             init: Activities | None = None) -> Settled:
    """The feedforward pass, the output term and inference from init (None: the feedforward pass)."""
    feedforward, output = self.clamp(params, x, y, beta)
    closed = self.config.activity_solver == solvers.CLOSED_FORM
    quadratic = self.quadratic_output(y, feedforward[-1], beta) if closed else None
    return Settled(feedforward, output, *self.infer(params, x, output, feedforward, init, quadratic))

  def infer(self, params: Params, x: Inputs, output: OutputTerm, feedforward: Activities,
            init: Activities | None = None,
            quadratic: tuple[Scores, float | Array] | None = None) -> tuple[Activities, Scalar]:
    """The hidden activities [z_1, ..., z_{L-1}] that minimise the energy -> (hidden, steps taken).

    The activity solver from the feedforward pass (blocks below the error wave skipped) or from
    init; with activity_solver='closed_form', the minimum itself, from quadratic (settle passes
    quadratic_output's (target, precision)).
    """
    if quadratic is not None:
      hidden = equilibrium.activities(self.model, params, x, *quadratic, feedforward)
      return hidden, jnp.zeros((), jnp.float32)
    return inference.infer(self.model, params, x, output, self.solver(x.shape[0]), feedforward, init,
                           self.energy_weights)

  def learn_from(self, params: Params, x: Inputs, y: Labels, beta: float | Array,
                 settled: Settled) -> tuple[Params, Metrics]:
    """The local weight gradient dF/dW / beta at the settled activities -> (grads, metrics)."""
    weight_grad, value = energies.weight_grads(self.model, params, settled.hidden, x, settled.output, beta,
                                               weights=self.energy_weights)
    return weight_grad, self.metrics(settled.feedforward[-1], y, value, settled.steps)

  def metrics(self, output: Scores, y: Labels, energy_value: Scalar,
              steps: Scalar | None) -> Metrics:
    """loss: mean feedforward output loss; energy: mean energy after inference; the
    adaptive solver's number of steps and inference_budget_exhausted (1 where it ran
    out of steps: averaged by the trainer, the fraction of batches)."""
    metrics: Metrics = dict(loss=jnp.mean(self.loss(output, y)), energy=energy_value)
    if self.config.activity_solver == 'adaptive' and steps is not None:
      metrics['inference_steps'] = steps
      metrics['inference_budget_exhausted'] = self.solver(output.shape[0]).exhausted(steps)
    return metrics


def _energy_weight_problems(cls: type[PCRule], config: ml_collections.ConfigDict) -> list[str]:
  """energy_weights: non-negative numbers, for a rule whose energy honours them, not the closed form."""
  weights = config.get('energy_weights', ())
  if not weights:
    return []
  if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in weights):
    return [f'{cls.name}: energy_weights must be numbers >= 0, one per hidden layer, got {tuple(weights)}']
  if not cls.energy_weighted:
    return [f'{cls.name}: its energy is its own and does not take energy_weights; leave them out']
  if config.activity_solver == solvers.CLOSED_FORM:
    return [f'activity_solver={solvers.CLOSED_FORM} is the unweighted energy\'s minimum; leave out energy_weights '
            'or choose another activity_solver']
  return []
