"""Hybrid predictive coding (Tschantz et al., 2023, PLoS Comput Biol), for classification.

A bottom-up amortised network (the amortiser: a second copy of the model,
with its own weights and optimizer state) guesses the activities from the
input in one pass; inference starts from that guess instead of the
feedforward pass and refines it; the network then learns from the refined
activities with PC's local update. The amortiser is trained alongside to
predict the refined activities: each of its blocks regresses its layer's
refined activity from the amortiser's own guess of the layer below (held
fixed), and its last block the label with the task loss, so its learning is
layer-local too (as JPC's hpc_energy_fn).

Our design for the discriminative setting. Tschantz et al. and JPC pair a
top-down generative network (label -> image) with a bottom-up amortiser;
here the PC network is itself bottom-up, and its feedforward pass is already
the equilibrium without the label. So the amortiser is trained to predict the
equilibrium *with* the label: its guess carries the label's pull on the
activities, which PC's inference otherwise builds up one layer per step. It
starts as a copy of the network (the same initial weights), so the first
guesses are the feedforward pass and learning starts as PC's. Starting from
a guess, every block is evaluated at every step (no error wave).
Evaluation, as for every rule, is the network's feedforward output.
Metrics: `guess_energy`, the mean energy at the amortised guess before
inference, and `amortiser_loss`, the amortiser's regression loss.
"""
import jax
import jax.numpy as jnp

import local_learning as ll


@ll.register
class HPC(ll.pc.PCRule):
  """Hybrid PC: an amortised bottom-up guess, refined by inference."""
  name = 'hpc'
  family = 'PC family'
  description = 'hybrid PC: a bottom-up amortiser trained alongside initialises inference'
  closed_form = False     # its inference is its own

  @classmethod
  def search_space(cls):
    """pc's space (PCX's ranges for PC: activity step log 1e-2..5e-1, momentum 0..0.95, weight decay; T 4..12,
    our choice); Tschantz et al. publish no sweep for this discriminative form, so for hpc it is our choice."""
    return {**super().search_space(), 'activity_lr': ll.space.LogUniform(1e-2, 5e-1),
            'activity_momentum': ll.space.Uniform(0.0, 0.95), 'inference_steps': ll.space.Int(4, 12)}

  def init(self, rng):
    state = super().init(rng)
    return dict(state, amortiser=state['params'], amortiser_opt_state=self.tx.init(state['params']))

  def train_step(self, state, batch, rng):
    del rng
    x, y = batch
    params, amortiser, beta = state['params'], state['amortiser'], self.config.beta
    guess = jax.lax.stop_gradient(self.model.forward(amortiser, x)[:-1])
    settled = self.settle(params, x, y, beta, init=guess)
    weight_grad, metrics = self.learn_from(params, x, y, beta, settled)
    guess_energy = jnp.mean(ll.pc.energy(self.model, params, guess, x, settled.output, 0, settled.feedforward[0]))
    amortiser_loss, amortiser_grad = jax.value_and_grad(self.amortiser_loss)(amortiser, guess, settled.hidden, x, y)
    params, opt_state = self.apply_grads(weight_grad, state['opt_state'], params)
    amortiser, amortiser_opt_state = self.apply_grads(amortiser_grad, state['amortiser_opt_state'], amortiser)
    metrics = dict(metrics, guess_energy=guess_energy, amortiser_loss=amortiser_loss)
    return dict(state, params=params, opt_state=opt_state, amortiser=amortiser,
                amortiser_opt_state=amortiser_opt_state), metrics

  def amortiser_loss(self, amortiser, guess, hidden, x, y):
    """Batch mean of sum_l 1/2 ||a_l(guess_{l-1}) - z_l||^2 + loss(a_L(guess_{L-1}), y)."""
    hidden = jax.lax.stop_gradient(hidden)
    predictions = self.model.predict(amortiser, [x, *guess])
    regression = sum(ll.pc.half_squared_norm(mu - z, self.model.stack_size(l) > 0)
                     for l, (z, mu) in enumerate(zip(hidden, predictions)))
    return jnp.mean(regression + self.loss(predictions[-1], y))
