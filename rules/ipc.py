"""Incremental predictive coding (iPC; Salvatori et al., ICLR 2024): a weight step at every inference step.

From the feedforward pass, each of the T steps moves the activities one
solver step and the weights one optimizer step; the activities are carried
from step to step, never reset, so inference and learning run together
instead of one after the other. The weights take T steps per batch, and the
weight schedule counts them (num_steps x T, as PCX's iPC.py does).

`schedule`:
  simultaneous  both steps from F's gradients at the same (z_t, W_t): every
                neuron and synapse updates in parallel at each step (PCX's
                iPC.py: one value_and_grad over activities and weights, both
                applied). The default.
  sequential    the weight step at the activities just updated, z_{t+1}, with
                the weights W_t that moved them; with T = 1 this is one
                inference step of PC and its weight update.

The first step starts at the feedforward pass, where every hidden error is
zero: it evaluates only the blocks the error wave has reached (as pc does),
and under `simultaneous` its weight step, taken there, touches only those
blocks (the others' gradient is exactly zero). From then on every step predicts
every block: the weight steps move the predictions of all layers (weight decay
alone does), so no error stays exactly zero and the wave's skipping no longer
applies. The adaptive solver has no steps to interleave with and is refused.
"""
import jax
import jax.numpy as jnp

import local_learning as ll

SCHEDULES = ('simultaneous', 'sequential')


@ll.register
class IPC(ll.pc.PCRule):
  """Incremental PC: T interleaved activity and weight steps per batch."""
  name = 'ipc'
  family = 'PC family'
  description = 'incremental PC: a weight step at every inference step, activities carried through'
  closed_form = False     # its inference is its own
  energy_weighted = False   # its energy does not take PCRule's energy_weights

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.schedule = 'simultaneous'
    return config

  @classmethod
  def problems(cls, config):
    out = super().problems(config)
    if config.schedule not in SCHEDULES:
      out.append(f'unknown ipc schedule {config.schedule!r}; choose one of {", ".join(SCHEDULES)}')
    if config.activity_solver == 'adaptive':
      out.append('ipc steps the weights between activity steps; use activity_solver gd, euler or heun')
    if 0 <= config.inference_steps < 1:       # below 0: PCRule's problem
      out.append('ipc needs inference_steps >= 1')
    return out

  @classmethod
  def search_space(cls):
    """PCX's ranges (liukidar/pcx hypertune configs: x.momentum 0..0.95, w.wd log 1e-5..1e-2) with the activity
    step's upper end raised to 1 to hold PCX's tuned iPC value 0.85 (examples/s4_1_discriminative_mode/hps/MLP/
    MNIST/MLP_iPC_MNIST.yaml); ll.GradientRule's weight rate; T 4..12 our choice around PCX's 8."""
    return {**super().search_space(), 'activity_lr': ll.space.LogUniform(1e-2, 1.0),
            'activity_momentum': ll.space.Uniform(0.0, 0.95), 'inference_steps': ll.space.Int(4, 12)}

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    self.tx = ll.optim.build(config.optimizer, num_steps * config.inference_steps)

  def train_step(self, state, batch, rng):
    _, params, opt_state, metrics = self.learn(state['params'], state['opt_state'], *batch)
    return dict(state, params=params, opt_state=opt_state), metrics

  def learn(self, params, opt_state, x, y):
    """T steps of inference and learning on one batch -> (activities, params, opt_state, metrics)."""
    beta, solver, sequential = self.config.beta, self.solver(x.shape[0]), self.config.schedule == 'sequential'
    feedforward, output = self.clamp(params, x, y, beta)
    start = feedforward[:-1]

    def step(carry, t):
      hidden, solver_state, params, opt_state = carry
      grad = lambda h, _: jax.grad(lambda h: jnp.sum(ll.pc.energy(self.model, params, h, x, output)))(h)
      moved, solver_state = solver.step(grad, hidden, solver_state, t)
      weight_grad, value = ll.pc.weight_grads(self.model, params, moved if sequential else hidden, x, output, beta)
      params, opt_state = self.apply_grads(weight_grad, opt_state, params)
      return (moved, solver_state, params, opt_state), value

    # Step 0 at the feedforward pass: only the blocks the error wave has reached.
    bottom = ll.pc.wave_bottoms([self.model.stack_size(l) or 1 for l in range(len(start))], 1, solver.stages)[0]
    wave = ll.pc.activity_grad(self.model, params, x, output, feedforward)
    moved, solver_state = solver.step(wave, start, solver.init(start), jnp.zeros((), jnp.float32), bottom)
    if sequential:
      weight_grad, value = ll.pc.weight_grads(self.model, params, moved, x, output, beta)
    else:
      weight_grad, value = ll.pc.weight_grads(self.model, params, start[bottom:], x, output, beta, bottom,
                                              feedforward[bottom])
    params, opt_state = self.apply_grads(weight_grad, opt_state, params)
    times = solver.lr * jnp.arange(1, self.inference_steps, dtype=jnp.float32)
    (hidden, _, params, opt_state), energies = jax.lax.scan(step, (moved, solver_state, params, opt_state), times)
    last = energies[-1] if self.inference_steps > 1 else value
    return hidden, params, opt_state, self.metrics(feedforward[-1], y, last, None)
