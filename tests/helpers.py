"""Small builders shared by tests: a tiny MLP and a rule bound to it."""
import jax
import jax.numpy as jnp
import ml_collections
import optax

import local_learning as ll
from local_learning import config as ll_config, models, registry


def tiny_mlp(widths=(16, 16), in_shape=(8, 8, 1), classes=10, activation='tanh'):
  """(FunctionalModel, initial params) of a small MLP."""
  cfg = ml_collections.ConfigDict(dict(name='mlp', widths=widths, activation=activation))
  model = models.functional(cfg, in_shape, classes)
  return model, model.init(jax.random.key(0))


def make_rule(name, model, num_steps=100, **overrides):
  cfg = ll_config.rule_config(name)
  cfg.update(overrides)
  return registry.get(name)(model, cfg, num_steps)


def batch(n=32, in_shape=(8, 8, 1), classes=10, seed=1):
  kx, ky = jax.random.split(jax.random.key(seed))
  return jax.random.normal(kx, (n, *in_shape)), jax.random.randint(ky, (n,), 0, classes)


def energy(pc, params, hidden, x, y):
  """A PC rule's per-sample energy (B,) at the activities `hidden`."""
  output = pc.output(y, pc.model.output(params, x), pc.config.beta)
  return ll.pc.energy(pc.model, params, hidden, x, output)


def infer(pc, params, x, y):
  """A PC rule's inference: (hidden activities, feedforward output)."""
  feedforward = pc.model.forward(params, x)
  output = pc.output(y, feedforward[-1], pc.config.beta)
  return ll.pc.infer(pc.model, params, x, output, pc.solver, feedforward)[0], feedforward[-1]


def plain_pc_inference(pc, params, x, y):
  """Reference PC inference: T optimizer steps on the gradient of the whole network's energy."""
  hidden = pc.model.forward(params, x)[:-1]
  tx = optax.sgd(pc.config.activity_lr, momentum=pc.config.activity_momentum or None)
  opt_state = tx.init(hidden)
  for _ in range(pc.inference_steps):
    grads = jax.grad(lambda h: jnp.sum(energy(pc, params, h, x, y)))(hidden)
    updates, opt_state = tx.update(grads, opt_state, hidden)
    hidden = optax.apply_updates(hidden, updates)
  return hidden
