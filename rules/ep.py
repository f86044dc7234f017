"""Equilibrium propagation (Scellier & Bengio, 2017) with centred nudging (Laborieux et al., 2021).

The model's dense blocks run as a recurrent network of neurons s_1..s_L, the
input s_0 = phi_0(x) clamped, with the primitive function of Laborieux et
al.'s reference (P_MLP)
  Phi(s) = sum_l s_{l+1} . linear_l(s_l) - beta * loss(s_L, y)        (summed over the batch)
and its synchronous fixed-point dynamics from s = 0:
  s_l <- sigma(dPhi/ds_l) = sigma(linear_{l-1}(s_{l-1}) + linear_l^T s_{l+1}),
sigma the model's activation (phi_l; a bounded one: configs set hard_sigmoid,
clip(u, 0, 1)), on the output too for the mse loss (the ce output has none).
Free phase: free_steps (T1) steps with beta = 0. Nudged phases: nudged_steps
(T2) steps from the free state with +beta and -beta (centred, Laborieux's
--thirdphase; they run as one batched loop), then the local contrastive update
  g = [dPhi/dtheta(s^-beta) - dPhi/dtheta(s^+beta)] / (2 beta)      (batch mean)
i.e. for W_l: (s^+_{l+1} s^+_l^T - s^-_{l+1} s^-_l^T) / (2 beta), descended by
the optimizer. With the hard sigmoid a fixed point is a stationary point of
E = 1/2 ||s||^2 - Phi in its unsaturated units, so g -> dL/dtheta at the free
fixed point as beta -> 0, with error O(beta^2); one-sided (centred=False)
contrasts the free state with +beta, error O(beta). Prediction (rule.output):
the output neurons after the free phase, as the reference evaluates.
"""
import jax
import jax.numpy as jnp

import local_learning as ll


@ll.register
class EP(ll.GradientRule):
  """Equilibrium propagation: free and +-beta nudged phases, local contrastive updates."""
  name = 'ep'
  family = 'energy-based'
  description = 'equilibrium propagation, centred +-beta nudging (Scellier & Bengio 2017; Laborieux et al. 2021)'

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.update(dict(loss='mse', beta=1.0, free_steps=30, nudged_steps=10, centred=True))
    return config

  @classmethod
  def problems(cls, config):
    out = super().problems(config)
    if not (config.beta > 0 and config.free_steps >= 1 and config.nudged_steps >= 1):
      out.append('ep needs beta > 0, free_steps >= 1 and nudged_steps >= 1')
    return out

  @classmethod
  def search_space(cls):
    """ll.GradientRule's optimizer space and beta, our choice: log-uniform 0.05..1, from Laborieux et al.'s
    MNIST beta 0.1 (their check/train_mnist.sh) to our default 1; the phase lengths stay fixed."""
    return {**super().search_space(), 'beta': ll.space.LogUniform(0.05, 1.0)}

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    if any(model.stacks) or any(model.skips) or any(len(shape) != 2 for shape in model.kernel_shapes):
      raise ll.UserError('ep needs a dense model without stacked layers or skips (model mlp)')

  def primitive(self, params, states, drive, y=None, beta=0.0):
    """Phi (scalar) of states [s_1, ..., s_L]; drive = linear_0(s_0) is fixed while x is clamped."""
    phi = jnp.vdot(states[0], drive)
    for l in range(1, self.model.num_layers):
      phi += jnp.vdot(states[l], self.model.linear(params, l, states[l - 1]))
    return phi if y is None else phi - beta * jnp.sum(self.loss(states[-1], y))

  def relax(self, params, states, drive, steps, y=None, beta=0.0):
    """`steps` synchronous steps s <- sigma(dPhi/ds) -> states."""
    last = self.model.num_layers - 1

    def step(states, _):
      grads = jax.grad(self.primitive, argnums=1)(params, states, drive, y, beta)
      return [u if l == last and self.config.loss == 'ce' else self.model.phi(params, min(l + 1, last), u)
              for l, u in enumerate(grads)], None

    return jax.lax.scan(step, states, None, length=steps)[0]

  def free_phase(self, params, x):
    """(s_0, the drive linear_0(s_0), the states after free_steps from zero)."""
    s_0 = self.model.phi(params, 0, x)
    drive = self.model.linear(params, 0, s_0)
    zeros = [jnp.zeros((len(x), shape[-1]), drive.dtype) for shape in self.model.kernel_shapes]
    return s_0, drive, self.relax(params, zeros, drive, self.config.free_steps)

  def output(self, state, x):
    return self.free_phase(self.params(state), x)[2][-1]

  def update(self, params, x, y, beta):
    """(EP's estimate of the batch-mean loss gradient with nudging beta, the free states)."""
    s_0, drive, free = self.free_phase(params, x)
    betas = jnp.stack([beta, -beta] if self.config.centred else [beta]).astype(drive.dtype)
    nudged = jax.vmap(lambda b: self.relax(params, free, drive, self.config.nudged_steps, y, b))(betas)
    plus = [s[0] for s in nudged]
    minus, span = ([s[1] for s in nudged], 2 * beta) if self.config.centred else (free, beta)
    weight_phi = lambda p, states: self.primitive(p, states, self.model.linear(p, 0, s_0))
    return jax.grad(lambda p: (weight_phi(p, minus) - weight_phi(p, plus)) / (span * len(x)))(params), free

  def grads(self, state, batch, rng):
    del rng
    x, y = batch
    grads, free = self.update(state['params'], x, y, self.config.beta)
    return grads, dict(loss=jnp.mean(self.loss(free[-1], y)))
