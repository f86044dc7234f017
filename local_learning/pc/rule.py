"""PCRule: the base of PC-family rules (pc, mupc and the variants in rules/)."""
import jax.numpy as jnp

from local_learning import rule
from local_learning.errors import UserError
from local_learning.pc import energies, inference, solvers
from local_learning.tasks import classification


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
  'adaptive', and the weight optimizer. Subclasses change the output term
  (`output_term`), the sign beta must have (`beta_sign`), or the estimate (`estimate`, `grads`).
  """
  beta_sign = 1

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
    self.loss = classification.loss_fn(config.loss)
    self.inference_steps = config.inference_steps

  def solver(self, batch_size):
    """The activity solver for a batch of batch_size samples; its step is per sample."""
    scale = batch_size if self.config.activity_energy == 'mean' else 1
    return solvers.from_config(self.config, self.inference_steps, self.config.activity_lr / scale)

  def output_term(self, y, feedforward, beta):
    """The output term fn(mu_L (B, C)) -> (B,) for labels y; feedforward: the forward pass's output."""
    del feedforward
    return energies.nudged_loss(self.loss, y, beta)

  def grads(self, state, batch, rng):
    del rng
    x, y = batch
    return self.estimate(state['params'], x, y, self.config.beta)

  def estimate(self, params, x, y, beta):
    """PC's weight gradient for one batch at nudging strength beta -> (grads, metrics)."""
    feedforward = self.model.forward(params, x)
    output = self.output_term(y, feedforward[-1], beta)
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
