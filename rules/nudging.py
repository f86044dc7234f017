"""Nudged PC: positive, negative and centred nudging of the output (pn, nn, cn).

The output is nudged towards the target by beta instead of clamped to it, and
the update is dF/dW / beta at the nudged equilibrium. `estimator` picks one of
two definitions:

  pcx  PCX's benchmark protocol (Pinchetti et al., ICLR 2025; liukidar/pcx,
       examples/s4_1_discriminative_mode). The output term is a fixed target
       between the feedforward output u and the label, (1 - beta) u + beta y,
       pulled with stiffness 1 (local_learning.pc.interpolated_target); one
       inference per batch. pn: beta > 0; nn: beta < 0, the target pushed away
       from the label; cn: beta's sign drawn at random for each phase of
       training (PCX: each epoch, from one random list). |beta| is capped at 1,
       as PCX's clip does (PCX's clip also turns an nn beta that reaches -1
       into +1; not copied).
  ep   Equilibrium propagation's estimator: the output term beta * loss
       (stiffness beta). pn: g(beta) / beta; nn: g(-|beta|) / -|beta|; cn:
       (g(beta) - g(-beta)) / (2 beta), two inferences per batch, where g is
       dF/dW at the equilibrium with that beta. As beta -> 0 the one-sided
       estimates reach BP's gradient with error O(beta) and the centred one
       with error O(beta^2) (Laborieux et al., 2021, for EP).

The free phase is implicit in both: from the feedforward pass every error is
zero, and so is dF/dW there. beta may change by `beta_increment` at each of
`beta_phases` equal parts of training (PCX's nn on MNIST: -(0.20 + 0.02 e) in
epoch e; configs/mnist_mlp.py sets one phase per epoch).
"""
import jax
import jax.numpy as jnp

import local_learning as ll

ESTIMATORS = ('pcx', 'ep')


class Nudged(ll.pc.PCRule):
  """The nudging rules' base: `direction` +1 (pn), -1 (nn) or 0 (cn, both signs); beta_sign, the sign of beta:
  direction's, +1 for cn."""
  family = 'PC family'
  direction = 1

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.update(dict(loss='mse', estimator='pcx', beta=0.5 * (cls.direction or 1), beta_increment=0.0,
                       beta_phases=1))
    return config

  @classmethod
  def problems(cls, config):
    out = super().problems(config)
    if config.estimator not in ESTIMATORS:
      out.append(f'unknown estimator {config.estimator!r}; choose one of {", ".join(ESTIMATORS)}')
    if not (isinstance(config.beta_phases, int) and config.beta_phases >= 1):
      out.append(f'beta_phases must be an integer >= 1, got {config.beta_phases}')
    elif config.beta * cls.beta_sign > 0:       # else beta's own sign is the problem (PCRule.problems)
      last = config.beta + config.beta_increment * (config.beta_phases - 1)
      if not last * cls.beta_sign > 0:
        out.append(f'{cls.name}: beta_increment takes beta from {config.beta} to {last}; it must keep its sign')
    return out

  @classmethod
  def search_space(cls):
    """PCX's ranges for the nudging rules (liukidar/pcx hypertune configs: x.lr log 1e-2..5e-1, x.momentum
    0..0.95, w.wd log 1e-5..1e-2), ll.GradientRule's weight rate, T 4..12 (our choice around PCX's tuned 4-7,
    examples/s4_1_discriminative_mode/hps/MLP/MNIST/MLP_PC-{PN,NN,CN}_MNIST.yaml) and |beta| 0.05..1 around
    PCX's tuned 0.2-0.55, with the rule's sign (nn's negative)."""
    sign = cls.direction or 1
    return {**super().search_space(), 'activity_lr': ll.space.LogUniform(1e-2, 5e-1),
            'activity_momentum': ll.space.Uniform(0.0, 0.95), 'inference_steps': ll.space.Int(4, 12),
            'beta': ll.space.Uniform(*sorted((0.05 * sign, 1.0 * sign)))}

  def buffers(self, rng):
    signs = jnp.where(jax.random.bernoulli(rng, shape=(self.config.beta_phases,)), 1.0, -1.0)
    return dict(step=jnp.zeros((), jnp.int32), signs=signs)

  def train_step(self, state, batch, rng):
    state, metrics = super().train_step(state, batch, rng)
    return dict(state, step=state['step'] + 1), metrics

  def beta(self, state):
    """This step's beta: the schedule's value, capped (pcx) and signed (cn with pcx)."""
    phases = self.config.beta_phases
    phase = jnp.minimum(state['step'] * phases // max(self.num_steps, 1), phases - 1)
    beta = self.config.beta + self.config.beta_increment * phase
    if self.config.estimator == 'pcx':
      beta = jnp.clip(beta, -1.0, 1.0)
      if not self.direction:
        beta = jnp.abs(beta) * state['signs'][phase]
    return beta

  def output_term(self, y, feedforward, beta):
    if self.config.estimator == 'pcx':
      return ll.pc.interpolated_target(self.config.loss, y, beta, feedforward)
    return super().output_term(y, feedforward, beta)

  def quadratic_output(self, y, feedforward, beta):
    if self.config.estimator == 'pcx':      # interpolated_target's mse: stiffness 1 towards u + beta (onehot - u)
      u = jax.lax.stop_gradient(feedforward)
      return u + beta * (jax.nn.one_hot(y, u.shape[-1]) - u), 1.0
    return super().quadratic_output(y, feedforward, beta)

  def grads(self, state, batch, rng):
    del rng
    x, y = batch
    beta = self.beta(state)
    if self.direction or self.config.estimator == 'pcx':
      grads, metrics = self.estimate(state['params'], x, y, beta)
    else:
      (up, metrics), (down, _) = (self.estimate(state['params'], x, y, b) for b in (beta, -beta))
      grads = jax.tree.map(lambda a, b: 0.5 * (a + b), up, down)
    return grads, dict(metrics, beta=beta)


@ll.register
class PN(Nudged):
  """Positive nudging: the output nudged towards the target."""
  name = 'pn'
  description = 'PC with positive nudging of the output (PCX protocol, or the EP estimator)'


@ll.register
class NN(Nudged):
  """Negative nudging: the output nudged away from the target (beta < 0)."""
  name = 'nn'
  description = 'PC with negative nudging of the output (PCX protocol, or the EP estimator)'
  direction = beta_sign = -1


@ll.register
class CN(Nudged):
  """Centred nudging: both signs (PCX: a random sign per phase; EP: both phases, differenced)."""
  name = 'cn'
  description = 'PC with centred nudging: random-sign beta per epoch (PCX) or +/-beta phases differenced (EP)'
  direction = 0
