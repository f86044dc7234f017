"""Difference target propagation (Lee, Zhang, Fischer & Bengio, 2015) as a one-file plugin rule.

  PYTHONPATH=examples python -m local_learning.main --config=configs/default.py:rule=dtp \
      --config.rule_module=dtp --config.model.activation=tanh --workdir=runs/dtp          # the MLP on digits
  PYTHONPATH=examples python -m local_learning.main --config=configs/default.py:rule=dtp,model=vgg \
      --config.rule_module=dtp --config.model.activation=tanh --workdir=runs/dtp_vgg      # the VGG

Written against local_learning's public API only. Activities z_l are the model's
pre-activations (z_{l+1} = f_l(z_l) = W_l phi_l(z_l) + b_l, z_0 = x). Each block
l >= 1 has a learned inverse g_l: z_{l+1} -> z_l,
  g_l(z) = backward_l(act(z); V_l) + c_l
with V_l a kernel shaped like W_l (model.backward: a transposed dense map, or a
transposed convolution and unpooling for a conv block) and c_l a bias per unit
or channel. One step:
  targets   t_L = z_L - target_lr dloss/dz_L; t_l = z_l + g_l(t_{l+1}) - g_l(z_{l+1})
            (the difference correction: t_l = z_l where t_{l+1} = z_{l+1})
  weights   each block's own loss 1/2 ||f_l(z_l) - t_{l+1}||^2 (its input held fixed),
            with config.optimizer
  inverses  each g_l's reconstruction loss 1/2 ||g_l(f_l(z_l + e)) - (z_l + e)||^2,
            e ~ N(0, noise^2), with config.inverse_optimizer (state trained beside the
            weights: GradientRule.auxiliary)
"""
import jax
import jax.numpy as jnp

import local_learning as ll


@ll.register
class DTP(ll.GradientRule):
  """Targets sent down through learned inverses, each block trained towards its own target."""
  name = 'dtp'
  description = 'difference target propagation: learned inverses, layer-local targets (a plugin)'

  @classmethod
  def default_config(cls):
    config = super().default_config()
    config.update(dict(target_lr=0.5, noise=0.1, inverse_optimizer=ll.optim.default_config(learning_rate=1e-2)))
    return config

  @classmethod
  def problems(cls, config):
    out = super().problems(config) + ll.optim.problems(config.inverse_optimizer, 'config.rule.inverse_optimizer.')
    if not config.target_lr > 0:
      out.append(f'dtp: target_lr must be positive, got {config.target_lr}')
    if not config.noise >= 0:
      out.append(f'dtp: noise must be >= 0, got {config.noise}')
    return out

  @classmethod
  def search_space(cls):
    return {**super().search_space(), 'target_lr': ll.space.LogUniform(0.05, 2.0),
            'inverse_optimizer.learning_rate': ll.space.LogUniform(1e-4, 1e-2)}

  def __init__(self, model, config, num_steps):
    super().__init__(model, config, num_steps)
    if model.num_layers < 2 or any(model.stack_size(l) for l in range(model.num_layers)):
      raise ll.UserError('dtp needs a model of plain blocks with at least one hidden layer (mlp, vgg)')

  def auxiliary(self, rng, params):
    """The inverses g_1..g_{L-1}: kernels V_l shaped like W_l (xavier-uniform), biases c_l zero."""
    shapes = self.model.shapes()
    return dict(inverses=[dict(kernel=v, bias=jnp.zeros(shapes[l - 1][-1:]))
                          for l, v in enumerate(self.model.random_feedback(rng), 1)])

  def auxiliary_optimizer(self, name):
    return ll.optim.build(self.config.inverse_optimizer, self.num_steps)

  def inverse(self, params, inverses, l, z):
    """g_l(z): z shaped like z_{l+1} -> shaped like z_l (params: the model's, for its structure)."""
    g = inverses[l - 1]
    return self.model.backward(params, l, self.model.activation(z), g['kernel']) + g['bias']

  def targets(self, params, inverses, zs, y):
    """[t_1, ..., t_L] from the activities [z_1, ..., z_L] (held fixed)."""
    targets = [zs[-1] - self.config.target_lr * jax.grad(lambda z: jnp.sum(self.loss(z, y)))(zs[-1])]
    for l in range(self.model.num_layers - 1, 0, -1):
      g = lambda z, l=l: self.inverse(params, inverses, l, z)
      targets.insert(0, zs[l - 1] + g(targets[0]) - g(zs[l]))
    return targets

  def grads(self, state, batch, rng):
    del rng
    x, y = batch
    params = state['params']
    zs = jax.lax.stop_gradient(self.model.forward(params, x))
    targets = jax.lax.stop_gradient(self.targets(params, state['inverses'], zs, y))
    inputs = [x, *zs[:-1]]

    def local(params):        # each block from its fixed input towards its target
      return sum(_half_squared(self.model.linear(params, l, self.model.phi(params, l, inputs[l])) - targets[l])
                 for l in range(self.model.num_layers))

    layer_loss, grads = jax.value_and_grad(local)(params)
    return grads, dict(loss=jnp.mean(self.loss(zs[-1], y)), layer_loss=layer_loss)

  def inverse_grads(self, state, x, rng):
    """The inverses' reconstruction loss with noise, and its gradient."""
    params = state['params']
    zs = jax.lax.stop_gradient(self.model.forward(params, x))
    keys = jax.random.split(jax.random.key(0) if rng is None else rng, self.model.num_layers)

    def reconstruction(inverses):
      total = 0.0
      for l in range(1, self.model.num_layers):
        z = zs[l - 1] + self.config.noise * jax.random.normal(keys[l], zs[l - 1].shape)
        above = jax.lax.stop_gradient(self.model.linear(params, l, self.model.phi(params, l, z)))
        total = total + _half_squared(self.inverse(params, inverses, l, above) - z)
      return total

    return jax.value_and_grad(reconstruction)(state['inverses'])

  def train_step(self, state, batch, rng):
    inverse_loss, inverse_grads = self.inverse_grads(state, batch[0], rng)
    state = self.apply_auxiliary(state, 'inverses', inverse_grads)
    grads, metrics = self.grads(state, batch, rng)
    params, opt_state = self.apply_grads(grads, state['opt_state'], state['params'])
    return dict(state, params=params, opt_state=opt_state), dict(metrics, inverse_loss=inverse_loss)


def _half_squared(d):
  """The batch mean of 1/2 ||d||^2 over each sample's entries."""
  return 0.5 * jnp.mean(jnp.sum(jnp.square(d).reshape(d.shape[0], -1), axis=-1))


if __name__ == '__main__':
  for model_name in ('mlp', 'vgg'):
    model = ll.testing.tiny_model(model_name)
    ll.testing.check_rule(DTP, model=model)
    print(model_name, ll.testing.check_learns(DTP, model=model))
  print('dtp passes local_learning.testing.check_rule and check_learns on the tiny mlp and vgg')
