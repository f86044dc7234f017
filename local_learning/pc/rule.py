"""PCRule: the base of PC-family rules (pc, mupc and the variants in rules/)."""
import jax
import jax.numpy as jnp

from local_learning import losses, rule
from local_learning.errors import UserError
from local_learning.pc import energies, equilibrium, inference, solvers


class PCRule(rule.GradientRule):
  """Inference from the feedforward pass, then the local weight update dF/dW / beta.

  Hyperparameters (default_config): loss ('mse' clamps the output to the target,
  'ce' makes the output term a cross-entropy), beta (< 1 nudges), inference_steps
  T, activity_lr and activity_energy (which energy activity_lr steps on:
  'sum', the energy summed over the batch, makes it a step per sample; 'mean',
  the batch-mean energy as in JPC, a step of activity_lr / B per sample for a
  batch of B, read from the batch when the step is traced), activity_momentum
  (gd only), activity_solver (gd, euler, heun, adaptive: see
  local_learning.pc.solvers) with activity_tol and activity_max_steps for
  'adaptive', and the weight optimizer. activity_solver='closed_form' puts the
  activities at the energy's minimum directly (local_learning.pc.equilibrium): for
  linear networks and the mse output only, where inference run to convergence
  reaches the same point. Subclasses change the output term (`output_term`, and
  `quadratic_output` for the closed form), the sign beta must have (`beta_sign`),
  or the estimate (`estimate`, `grads`); one whose inference is its own sets
  `closed_form = False`.
  """
  beta_sign = 1
  closed_form = True

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.update(dict(loss='mse', beta=1.0, inference_steps=8, activity_lr=0.1, activity_energy='sum',
                       activity_momentum=0.0, activity_solver='gd', activity_tol=1e-3, activity_max_steps=64))
    return config

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    if model.num_layers < 2:
      raise UserError(f'{self.name} needs a model with at least one hidden layer')
    if config.inference_steps < 0 or config.activity_lr <= 0:
      raise UserError(f'{self.name} needs inference_steps >= 0 and activity_lr > 0')
    if not config.beta * self.beta_sign > 0:
      raise UserError(f'{self.name} needs beta {">" if self.beta_sign > 0 else "<"} 0, got {config.beta}')
    if config.activity_energy not in ('sum', 'mean'):
      raise UserError(f"{self.name}: activity_energy must be 'sum' or 'mean', got {config.activity_energy!r}")
    for problem in solvers.problems(config):
      raise UserError(f'{self.name}: {problem}')
    self.loss = losses.loss_fn(config.loss)
    self.inference_steps = config.inference_steps
    if config.activity_solver == solvers.CLOSED_FORM:
      self._check_closed_form(model, config)

  def _check_closed_form(self, model, config):
    fix = 'choose another activity_solver'
    if not self.closed_form:
      raise UserError(f'{self.name} runs inference its own way; activity_solver={solvers.CLOSED_FORM} is for pc, '
                      f'mupc and the nudging rules; {fix}')
    if config.loss != 'mse':
      raise UserError(f'activity_solver={solvers.CLOSED_FORM} needs loss=mse (a quadratic energy), got {config.loss!r}')
    shape = model.kernel_shapes[0]
    probe = jax.random.normal(jax.random.key(0), (4, shape[0])) if len(shape) == 2 else None
    if probe is None or not equilibrium.is_affine(model, model.init(jax.random.key(0)), probe):
      raise UserError(f'activity_solver={solvers.CLOSED_FORM} needs a linear network (a dense model with '
                      f'activation=linear): this model\'s forward pass is not affine; {fix}')

  def solver(self, batch_size):
    """The activity solver for a batch of batch_size samples; its step is per sample."""
    scale = batch_size if self.config.activity_energy == 'mean' else 1
    return solvers.from_config(self.config, self.inference_steps, self.config.activity_lr / scale)

  def output_term(self, y, feedforward, beta):
    """The output term fn(mu_L (B, C)) -> (B,) for labels y; feedforward: the forward pass's output."""
    del feedforward
    return energies.nudged_loss(self.loss, y, beta)

  def quadratic_output(self, y, feedforward, beta):
    """(target (B, C), precision) of the output term when it is precision / 2 ||mu_L - target||^2."""
    del feedforward
    return jax.nn.one_hot(y, self.model.kernel_shapes[-1][-1]), beta

  def grads(self, state, batch, rng):
    del rng
    x, y = batch
    return self.estimate(state['params'], x, y, self.config.beta)

  def estimate(self, params, x, y, beta):
    """PC's weight gradient for one batch at nudging strength beta -> (grads, metrics)."""
    feedforward = self.model.forward(params, x)
    output = self.output_term(y, feedforward[-1], beta)
    if self.config.activity_solver == solvers.CLOSED_FORM:
      target, precision = self.quadratic_output(y, feedforward[-1], beta)
      hidden = equilibrium.activities(self.model, params, x, target, precision, feedforward)
      steps = jnp.zeros((), jnp.float32)
    else:
      hidden, steps = inference.infer(self.model, params, x, output, self.solver(x.shape[0]), feedforward)
    weight_grad, value = energies.weight_grads(self.model, params, hidden, x, output, beta)
    return weight_grad, self.metrics(feedforward[-1], y, value, steps)

  def metrics(self, output, y, energy_value, steps):
    """loss: mean feedforward output loss; energy: mean energy after inference; the
    adaptive solver's mean number of steps."""
    metrics = dict(loss=jnp.mean(self.loss(output, y)), energy=energy_value)
    if self.config.activity_solver == 'adaptive':
      metrics['inference_steps'] = steps
    return metrics
