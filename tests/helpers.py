"""Small builders shared by tests: local_learning.testing's tiny model and batch, and PC helpers."""
import jax
import jax.numpy as jnp
import optax

import local_learning as ll
from local_learning import testing

make_rule = testing.make_rule


def tiny_mlp(widths=(16, 16), in_shape=(8, 8, 1), classes=10, activation='tanh'):
  """(FunctionalModel, initial params) of a small MLP."""
  model = testing.tiny_model('mlp', in_shape, classes, widths=widths, activation=activation)
  return model, model.init(jax.random.key(0))


def batch(n=32, in_shape=(8, 8, 1), classes=10, seed=1):
  return testing.batch(n, in_shape, classes, seed)


def energy(pc, params, hidden, x, y):
  """A PC rule's per-sample energy (B,) at the activities `hidden`."""
  output = pc.output_term(y, pc.model.output(params, x), pc.config.beta)
  return ll.pc.energy(pc.model, params, hidden, x, output)


def infer(pc, params, x, y):
  """A PC rule's inference: (hidden activities, feedforward output)."""
  feedforward = pc.model.forward(params, x)
  output = pc.output_term(y, feedforward[-1], pc.config.beta)
  return ll.pc.infer(pc.model, params, x, output, pc.solver(x.shape[0]), feedforward)[0], feedforward[-1]


def plain_pc_inference(pc, params, x, y):
  """Reference PC inference: T optimizer steps on the gradient of the whole network's energy,
  summed or averaged over the batch as the rule's activity_energy says."""
  reduce = jnp.mean if pc.config.activity_energy == 'mean' else jnp.sum
  hidden = pc.model.forward(params, x)[:-1]
  tx = optax.sgd(pc.config.activity_lr, momentum=pc.config.activity_momentum or None)
  opt_state = tx.init(hidden)
  for _ in range(pc.inference_steps):
    grads = jax.grad(lambda h: reduce(energy(pc, params, h, x, y)))(hidden)
    updates, opt_state = tx.update(grads, opt_state, hidden)
    hidden = optax.apply_updates(hidden, updates)
  return hidden
