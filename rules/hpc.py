"""Hybrid predictive coding (Tschantz et al., 2023, PLoS Comput Biol), as JPC's make_hpc_step runs it.

Two networks. The generator, top-down (label -> image), is the PC network:
its layers are z_0 (the label), z_1..z_{L-1} (hidden, free) and z_L = x (the
image, flattened, clamped), and its energy per sample is

  F = sum_{l=1}^{L-1} 1/2 ||z_l - g_l(z_{l-1})||^2 + beta/2 ||x - g_L(z_{L-1})||^2,
  g_1(z_0) = z_0 G_0,  g_l(z) = phi(z) G_{l-1}  (l > 1)

(JPC's make_mlp: the activation before each linear map but the first, no
biases, kernels U(+-1/sqrt(fan_in)); beta, 1 by default, is the image layer's
precision, JPC's output_energy_scaling). The amortiser, bottom-up (image ->
label), is the model (config.model, a dense mlp; JPC's: param='sp', no biases).
Its forward pass [a_1, ..., a_L] from x guesses the generator's activities
in reverse, z_l <- a_{L-l}, and the label, z_0 <- a_L.

A training step (make_hpc_step): the amortiser's guess; inference on the
generator's hidden activities from it, label and image clamped (the activity
solver of the config; JPC's is 'adaptive' with max_t1 50 on the batch-mean
energy); the generator learns dF/dG at the settled activities z* (batch
mean); the amortiser learns from JPC's hpc_energy_fn, each block regressing
the settled activity of its layer from its own guess of the layer below
(held fixed), the last block the label:

  A = sum_{l=1}^{L-1} ||z*_{L-l} - f_l(a_{l-1})||^2 + 2 loss(f_L(a_{L-1}), y),  a_0 = x

(batch mean; with loss='mse', 1/2 ||.||^2, exactly JPC's, which has no 1/2).
Both networks take the config's optimizer, each with its own state.

Prediction (`output`, config.prediction), as JPC's test_hpc: 'hybrid' (the
default) infers the label z_0 with the image clamped and the label free,
from the amortiser's guess; 'generator' the same from N(0, 0.05^2)
activities (one fixed key, as test_hpc is called with one key); 'amortised'
is the amortiser's output a_L. Inference at prediction runs to
prediction_max_t1 with the adaptive solver (test_hpc's 500), or else
prediction_steps plain gradient-descent steps of activity_lr in which a
sample's step is halved wherever it would raise that sample's energy
(ll.pc.backtracking_descent; momentum and Heun's second stage do not apply
there). With the label free, the energy's curvature in it grows with the
generator's first kernel, and a fixed step diverged: on the embedded digits at
the defaults, hybrid prediction fell from 88% to 8% after epoch 14 as the
inferred labels grew to 1e13.

Metrics: loss (the amortiser's output loss), energy (F after inference),
guess_energy (F at the guess), amortiser_energy (A) and generation_loss
(JPC's gen loss: the mean squared pixel error of the generator's feedforward
pass from the label).
"""
import dataclasses

import jax
import jax.numpy as jnp

import local_learning as ll

PREDICTIONS = ('hybrid', 'amortised', 'generator')
INIT_STD = 0.05          # JPC's init_activities_from_normal sigma, for prediction='generator'


