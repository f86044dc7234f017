"""The muPC train step written plainly, one array per layer: the baseline benchmarks/mupc_speed.py times.

What a user would write first (and what JPC does): the H hidden layers as a
Python list, the energy as a function of the list, plain autodiff for both
the activities' and the weights' gradients, T steps of gradient descent in a
`lax.fori_loop`, Adam on the weights, all in one jitted step. The network and
step are local-learning's `mupc` on `configs/depth.py` (resmlp, param='mupc'):
  z_1 = a_in x W_in,  z_l = z_{l-1} + a_hid relu(z_{l-1}) W_l,  out = a_out relu(z_H) W_out
with a_in = 1/sqrt(D), a_hid = 1/sqrt(N (H + 1)), a_out = 1/N; the energy is the
batch mean of sum_l 1/2 ||z_l - mu_l||^2 + 1/2 ||onehot(y) - out||^2; the
activities start at the forward pass and take T = H steps of `activity_lr` on
it; then one Adam step on its weight gradient. Same FLOPs as the stacked
step: (2 T + 3) matmuls per hidden layer. float32.
"""
import math

import jax
import jax.numpy as jnp
import optax


def init(key, in_features, width, depth, classes):
  """[W_in (D, N), W_1 .. W_{H-1} (N, N), W_out (N, C)], N(0, 1)."""
  shapes = [(in_features, width)] + [(width, width)] * (depth - 1) + [(width, classes)]
  return [jax.random.normal(k, s, jnp.float32) for k, s in zip(jax.random.split(key, len(shapes)), shapes)]


def make_step(in_features, width, depth, activity_lr=0.5, weight_lr=0.1):
  """(init_state(params) -> state, grads(params, x, y) -> weight gradients, step(state, x, y) -> state):
  one muPC step, to be jitted whole."""
  a_in, a_hid, a_out = 1 / math.sqrt(in_features), 1 / math.sqrt(width * (depth + 1)), 1 / width
  tx = optax.adam(weight_lr)

  def hidden_layer(w, z):
    return z + a_hid * (jax.nn.relu(z) @ w)

  def forward(params, x):
    zs = [a_in * (x @ params[0])]
    for w in params[1:-1]:
      zs.append(hidden_layer(w, zs[-1]))
    return zs

  def energy(zs, params, x, onehot):
    mus = [a_in * (x @ params[0])] + [hidden_layer(w, z) for w, z in zip(params[1:-1], zs[:-1])]
    out = a_out * (jax.nn.relu(zs[-1]) @ params[-1])
    total = sum(0.5 * jnp.sum(jnp.square(z - mu)) for z, mu in zip(zs, mus))
    return (total + 0.5 * jnp.sum(jnp.square(onehot - out))) / x.shape[0]

  def grads(params, x, y):
    x, onehot = x.reshape(x.shape[0], -1), jax.nn.one_hot(y, params[-1].shape[-1])

    def infer(_, zs):
      grads = jax.grad(energy)(zs, params, x, onehot)
      return [z - activity_lr * g for z, g in zip(zs, grads)]

    zs = jax.lax.fori_loop(0, depth, infer, forward(params, x))
    return jax.grad(energy, argnums=1)(zs, params, x, onehot)

  def step(state, x, y):
    params, opt_state = state
    updates, opt_state = tx.update(grads(params, x, y), opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  return lambda params: (params, tx.init(params)), grads, step
