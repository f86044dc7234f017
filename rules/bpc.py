"""Bidirectional predictive coding (Oliviers, Tang & Bogacz, 2025, arXiv 2505.23415), for classification.

Two networks share one set of activities: the model, bottom-up (discriminative,
weights V: image -> label), and a top-down generative network (weights G:
label -> image) that mirrors its dense blocks. With z_0 = x (flattened) and
z_L = onehot(y) clamped and z_1..z_{L-1} free (pre-activations, as the model's),
the energy per sample is

  F = a_disc [sum_{l=1}^{L-1} 1/2 ||z_l - mu_l(z_{l-1})||^2 + output(mu_L(z_{L-1}))]
    + a_gen   sum_{l=0}^{L-1} 1/2 ||z_l - g_l(z_{l+1})||^2,
  g_l(z_{l+1}) = phi_{l+1}(z_{l+1}) G_l + c_l   (phi_L = identity: the label itself),

the discriminative part being PC's energy (`ll.pc.energy`, its output term
beta * loss(mu_L, y); with mse and beta = 1 the label layer's error) and the
generative part the paper's top-down errors, down to the image (as JPC's
bpc_energy_fn). Inference follows -dF/dz from the bottom-up feedforward pass
(as JPC's bidirectional_pc notebook starts it); the generative errors are not zero
there, so every block is evaluated at every step (no error wave). Both networks
then learn from dF/dV / beta and dF/dG / beta at the settled activities: each
weight enters one error only, so the updates are local. G has its own
optimizer state under the same optimizer; its kernels are LeCun-normal, its
biases zero, as the model's.

Defaults: a_gen = 1e-3 and a_disc = 1, JPC's bidirectional_pc notebook's
weighting for classification (the notebook scales the generative energy down,
citing the paper, for classification accuracy); mse output, T = 8.
Prediction, `output`, is the bottom-up feedforward pass (what JPC's notebook and
experiments report as the amortised accuracy); `generate(state, y)` is the
top-down pass from the labels to an image. Dense models only: the mlp (vgg and
resmlp are refused). Metrics add `generation_loss`, the batch mean of
1/2 ||x - generate(y)||^2.
"""
import jax
import jax.numpy as jnp

import local_learning as ll


@ll.register
class BPC(ll.pc.PCRule):
  """Bidirectional PC: bottom-up and top-down prediction errors drive one inference."""
  name = 'bpc'
  family = 'PC family'
  description = 'bidirectional PC: bottom-up and top-down errors in one energy (Oliviers et al. 2025)'
  closed_form = False     # its energy is not PC's
  energy_weighted = False   # its energy does not take PCRule's energy_weights
  post_activation = False  # its top-down errors read the pre-activations

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.update(dict(gen_weight=1e-3, disc_weight=1.0))
    return config

  @classmethod
  def problems(cls, config):
    out = super().problems(config)
    if config.gen_weight < 0 or config.disc_weight <= 0:
      out.append(f'bpc needs gen_weight >= 0 and disc_weight > 0, got {config.gen_weight} and {config.disc_weight}')
    return out

  @classmethod
  def search_space(cls):
    """pc's space (PCX's ranges for PC: activity step log 1e-2..5e-1, momentum 0..0.95, weight decay; T 4..12,
    our choice) and gen_weight, our choice: a decade either side of the default 1e-3."""
    return {**super().search_space(), 'activity_lr': ll.space.LogUniform(1e-2, 5e-1),
            'activity_momentum': ll.space.Uniform(0.0, 0.95), 'inference_steps': ll.space.Int(4, 12),
            'gen_weight': ll.space.LogUniform(1e-4, 1e-2)}

  def __init__(self, model, config, num_steps):
    if any(model.stacks) or any(model.skips) or any(len(s) != 2 for s in model.kernel_shapes):
      raise ll.UserError('bpc needs the mlp model (dense blocks, no skips or stacked layers): its top-down '
                         'network mirrors dense blocks; vgg and resmlp are not supported')
    super().__init__(model, config, num_steps)

  def init(self, rng):
    state = super().init(rng)
    keys = jax.random.split(jax.random.fold_in(rng, 2), self.model.num_layers)
    generative = [dict(kernel=jax.nn.initializers.lecun_normal()(key, shape[::-1]), bias=jnp.zeros(shape[0]))
                  for key, shape in zip(keys, self.model.kernel_shapes)]
    return dict(state, generative=generative, generative_opt_state=self.tx.init(generative))

  def train_step(self, state, batch, rng):
    del rng
    x, y = batch
    weights, beta = (state['params'], state['generative']), self.config.beta
    feedforward, output = self.clamp(weights[0], x, y, beta)
    label = jax.nn.one_hot(y, feedforward[-1].shape[-1])
    energy = lambda weights, hidden, mu_1=None: self.energy(*weights, hidden, x, label, output, mu_1)
    activity_grad = jax.grad(lambda hidden: jnp.sum(energy(weights, hidden, feedforward[0])))
    hidden, steps = self.solver(x.shape[0]).run(lambda hidden, _: activity_grad(hidden), feedforward[:-1])
    value, grads = jax.value_and_grad(
        lambda weights: jnp.mean(energy(weights, jax.lax.stop_gradient(hidden))) / beta)(weights)
    generated = self.generate(state, y)
    generation_loss = jnp.mean(ll.pc.half_squared_norm(self.model.phi(weights[0], 0, x) - generated, False))
    params, opt_state = self.apply_grads(grads[0], state['opt_state'], weights[0])
    generative, generative_opt_state = self.apply_grads(grads[1], state['generative_opt_state'], weights[1])
    metrics = dict(self.metrics(feedforward[-1], y, value * beta, steps), generation_loss=generation_loss)
    return dict(state, params=params, opt_state=opt_state, generative=generative,
                generative_opt_state=generative_opt_state), metrics

  def energy(self, params, generative, hidden, x, label, output, mu_1=None):
    """Per-sample energy F (B,): a_disc (PC's energy) + a_gen (the top-down errors); label (B, C) one-hot.

    mu_1: the clamped input's prediction of z_1, if known (inference: the feedforward pass's), else predicted.
    """
    discriminative = ll.pc.energy(self.model, params, hidden, x, output, 0, mu_1)
    below = [self.model.phi(params, 0, x), *hidden]
    above = [*(self.model.phi(params, l, z) for l, z in enumerate(hidden, 1)), label]
    top_down = sum(ll.pc.half_squared_norm(z - (h @ g['kernel'] + g['bias']), False)
                   for z, h, g in zip(below, above, generative))
    return self.config.disc_weight * discriminative + self.config.gen_weight * top_down

  def generate(self, state, y):
    """The top-down pass from labels y (B,) to the input layer -> (B, prod(input shape))."""
    h = jax.nn.one_hot(y, self.model.kernel_shapes[-1][-1])
    for l in reversed(range(self.model.num_layers)):
      z = h @ state['generative'][l]['kernel'] + state['generative'][l]['bias']
      h = self.model.phi(state['params'], l, z) if l else z
    return z