@ll.register
class HPC(ll.pc.PCRule):
  """Hybrid PC: a top-down generator whose inference starts from a bottom-up amortiser's guess."""
  name = 'hpc'
  family = 'PC family'
  energy_weighted = False   # its energy is the generator's
  post_activation = False   # the generator's nodes are its own (activities='pre' only)
  follows_gradient = False  # its generator follows its own energy, not the output loss's gradient
  description = 'hybrid PC: a generative network (label -> image) whose inference a bottom-up amortiser starts'
  closed_form = False     # its energy is the generator's

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.update(dict(prediction='hybrid', prediction_steps=64, prediction_max_t1=500.0))
    return config

  @classmethod
  def problems(cls, config):
    out = super().problems(config)
    if config.prediction not in PREDICTIONS:
      out.append(f'hpc: unknown prediction {config.prediction!r}; choose one of {", ".join(PREDICTIONS)}')
    if not (isinstance(config.prediction_steps, int) and config.prediction_steps >= 1):
      out.append(f'hpc needs prediction_steps >= 1 (an integer), got {config.prediction_steps}')
    if not config.prediction_max_t1 > 0:
      out.append(f'hpc needs prediction_max_t1 > 0, got {config.prediction_max_t1}')
    return out

  @classmethod
  def search_space(cls):
    """pc's space (PCX's ranges for PC: activity step log 1e-2..5e-1, momentum 0..0.95, weight decay; T 4..12,
    our choice); Tschantz et al. and JPC publish no sweep, so for hpc it is our choice."""
    return {**super().search_space(), 'activity_lr': ll.space.LogUniform(1e-2, 5e-1),
            'activity_momentum': ll.space.Uniform(0.0, 0.95), 'inference_steps': ll.space.Int(4, 12)}

  def __init__(self, model, config, num_steps):
    if any(model.stacks) or any(model.skips) or any(len(s) != 2 for s in model.kernel_shapes):
      raise ll.UserError('hpc needs the mlp model (dense blocks, no skips or stacked layers): its generator '
                         'mirrors the amortiser\'s dense blocks; vgg and resmlp are not supported')
    super().__init__(model, config, num_steps)

  def init(self, rng):
    state = super().init(rng)
    shapes = [shape[::-1] for shape in reversed(self.model.kernel_shapes)]     # label -> ... -> image
    keys = jax.random.split(jax.random.fold_in(rng, 2), len(shapes))
    generator = [dict(kernel=jax.random.uniform(key, shape, minval=-1, maxval=1) / jnp.sqrt(shape[0]))
                 for key, shape in zip(keys, shapes)]
    return dict(state, generator=generator, generator_opt_state=self.tx.init(generator))

  def grads(self, state, batch, rng):
    """The amortiser's gradient, the update applied to params(state) -> (grads, metrics of the step)."""
    return self._step(state, batch)[:2]

  def train_step(self, state, batch, rng):
    del rng
    grads, metrics, generator_grads = self._step(state, batch)
    params, opt_state = self.apply_grads(grads, state['opt_state'], state['params'])
    generator, generator_opt_state = self.apply_grads(generator_grads, state['generator_opt_state'],
                                                      state['generator'])
    return dict(state, params=params, opt_state=opt_state, generator=generator,
                generator_opt_state=generator_opt_state), metrics

  def _step(self, state, batch):
    """-> (the amortiser's gradient, metrics, the generator's gradient) for one batch."""
    x, y = batch
    params, generator = state['params'], state['generator']
    image, label = self.model.phi(params, 0, x), jax.nn.one_hot(y, self.model.kernel_shapes[-1][-1])
    guess = jax.lax.stop_gradient(self.model.forward(params, x))
    energy = lambda generator, hidden: self.energy(params, generator, label, hidden, image)
    hidden, steps = self.infer_generator(lambda hidden: energy(generator, hidden), guess[-2::-1],
                                         self.solver(x.shape[0]))
    hidden = jax.lax.stop_gradient(hidden)
    value, generator_grads = jax.value_and_grad(lambda g: jnp.mean(energy(g, hidden)))(generator)
    amortiser_value, grads = jax.value_and_grad(self.amortiser_energy)(params, guess, hidden, x, y)
    generated = self.generate(params, generator, label)
    metrics = dict(self.metrics(guess[-1], y, value, steps), amortiser_energy=amortiser_value,
                   guess_energy=jnp.mean(energy(generator, guess[-2::-1])),
                   generation_loss=jnp.mean(jnp.square(image - generated)))
    return grads, metrics, generator_grads

  def energy(self, params, generator, top, hidden, image):
    """The generator's energy F per sample (B,): top z_0 (B, C), hidden [z_1, ..., z_{L-1}], image (B, D)."""
    mus = [self.block(params, generator, l, z) for l, z in enumerate([top, *hidden])]
    errors = sum(ll.pc.half_squared_norm(mu - z, False) for mu, z in zip(mus, hidden))
    return errors + self.config.beta * ll.pc.half_squared_norm(mus[-1] - image, False)

  def block(self, params, generator, l, z):
    """The generator's prediction of z_{l+1} from z_l: z_0 G_0, or phi(z_l) G_l (the amortiser's phi)."""
    h = z if l == 0 else self.model.phi(params, 1, z)
    return h @ generator[l]['kernel']

  def generate(self, params, generator, label):
    """The generator's feedforward pass from label (B, C) -> the image it predicts (B, D)."""
    z = label
    for l in range(len(generator)):
      z = self.block(params, generator, l, z)
    return z

  def infer_generator(self, energy, init, solver):
    """The activities that minimise energy(activities) -> (B,), from init, with solver -> (activities, steps)."""
    grad = jax.grad(lambda zs: jnp.sum(energy(zs)))
    return solver.run(lambda zs, _: grad(zs), list(init))

  def amortiser_energy(self, params, guess, hidden, x, y):
    """JPC's hpc_energy_fn, batch mean: each block's prediction from its guess of the layer below against
    the settled activity of the generator's layer it guesses (hidden reversed), the last against y."""
    mus = self.model.predict(params, [x, *guess[:-1]])
    regression = sum(2 * ll.pc.half_squared_norm(mu - z, False) for mu, z in zip(mus, hidden[::-1]))
    return jnp.mean(regression + 2 * self.loss(mus[-1], y))

  def output(self, state, x):
    """The label inferred by the generator with the image clamped (hybrid, generator) or the amortiser's
    guess (amortised) -> (B, C)."""
    params, generator = state['params'], state['generator']
    guess = self.model.forward(params, x)
    if self.config.prediction == 'amortised':
      return guess[-1]
    if self.config.prediction == 'hybrid':
      init = [guess[-1], *guess[-2::-1]]
    else:
      keys = jax.random.split(jax.random.key(0), len(guess))
      init = [INIT_STD * jax.random.normal(key, z.shape, z.dtype) for key, z in zip(keys, [guess[-1], *guess[-2::-1]])]
    image = self.model.phi(params, 0, x)
    energy = lambda zs: self.energy(params, generator, zs[0], zs[1:], image)
    solver = self.solver(x.shape[0])
    if solver.name != 'adaptive':
      return ll.pc.backtracking_descent(energy, init, self.config.prediction_steps, solver.lr)[0][0]
    solver = dataclasses.replace(solver, steps=self.config.prediction_steps,
                                 t1=solver.t1 * self.config.prediction_max_t1 / self.config.activity_max_t1)
    return self.infer_generator(energy, init, solver)[0][0]
